"""wcitfeed: dated Markdown updates in, Atom and RSS feeds and HTML fragments out."""

__version__ = "0.1.0"
