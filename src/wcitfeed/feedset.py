"""Which feeds exist, which entries each carries, and their RFC 5005 archives.

Every logical feed (the site, each category, each tag) has a live document with its newest
``feed_limit`` entries and, once it has more, archive pages of ``feed_limit`` entries each,
counted from the oldest. A page is written only when full, so adding posts never changes an
existing page: page 1 always holds the oldest entries. The live document overlaps the newest
page where needed so that every entry is reachable.

Planning needs only the posts' front matter; HTML is asked for (``render``) only when a
document must really be written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from wcitfeed.errors import WcitfeedError
from wcitfeed.feeds import entries_bytes, entry_bytes
from wcitfeed.feeds import frame as feed_frame
from wcitfeed.jsonfeed import json_entry, json_frame
from wcitfeed.model import (
    EPOCH,
    FeedDoc,
    FeedLink,
    Post,
    RenderedPost,
    Site,
    category_prefix,
    latest_arrivals_first,
    newest_first,
    slugify,
    tag_prefix,
)

FILE_NAMES = {"atom": "atom.xml", "rss": "rss.xml", "json": "feed.json"}
MEDIA_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}
FORMAT_NAMES = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}
SITE_GROUP = "All updates"
ENDED_GROUP = "Ended feeds"
EMAIL_FEED = "email/rss.xml"


@dataclass(frozen=True, slots=True)
class LogicalFeed:
    """One subscribable feed before it is cut into documents."""

    prefix: str
    title: str
    group: str
    feed_id: str
    home_url: str
    posts: tuple[Post, ...]
    kind: str = "site"
    # An ended feed (no posts now) is dated when its last post changed or went.
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DocPlan:
    """One feed file to write: everything it is made of, so its repr is its cache key."""

    path: str
    fmt: str
    title: str
    subtitle: str
    feed_id: str
    home_url: str
    self_urls: tuple[tuple[str, str], ...]
    posts: tuple[Post, ...]
    prev_archive: tuple[tuple[str, str], ...] | None
    current: tuple[tuple[str, str], ...] | None
    live: bool
    must_keep: int
    total: int
    next_archive: tuple[tuple[str, str], ...] | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """The posts of one category or tag: its own page lists them and its feeds carry them."""

    kind: Literal["categories", "tags"]
    key: str
    label: str
    prefix: str
    posts: tuple[Post, ...]


def groups(site: Site, posts: Sequence[Post]) -> list[Group]:
    """List each category (in the settings' order, then others) and each tag with posts,
    newest post first. A tag's slug is its key: 'Square brackets' and 'square-brackets'
    are one tag."""
    ordered = tuple(newest_first(posts))
    found: list[Group] = []
    keys = [k for k, _ in site.categories]
    keys += sorted({p.category for p in ordered if p.category} - set(keys))
    for key in keys:
        entries = tuple(p for p in ordered if p.category == key)
        if entries:
            label = site.category_label(key)
            found.append(Group("categories", key, label, category_prefix(key), entries))
    tags: dict[str, str] = {}
    by_tag: dict[str, list[Post]] = {}
    for post in ordered:
        for slug in dict.fromkeys(slugify(t) for t in post.tags):
            by_tag.setdefault(slug, []).append(post)
        for tag in post.tags:
            tags.setdefault(slugify(tag), tag)
    for slug in sorted(by_tag):
        found.append(Group("tags", slug, tags[slug], tag_prefix(slug), tuple(by_tag[slug])))
    return found


def logical_feeds(
    site: Site,
    posts: Sequence[Post],
    found: Sequence[Group],
    ended: Mapping[str, datetime] | None = None,
) -> list[LogicalFeed]:
    """List the site feed, then one per category and one per tag (``found`` by
    ``groups``), as the settings ask.

    A category or tag appears with its first post. One that had posts once and has none
    now (``ended``, from the ledger) stays, empty and valid, under "Ended feeds": its
    subscribers get a feed that says nothing new, never a 404.
    """
    feeds: list[LogicalFeed] = []
    if "site" in site.feeds:
        site_id = site.feed_id or site.base_url
        ordered = tuple(newest_first(posts))
        feeds.append(
            LogicalFeed("", site.title, SITE_GROUP, site_id, site.base_url, ordered, "site")
        )
    headings = {"categories": "Categories", "tags": "Tags"}
    for group in found:
        if group.kind in site.feeds:
            feeds.append(
                LogicalFeed(
                    group.prefix,
                    f"{site.title}: {group.label}",
                    headings[group.kind],
                    site.url(group.prefix),
                    # The feed's web page: its listing, or the site's when there is none.
                    site.listing_url(group.prefix) or site.base_url,
                    group.posts,
                    group.kind,
                )
            )
    live = {feed.prefix for feed in feeds}
    for prefix in sorted(set(ended or {}) - live):
        kind = "categories" if prefix.startswith("categories/") else "tags"
        if kind not in site.feeds:
            continue
        name = prefix.rstrip("/").rsplit("/", 1)[-1]
        feeds.append(
            LogicalFeed(
                prefix,
                f"{site.title}: {name}",
                ENDED_GROUP,
                site.url(prefix),
                site.base_url,
                (),
                kind,
                ended_at=(ended or {})[prefix],
            )
        )
    return feeds


def feed_links(site: Site, feeds: Sequence[LogicalFeed]) -> list[FeedLink]:
    """Return every live feed in every format, as pages list them."""
    return [
        FeedLink(
            site.url(feed.prefix + FILE_NAMES[fmt]),
            MEDIA_TYPES[fmt],
            f"{feed.title} ({FORMAT_NAMES[fmt]})",
            feed.group,
        )
        for feed in feeds
        for fmt in site.formats
    ]


def plan_documents(site: Site, feed: LogicalFeed) -> list[DocPlan]:
    """Cut one logical feed into its archive pages and live document, in every format."""
    size = site.feed_limit
    total = len(feed.posts)
    # A feed not named in ``archives`` is a window of its newest entries, as readers
    # expect of a tag's feed: it has no archive pages.
    archived = feed.kind in site.archives
    pages = (total - 1) // size if archived and size and total > size else 0
    # Pages follow arrival, not date: a post backdated today lands in the live document
    # (where subscribers see it), and a full archive page never gains an entry.
    arrivals = tuple(latest_arrivals_first(feed.posts))
    oldest_first = arrivals[::-1]

    def folder(page: int | None) -> str:
        return feed.prefix if page is None else f"{feed.prefix}archive/{page}/"

    def urls(page: int | None) -> tuple[tuple[str, str], ...]:
        return tuple((fmt, site.url(folder(page) + name)) for fmt, name in FILE_NAMES.items())

    def documents(
        page: int | None,
        posts: tuple[Post, ...],
        prev: int | None,
        must_keep: int,
        count: int,
        following: int | None = None,
    ) -> list[DocPlan]:
        """One document per format; ``prev`` is the next older archive page, if any, and
        ``following`` the next newer one."""
        return [
            DocPlan(
                folder(page) + FILE_NAMES[fmt],
                fmt,
                feed.title,
                site.subtitle,
                feed.feed_id,
                feed.home_url,
                urls(page),
                posts,
                urls(prev) if prev else None,
                None if page is None else urls(None),
                live=page is None,
                must_keep=must_keep,
                total=count,
                next_archive=urls(following) if following else None,
                ended_at=feed.ended_at,
            )
            for fmt in site.formats
        ]

    plans: list[DocPlan] = []
    for page in range(1, pages + 1):
        chunk = oldest_first[(page - 1) * size : page * size][::-1]
        # An archive page links the next newer one once it exists: the link is all that
        # changes in a published page (its entries never do), as RFC 5005 pages chain.
        following = page + 1 if page < pages else None
        plans += documents(page, chunk, page - 1 or None, len(chunk), len(chunk), following)
    newest = arrivals[:size] if size else arrivals
    # Entries in no archive page must stay in the live feed whatever its size; a window
    # keeps at least its newest entry.
    must_keep = min(total, max(1, total - pages * size if archived else 1))
    plans += documents(None, newest, pages or None, must_keep, total)
    return plans


def old_tool_plans(site: Site, posts: Sequence[Post], fmt: str, limit: int | None) -> list[DocPlan]:
    """Plan the feeds of the tool the site moved from, at their old paths (each post's
    ``old_feeds``), in that tool's format and window, newest first as it wrote them: a
    subscriber of the old feed finds every entry they had, under the same id."""
    by_path: dict[str, list[Post]] = {}
    for post in newest_first(posts):
        for path in post.old_feeds:
            by_path.setdefault(path, []).append(post)
    plans = []
    for path, found in sorted(by_path.items()):
        chosen = tuple(found[:limit] if limit else found)
        title = site.title if len(found) == len(posts) else f"{site.title}: {_feed_name(path)}"
        plans.append(_single_document(site, path, fmt, title, chosen, len(found), live=True))
    return plans


def _single_document(
    site: Site,
    path: str,
    fmt: str,
    title: str,
    posts: tuple[Post, ...],
    total: int,
    *,
    live: bool,
) -> DocPlan:
    """Plan a feed that is one document in one format, with no archives: its own URL is
    its id, and it keeps at least its newest entry. ``total`` counts the entries the feed
    has beyond its window (it is complete when that is all of them)."""
    url = site.url(path)
    return DocPlan(
        path,
        fmt,
        title,
        site.subtitle,
        url,
        site.base_url,
        ((fmt, url),),
        posts,
        None,
        None,
        live=live,
        must_keep=min(1, len(posts)),
        total=total,
    )


def _feed_name(path: str) -> str:
    """Name a feed by its path: ``tags/go/index.xml`` is "go", ``feeds/news.atom.xml``
    "news"."""
    folder, _, name = path.rpartition("/")
    stem = name.split(".")[0]
    return folder.rpartition("/")[2] if stem in ("index", "feed", "atom", "rss") else stem


def email_plan(site: Site, posts: Sequence[Post]) -> DocPlan:
    """Plan the e-mail feed: an RSS window of the newest posts, whose items the build
    fills with e-mail-safe HTML (see ``plan.Maker.email_entry``)."""
    newest = tuple(newest_first(posts))
    newest = newest[: site.feed_limit] if site.feed_limit else newest
    return _single_document(site, EMAIL_FEED, "rss", site.title, newest, len(newest), live=False)


def make_document(
    site: Site, plan: DocPlan, entry: Callable[[Post, str], bytes]
) -> tuple[bytes, list[WcitfeedError]]:
    """Assemble a planned document from its entries' bytes, trimmed to the byte budget if
    it is a live feed. ``entry(post, fmt)`` gives an entry as made once for this build."""
    chunks, warnings = document_chunks(site, plan, entry)
    return b"".join(chunks), warnings


def document_chunks(
    site: Site, plan: DocPlan, entry: Callable[[Post, str], bytes]
) -> tuple[Iterator[bytes], list[WcitfeedError]]:
    """Plan a document as a stream of byte chunks (head, entries, tail), so that a
    document of thousands of entries is written without being held in memory. Entries
    are asked for twice only under a byte budget: once for their sizes, once to be
    written."""
    budget = site.feed_max_bytes if plan.live else 0
    sizes = [len(entry(post, plan.fmt)) for post in plan.posts] if budget else []
    joiner = b"," if plan.fmt == "json" else b""
    self_urls, prev = dict(plan.self_urls), dict(plan.prev_archive or ())
    current = dict(plan.current) if plan.current else None

    def frame(count: int) -> tuple[bytes, bytes]:
        doc = FeedDoc(
            plan.title,
            plan.subtitle,
            plan.feed_id,
            plan.home_url,
            self_urls,
            (),
            prev or None,
            current,
            complete=plan.live and not prev and count == plan.total,
            updated_at=max(
                (p.last_modified for p in plan.posts[:count]), default=plan.ended_at or EPOCH
            ),
            next_archive=dict(plan.next_archive) if plan.next_archive else None,
        )
        if plan.fmt == "json":
            return json_frame(site, doc, prev.get("json"))
        return feed_frame(site, doc, plan.fmt)

    def size(count: int) -> int:
        head, tail = frame(count)
        return len(head) + sum(sizes[:count]) + len(joiner) * max(0, count - 1) + len(tail)

    count = _most_within_budget(size, len(plan.posts), plan.must_keep, budget)
    head, tail = frame(count)
    warnings: list[WcitfeedError] = []
    if budget and (total := size(count)) > budget:
        warnings.append(
            WcitfeedError(
                f"is {total} bytes, over feed_max_bytes = {budget} even with only the "
                "entries no archive holds (lower feed_limit or raise the budget)",
                path=site.output_dir / plan.path,
            )
        )

    def chunks() -> Iterator[bytes]:
        yield head
        for number, post in enumerate(plan.posts[:count]):
            if number and joiner:
                yield joiner
            yield entry(post, plan.fmt)
        yield tail

    return chunks(), warnings


def make_entry(site: Site, item: RenderedPost, fmt: str) -> bytes:
    """Serialise one rendered post as an entry of a document in ``fmt``."""
    return json_entry(site, item) if fmt == "json" else entry_bytes(site, item, fmt)


def make_entries(site: Site, items: Sequence[RenderedPost], fmt: str) -> list[bytes]:
    """Serialise rendered posts as entries in ``fmt``, each as ``make_entry`` would, but
    faster together."""
    if fmt == "json":
        return [json_entry(site, item) for item in items]
    return entries_bytes(site, items, fmt)


def _most_within_budget(size: Callable[[int], int], most: int, least: int, budget: int) -> int:
    """Return the most entries (between least and most) whose document fits the budget."""
    if not budget or most <= least or size(most) <= budget:
        return most
    low, high, best = least, most - 1, least
    while low <= high:
        middle = (low + high) // 2
        if size(middle) <= budget:
            best, low = middle, middle + 1
        else:
            high = middle - 1
    return best
