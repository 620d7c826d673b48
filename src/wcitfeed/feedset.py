"""Which feeds exist, which entries each carries, and their RFC 5005 archives.

Every logical feed (the site, each category, each tag) has a live document with its newest
``feed_limit`` entries and, once it has more, archive pages of ``feed_limit`` entries each,
counted from the oldest. A page is written only when full, so adding posts never changes an
existing page: page 1 always holds the oldest entries. The live document overlaps the newest
page where needed so that every entry is reachable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from wcitfeed.errors import WcitfeedError
from wcitfeed.feeds import atom_document, rss_document
from wcitfeed.jsonfeed import json_document
from wcitfeed.model import FeedDoc, FeedLink, RenderedPost, Site, newest_first, slugify

FILE_NAMES = {"atom": "atom.xml", "rss": "rss.xml", "json": "feed.json"}
MEDIA_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}
FORMAT_NAMES = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}


@dataclass(frozen=True)
class LogicalFeed:
    """One subscribable feed before it is cut into documents."""

    prefix: str
    title: str
    group: str
    feed_id: str
    home_url: str
    entries: tuple[RenderedPost, ...]


@dataclass(frozen=True)
class FeedSet:
    """Every feed file by output path, the live ones by URL, and warnings."""

    files: dict[str, bytes]
    live: dict[str, str]
    links: tuple[FeedLink, ...]
    warnings: tuple[WcitfeedError, ...]


def logical_feeds(site: Site, posts: Sequence[RenderedPost]) -> list[LogicalFeed]:
    """List the site feed, then one per category and one per tag, as the settings ask."""
    ordered = tuple(newest_first(posts))
    site_id = site.feed_id or site.base_url
    feeds: list[LogicalFeed] = []
    if "site" in site.feeds:
        feeds.append(LogicalFeed("", site.title, "All updates", site_id, site.base_url, ordered))
    if "categories" in site.feeds:
        keys = [k for k, _ in site.categories]
        keys += sorted({p.post.category for p in ordered if p.post.category} - set(keys))
        for key in keys:
            prefix = f"categories/{slugify(key)}/"
            label = site.category_label(key)
            entries = tuple(p for p in ordered if p.post.category == key)
            feeds.append(
                LogicalFeed(
                    prefix,
                    f"{site.title}: {label}",
                    "Categories",
                    site.url(prefix),
                    f"{site.base_url}#{slugify(key)}",
                    entries,
                )
            )
    if "tags" in site.feeds:
        tags: dict[str, str] = {}
        for item in ordered:
            for tag in item.post.tags:
                tags.setdefault(slugify(tag), tag)
        for slug in sorted(tags):
            prefix = f"tags/{slug}/"
            entries = tuple(p for p in ordered if slug in {slugify(t) for t in p.post.tags})
            feeds.append(
                LogicalFeed(
                    prefix,
                    f"{site.title}: {tags[slug]}",
                    "Tags",
                    site.url(prefix),
                    site.base_url,
                    entries,
                )
            )
    return feeds


def build_feeds(site: Site, posts: Sequence[RenderedPost]) -> FeedSet:
    """Build every feed document in every format the settings ask for."""
    files: dict[str, bytes] = {}
    live: dict[str, str] = {}
    links: list[FeedLink] = []
    warnings: list[WcitfeedError] = []
    for feed in logical_feeds(site, posts):
        if not feed.entries and feed.prefix:
            continue  # a category with no posts yet gets its feed with its first post
        _build_one(site, feed, files, live, warnings)
        for fmt in site.formats:
            url = site.url(feed.prefix + FILE_NAMES[fmt])
            links.append(
                FeedLink(url, MEDIA_TYPES[fmt], f"{feed.title} ({FORMAT_NAMES[fmt]})", feed.group)
            )
    return FeedSet(files, live, tuple(links), tuple(warnings))


def _paths(feed: LogicalFeed, page: int | None) -> dict[str, str]:
    folder = feed.prefix if page is None else f"{feed.prefix}archive/{page}/"
    return {fmt: folder + name for fmt, name in FILE_NAMES.items()}


def _build_one(
    site: Site,
    feed: LogicalFeed,
    files: dict[str, bytes],
    live: dict[str, str],
    warnings: list[WcitfeedError],
) -> None:
    size = site.feed_limit
    total = len(feed.entries)
    pages = (total - 1) // size if size and total > size else 0
    oldest_first = feed.entries[::-1]

    def urls(page: int | None) -> dict[str, str]:
        return {fmt: site.url(path) for fmt, path in _paths(feed, page).items()}

    for page in range(1, pages + 1):
        chunk = oldest_first[(page - 1) * size : page * size][::-1]
        doc = FeedDoc(
            feed.title,
            site.subtitle,
            feed.feed_id,
            feed.home_url,
            urls(page),
            chunk,
            urls(page - 1) if page > 1 else None,
            urls(None),
            complete=False,
        )
        for fmt in site.formats:
            older = urls(page - 1)["json"] if page > 1 else None
            files[_paths(feed, page)[fmt]] = _serialise(site, doc, fmt, older)

    newest = feed.entries[:size] if size else feed.entries
    # Entries in no archive page must stay in the live feed whatever its size.
    must_keep = max(1, total - pages * size) if total else 0
    prev = urls(pages) if pages else None
    for fmt in site.formats:
        path = _paths(feed, None)[fmt]

        def render(count: int, fmt: str = fmt) -> bytes:
            doc = FeedDoc(
                feed.title,
                site.subtitle,
                feed.feed_id,
                feed.home_url,
                urls(None),
                newest[:count],
                prev,
                None,
                complete=not pages and count == total,
            )
            return _serialise(site, doc, fmt, prev["json"] if prev else None)

        data = _within_budget(render, len(newest), must_keep, site.feed_max_bytes)
        if site.feed_max_bytes and len(data) > site.feed_max_bytes:
            warnings.append(
                WcitfeedError(
                    f"is {len(data)} bytes, over feed_max_bytes = {site.feed_max_bytes} even with "
                    "only the entries no archive holds (lower feed_limit or raise the budget)",
                    path=site.output_dir / path,
                )
            )
        files[path] = data
        live[path] = site.url(path)


def _within_budget(render: Callable[[int], bytes], most: int, least: int, budget: int) -> bytes:
    """Return the document with the most entries (between least and most) under the budget."""
    data = render(most)
    if not budget or len(data) <= budget or most <= least:
        return data
    low, high = least, most - 1
    best = render(least)
    while low <= high:
        middle = (low + high) // 2
        candidate = render(middle)
        if len(candidate) <= budget:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best


def _serialise(site: Site, doc: FeedDoc, fmt: str, older_json: str | None) -> bytes:
    if fmt == "atom":
        return atom_document(site, doc)
    if fmt == "rss":
        return rss_document(site, doc)
    return json_document(site, doc, older_json)
