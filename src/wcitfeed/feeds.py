"""Atom and RSS documents from rendered posts. The only module that touches feedgen.

feedgen fills in the current time wherever a date is left unset and prepends entries by
default; here every date is set from the content and entries are appended in our own order,
so the same posts always give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from wcitfeed import __version__
from wcitfeed.model import Author, RenderedPost, Site

ATOM_PATH = "atom.xml"
RSS_PATH = "rss.xml"
# A feed with no entries still needs an <updated>; the epoch keeps it independent of the clock.
_EMPTY_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)


def feed_links(site: Site) -> list[tuple[str, str, str]]:
    """Return (URL, media type, title) of every feed, for autodiscovery links."""
    return [
        (site.url(ATOM_PATH), "application/atom+xml", f"{site.title} (Atom)"),
        (site.url(RSS_PATH), "application/rss+xml", f"{site.title} (RSS)"),
    ]


def newest_first(posts: Sequence[RenderedPost]) -> list[RenderedPost]:
    """Order posts newest first; the id breaks ties so the order never depends on file names."""
    return sorted(posts, key=lambda p: (p.post.date, p.post.id), reverse=True)


def build_feeds(site: Site, posts: Sequence[RenderedPost]) -> dict[str, bytes]:
    """Return the Atom and RSS documents, keyed by their path in the output folder."""
    entries = newest_first(posts)
    if site.feed_limit:
        entries = entries[: site.feed_limit]
    atom = _generator(site, entries, site.url(ATOM_PATH), rss=False)
    rss = _generator(site, entries, site.url(RSS_PATH), rss=True)
    return {
        ATOM_PATH: atom.atom_str(pretty=True, encoding="UTF-8"),
        RSS_PATH: rss.rss_str(pretty=True, encoding="UTF-8"),
    }


def _generator(
    site: Site, entries: Sequence[RenderedPost], self_url: str, *, rss: bool
) -> FeedGenerator:
    fg = FeedGenerator()
    if rss:
        fg.load_extension("dc", atom=False, rss=True)
    fg.id(site.feed_id or site.base_url)
    fg.title(site.title)
    fg.subtitle(site.subtitle or site.title)
    fg.language(site.language)
    fg.generator("wcitfeed", version=__version__)
    if site.rights:
        fg.rights(site.rights)
    if site.authors:
        fg.author([_author(a) for a in site.authors])
    # feedgen takes the RSS <link> from the last link added: self first, then the site.
    fg.link(
        href=self_url, rel="self", type="application/rss+xml" if rss else "application/atom+xml"
    )
    fg.link(href=site.base_url, rel="alternate", type="text/html")
    fg.updated(max((p.post.last_modified for p in entries), default=_EMPTY_UPDATED))
    for item in entries:
        _entry(fg.add_entry(order="append"), site, item, rss=rss)
    return fg


def _entry(fe: FeedEntry, site: Site, item: RenderedPost, *, rss: bool) -> None:
    post = item.post
    fe.id(post.id)
    fe.guid(post.id, permalink=False)
    fe.title(post.title)
    fe.link(href=item.url, rel="alternate", type="text/html")
    fe.published(post.date)
    fe.updated(post.last_modified)
    fe.content(item.body_html, type="html")
    fe.summary(item.summary)
    if post.category:
        fe.category(
            term=post.category,
            label=site.category_label(post.category),
            scheme=site.url("categories/"),
        )
    for tag in post.tags:
        fe.category(term=tag, label=tag, scheme=site.url("tags/"))
    if post.authors:
        fe.author([_author(a) for a in post.authors])
        if rss:
            # RSS <author> must be an e-mail address; names go in dc:creator.
            for author in post.authors:
                fe.dc.dc_creator(author.name)


def _author(author: Author) -> dict[str, str]:
    fields = {"name": author.name, "email": author.email, "uri": author.uri}
    return {key: value for key, value in fields.items() if value}
