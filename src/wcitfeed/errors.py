"""The errors a user can act on: each names a file, a line and a field."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path


class WcitfeedError(Exception):
    """A problem in the user's input, located and with a hint of what to write instead."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.field = field

    def location(self) -> str:
        """Return ``path:line`` as far as it is known."""
        if self.path is None:
            return ""
        shown = _display_path(self.path)
        return f"{shown}:{self.line}" if self.line else shown

    def __str__(self) -> str:
        where = self.location()
        what = f"'{self.field}' {self.message}" if self.field else self.message
        # One readable line, however large the value that caused it.
        return clip(f"{where}: {what}" if where else what, MAX_MESSAGE)


# The longest line a problem prints; values quoted in it are cut shorter still.
MAX_MESSAGE = 500


def clip(text: str, limit: int = 80) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(value: object, limit: int = 80) -> str:
    """Show a value in a message, cut short: a repr can be megabytes."""
    if isinstance(value, list | tuple | dict) and len(value) > 8:
        return f"a {type(value).__name__} of {len(value):,} items"
    return clip(repr(value), limit)


class ConfigError(WcitfeedError):
    """The settings file is missing, unreadable or has a wrong key or value."""


class ContentError(WcitfeedError):
    """A post cannot be read or its front matter is wrong."""


class TemplateError(WcitfeedError):
    """A template cannot be parsed or refers to something that does not exist."""


class Refused(WcitfeedError):
    """A build that would do harm a person should confirm: withdraw most published posts,
    or run with a clock earlier than the ledger's records or far ahead of the machine's."""


class EnvironmentProblem(WcitfeedError):
    """The machine, not the input, stopped the work: a permission, a full or read-only
    disk, a path of the wrong kind. Nothing published is lost; fix it and run again."""


class Problems(WcitfeedError):
    """Every problem found in one run, so an author fixes them all at once."""

    def __init__(self, problems: Iterable[WcitfeedError]) -> None:
        self.problems = sorted(problems, key=lambda p: (str(p.path or ""), p.line or 0))
        super().__init__("\n".join(str(p) for p in self.problems))


def _display_path(path: Path) -> str:
    """Show a path relative to the working directory when it lies below it."""
    # abspath, not resolve: a symbolic link is named as itself, not as its target.
    try:
        return str(Path(os.path.abspath(path)).relative_to(Path.cwd().resolve()))  # noqa: PTH100
    except ValueError:
        return str(path)


def json_key_line(text: str, key: str) -> int | None:
    """Find the line of a key in a JSON file's text (the json module keeps no positions)."""
    found = text.find(json.dumps(key) + ":")
    return text.count("\n", 0, found) + 1 if found >= 0 else None
