"""Typed, frozen records that flow through the pipeline: settings, posts, rendered posts."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

# A feed with no entries still needs a date; the epoch keeps it independent of the clock.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Author:
    """A person or organisation credited for a post or a feed."""

    name: str
    email: str | None = None
    uri: str | None = None


@dataclass(frozen=True)
class Mail:
    """How digests are addressed and sent (the mail_* and smtp_* settings)."""

    sender: str | None = None
    list_id: str | None = None
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None
    footer: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str | None = None
    smtp_password_file: Path | None = None


@dataclass(frozen=True)
class Site:
    """The settings of one site, read from ``wcitfeed.toml``."""

    title: str
    subtitle: str
    base_url: str
    language: str
    timezone: ZoneInfo
    authors: tuple[Author, ...]
    feed_limit: int
    summary_length: int
    categories: tuple[tuple[str, str], ...]
    rights: str | None
    feed_id: str | None
    feed_max_bytes: int
    formats: tuple[str, ...]
    feeds: tuple[str, ...]
    hub: str | None
    icon: str | None
    logo: str | None
    content_dir: Path
    templates_dir: Path
    output_dir: Path
    cache_dir: Path
    ledger: Path | None
    lenient: bool
    template_tags: str
    max_post_bytes: int
    source: Path | None
    removal_limit: int = 50
    archives: tuple[str, ...] = ("site", "categories")
    page_size: int = 10
    mail: Mail = Mail()
    email_feed: bool = False
    fragments: bool = True
    # False: no listing pages (categories/, tags/, updates/), and nothing links to them.
    listings: bool = True
    email_fragments: bool = False
    # The tool the site moved from (the "from" setting), and that tool's URL settings.
    from_tool: str | None = None
    permalink: str | None = None
    permalinks: tuple[tuple[str, str], ...] = ()
    old_feed_limit: int | None = None
    variables: tuple[tuple[str, str], ...] = ()
    # False when the settings file names no formats: the ledger then settles them.
    formats_given: bool = True
    # False when the settings file leaves email_fragments unset: the ledger settles it.
    email_fragments_given: bool = True

    def category_label(self, key: str | None) -> str:
        """Return the human name of a category key (the key itself when none is set)."""
        if key is None:
            return ""
        return dict(self.categories).get(key, key)

    def url(self, path: str) -> str:
        """Return the absolute URL of a path below the site's base URL."""
        return self.base_url + path.lstrip("/")

    def listing_url(self, prefix: str) -> str | None:
        """Return the URL of the listing page in folder ``prefix``; None when the site
        writes no listing pages (``listings = false``)."""
        return self.url(prefix) if self.listings else None

    def rel(self, path: Path) -> str:
        """Return a file's path below the content folder, with '/' between folders.

        String work, not ``Path.relative_to``: builds ask it once per post.
        """
        text, root = os.fspath(path), os.fspath(self.content_dir)
        return text[len(root) + 1 :].replace(os.sep, "/") if text.startswith(root) else text


@dataclass(frozen=True, slots=True)
class Ref:
    """A post named by another post's text: a file path below the site's source, or a
    post's file name without its extension (``query``), and the line that names it."""

    query: str
    line: int


@dataclass(frozen=True, slots=True)
class Post:
    """One update's checked front matter. The Markdown body travels separately (it is
    large, and an unchanged post's body is read only when something must be rendered).
    Every field goes into the post's key (``keys.post_key``)."""

    source: Path
    id: str
    title: str
    slug: str
    date: datetime
    updated: datetime | None
    category: str | None
    tags: tuple[str, ...]
    summary: str | None
    authors: tuple[Author, ...]
    draft: bool
    minor: bool
    image: str | None
    digest: str
    # Files below content/ the post's text may show (images, linked files), by their path
    # below content/: a change to one of them can change what the post renders to.
    assets: tuple[str, ...] = ()
    # False when the date was written without a time of day: pages show no "00:00" then.
    timed: bool = True
    # When the post reached the feeds (from the ledger); None before it was published.
    arrived: datetime | None = None
    # Where the post's page is, below the base URL ("" for wcitfeed's own posts/<slug>/):
    # a site that moved from another tool keeps that tool's addresses.
    path: str = ""
    # Other addresses of the post (Hugo's aliases, Jekyll's redirect_from), below the base
    # URL: each gets a page that redirects to the post.
    aliases: tuple[str, ...] = ()
    # True when the id was not written in the file but made by the rules of the tool the
    # site came from: the ledger then keeps the first one made, whatever is edited later.
    derived_id: bool = False
    # Other posts the text links to by file (Jekyll's {% link %}, Hugo's ref), resolved
    # when the post is rendered.
    refs: tuple[Ref, ...] = ()
    # The old tool's feeds the post was in (by path below the base URL): wcitfeed keeps
    # writing them so their subscribers see no entry twice.
    old_feeds: tuple[str, ...] = ()

    @property
    def last_modified(self) -> datetime:
        """Return when the post last changed: ``updated`` if given, else ``date``."""
        return self.updated or self.date


@dataclass(frozen=True, slots=True)
class Image:
    """A post's picture by absolute URL; length and type only when it is a file we publish."""

    url: str
    length: int | None = None
    media_type: str | None = None


@dataclass(frozen=True, slots=True)
class RenderedPost:
    """A post with its HTML body (as feeds carry it), summary, page URL and image."""

    post: Post
    url: str
    body_html: str
    summary: str
    image: Image | None


@dataclass(frozen=True)
class FeedDoc:
    """One feed document in one logical feed: the live one or an RFC 5005 archive page.

    URLs are by format ("atom", "rss", "json"); ``prev_archive`` points to the next older
    archive page, ``current`` (archives only) back to the live feed.
    """

    title: str
    subtitle: str
    feed_id: str
    home_url: str
    self_urls: dict[str, str]
    entries: tuple[RenderedPost, ...]
    prev_archive: dict[str, str] | None
    current: dict[str, str] | None
    complete: bool
    # The document's date when its entries are not in ``entries`` (see feeds.frame).
    updated_at: datetime | None = None
    # Archives only: the next newer archive page, once it exists (RFC 5005 next-archive).
    next_archive: dict[str, str] | None = None

    def updated(self) -> datetime:
        """Return the document's date: its newest entry's, never the build's."""
        if self.updated_at is not None:
            return self.updated_at
        return max((p.post.last_modified for p in self.entries), default=EPOCH)


@dataclass(frozen=True, slots=True)
class FeedLink:
    """A live feed as a page lists it: URL, media type, title and group heading."""

    url: str
    media_type: str
    title: str
    group: str

    @property
    def format_name(self) -> str:
        """Name the feed's format as a subscribe link shows it: Atom, RSS or JSON Feed."""
        names = {"application/atom+xml": "Atom", "application/rss+xml": "RSS"}
        return names.get(self.media_type, "JSON Feed")


@functools.lru_cache(maxsize=65536)
def slugify(text: str) -> str:
    """Make a lower-case URL name of letters, digits, '-' and '_'.

    python-slugify transliterates, so "Café à Paris" gives ``cafe-a-paris`` and Greek or
    Japanese titles give readable Latin names; text with no letters at all (emoji, say)
    gives ``post-`` and a short digest of it, distinct for distinct text. Remembered: a
    build asks for each tag's slug once per post and feed.
    """
    from slugify import slugify as transliterated  # here: a build with nothing to do never slugs

    slug = transliterated(text, regex_pattern=r"[^-a-z0-9_]+").strip("-_")
    if slug:
        return slug
    return "post-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def latest_arrivals_first(posts: Iterable[Post]) -> list[Post]:
    """Order posts by when they reached the feeds, latest first (then by date and id): a
    post backdated today counts as today's."""
    return sorted(posts, key=lambda p: (p.arrived or p.date, p.date, p.id), reverse=True)


def newest_first(posts: Iterable[Post]) -> list[Post]:
    """Order posts newest first; the id breaks ties so the order never depends on file names."""
    # By timestamp: comparing aware datetimes asks each for its offset, every comparison.
    return sorted(posts, key=lambda p: (p.date.timestamp(), p.id), reverse=True)


def published(posts: Iterable[Post], now: datetime, *, drafts: bool = False) -> list[Post]:
    """Keep the posts a reader may see at ``now``: due, and not drafts (unless previewing)."""
    return [p for p in posts if (drafts or not p.draft) and p.date <= now]


# Cached: one string per category or tag, shared by every post's ledger record (a copy
# each took ~17 MiB at 100,000 posts), and slugified once.
@functools.cache
def category_prefix(key: str) -> str:
    """Return the folder of a category's pages and feeds: ``categories/<slug>/``."""
    return f"categories/{slugify(key)}/"


@functools.cache
def tag_prefix(tag: str) -> str:
    """Return the folder of a tag's pages and feeds: ``tags/<slug>/``."""
    return f"tags/{slugify(tag)}/"


def feed_prefixes(site: Site, post: Post) -> list[str]:
    """Name the category and tag feeds a post is in, by folder (as the ledger keeps them)."""
    found = []
    if post.category and "categories" in site.feeds:
        found.append(category_prefix(post.category))
    if "tags" in site.feeds:
        found += [tag_prefix(tag) for tag in post.tags]
    return found


def post_path(post: Post) -> str:
    """Return the path of a post's page below the base URL: where the tool the site came
    from published it, else ``posts/<slug>/``."""
    return post.path or f"posts/{post.slug}/"


def page_file(path: str) -> str:
    """Return the file that serves a page's path: ``index.html`` in a folder's."""
    return path + "index.html" if path.endswith("/") or not path else path
