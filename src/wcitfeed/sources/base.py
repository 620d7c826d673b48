"""What every source tool shares: the front-matter mapping most of them agree on, and the
records a tool hands back to ``content`` (fields in, addresses and ids out).

A tool module answers four questions about one file: which wcitfeed fields its front
matter means (``map``), where the old tool published it and under which entry id
(``address``), what its template tags become (``markup``), and whether a file looks like
that tool's at all (``looks_like``, for the hint a build without ``from`` gives).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from wcitfeed.model import Post, Ref, Site, slugify

# Keys wcitfeed reads itself; every other key of another tool moves under ``extra``.
OWN_FIELDS = (
    "id",
    "title",
    "date",
    "updated",
    "slug",
    "category",
    "tags",
    "summary",
    "author",
    "draft",
    "minor",
    "image",
)
DATED_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[-_](.+)$")
PATH_DATE = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})(?:/|$)")
LOOSE_DATE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}:\d{2}(?::\d{2})?))?(?:\.\d+)?"
    r"(?:.*?\s?([+-]\d{2}:?\d{2}|Z))?\s*$"
)
BUNDLE_NAMES = ("index", "_index")


@dataclass(frozen=True)
class Mapped:
    """One file's front matter as wcitfeed fields, and what the old tool's rules need
    later: the original keys (``meta``), its folders and its name without the date."""

    fields: dict[str, Any]
    meta: dict[str, Any]
    folders: tuple[str, ...]
    name: str
    undated: bool = False


@dataclass(frozen=True)
class Address:
    """Where the old tool published a post, under which id, and in which of its feeds."""

    path: str
    entry_id: str
    aliases: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Markup:
    """A body with the tool's template tags resolved; the posts it links to by file, and
    the tags nothing could resolve (by line of the body, for a warning)."""

    body: str
    refs: tuple[Ref, ...] = ()
    unknown: tuple[tuple[int, str], ...] = field(default=())


# How a body's link to another post (``Ref.query``) becomes a URL: the build passes the
# resolved URLs in; a load that only checks passes nothing.
Links = Mapping[str, str]


class Tool:
    """The rules of one static site generator; subclasses fill in what differs."""

    name: ClassVar[str]
    label: ClassVar[str]
    feed_format: ClassVar[Literal["atom", "rss"]] = "atom"
    feed_limit: ClassVar[int | None] = None
    # A sentence that says what made a file look like this tool's, for the hint.
    signs: ClassVar[str] = ""

    def map(self, meta: dict[str, Any], rel: str, body: str, site: Site) -> Mapped | None:
        """Translate front matter to wcitfeed's fields; None for a file that is no post
        (no title and no text). Unknown keys move under ``extra``; a missing date comes
        from the file name or a 'YYYY/MM/DD' ``path``."""
        meta = {str(k): v for k, v in meta.items()}
        folders, name = split_rel(rel)
        extra = dict(meta["extra"]) if isinstance(meta.get("extra"), dict) else {}
        fields: dict[str, Any] = {}
        for key, value in meta.items():
            if key == "extra":
                continue
            if key in ("description", "excerpt") and "summary" not in meta:
                fields["summary"] = " ".join(map(str, value)) if isinstance(value, list) else value
            elif key == "categories":
                items = list_items(value)
                if items and "category" not in meta:
                    fields["category"] = str(items[0])
                fields["tags"] = [*map(str, items[1:]), *fields.get("tags", [])]
            elif key == "tags":
                fields["tags"] = [*fields.get("tags", []), *map(str, list_items(value))]
            elif key == "authors":
                fields["author"] = value
            elif key == "published" and value is False:
                fields["draft"] = True
            elif key in OWN_FIELDS:
                fields[key] = value
            else:
                extra[key] = value
        dated = DATED_NAME.match(name)
        if "date" not in fields:
            found = PATH_DATE.search(str(meta.get("path", "")))
            if dated:
                fields["date"] = "-".join(dated.groups()[:3])
            elif found:
                fields["date"] = "-".join(found.groups())
        if isinstance(fields.get("date"), str):
            fields["date"] = iso_date(fields["date"])
        bare = dated.group(4) if dated else name
        if not fields.get("title"):
            if not body.strip():
                return None
            fields["title"] = bare.replace("-", " ").strip().capitalize()
        if "slug" not in fields:
            # Nested posts keep their folders in the slug: blogs reuse names across sections.
            fields["slug"] = slugify("-".join([*folders, bare]))
        else:
            fields["slug"] = slugify(str(fields["slug"]))
        category = fields.get("category")
        if category is not None and site.categories and category not in dict(site.categories):
            extra["category"] = fields.pop("category")
        if extra:
            fields["extra"] = extra
        return Mapped(fields, meta, folders, bare, undated="date" not in fields)

    def address(self, mapped: Mapped, post: Post, site: Site) -> Address:
        """Return the post's old address, id and feeds (wcitfeed's own by default)."""
        return Address(f"posts/{post.slug}/", tag_id(site, post), aliases(mapped.meta))

    def markup(self, body: str, site: Site, links: Links | None = None) -> Markup:
        """Resolve the tool's template tags in a body (none by default)."""
        return Markup(body)

    def looks_like(self, meta: Mapping[str, Any], rel: str, kind: str) -> bool:
        """Say whether a file with this front matter was written for this tool."""
        return False

    def pattern_problem(self, pattern: str) -> str | None:
        """Say what is wrong with a permalink pattern of the settings (None: nothing)."""
        return None

    def old_feed_limit(self, site: Site) -> int | None:
        """Return how many entries the old tool's feeds carried (None: all)."""
        if site.old_feed_limit is None:
            return self.feed_limit
        return site.old_feed_limit or None


def split_rel(rel: str) -> tuple[tuple[str, ...], str]:
    """Split a post's path below the content folder into its folders and its name; a page
    bundle (``slug/index.md``) is named by its folder."""
    parts = rel.split("/")
    stem = posixpath.splitext(parts[-1])[0]
    folders = tuple(parts[:-1])
    if stem in BUNDLE_NAMES and folders:
        return folders[:-1], folders[-1]
    return folders, stem


def list_items(value: object) -> list[Any]:
    """Read a list field as these tools allow it: a list, a space-separated string, or
    one value."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def iso_date(text: str) -> str:
    """Rewrite the dates these tools accept ('2016-07-25 12:00:00 -0700') as ISO 8601."""
    match = LOOSE_DATE.match(text.strip())
    if not match:
        return text
    day, clock, offset = match.groups()
    value = day + (f"T{clock:0>5}" if clock else "")
    if clock and offset:
        value += offset if offset == "Z" or ":" in offset else f"{offset[:3]}:{offset[3:]}"
    return value


def tag_id(site: Site, post: Post) -> str:
    """Return wcitfeed's id for a post without one: a tag URI of the host, day and slug."""
    host = urlsplit(site.base_url).hostname or "localhost"
    return f"tag:{host},{post.date.date().isoformat()}:{post.slug}"


def aliases(meta: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the other addresses front matter gives a post (``aliases``, Jekyll's
    ``redirect_from``), as paths below the base URL."""
    found: list[str] = []
    for key in ("aliases", "redirect_from"):
        value = meta.get(key)
        items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        found += [str(item).lstrip("/") for item in items if str(item).strip("/")]
    return tuple(dict.fromkeys(found))


def site_path(site: Site) -> str:
    """Return the base URL's path without its final slash ('' at a domain's root):
    Jekyll's ``site.baseurl``."""
    return urlsplit(site.base_url).path.rstrip("/")


def clean_path(path: str) -> str:
    """Normalise an address to a path below the base URL, without its leading slash:
    doubled slashes go, as every one of these tools does."""
    return re.sub(r"/{2,}", "/", path).lstrip("/")


def fill(pattern: str, values: Mapping[str, str]) -> str:
    """Replace each ``:name`` placeholder of a permalink pattern by its value; the longest
    names first, so ``:i_month`` is not read as ``:i`` and ``_month``."""
    names = sorted(values, key=len, reverse=True)
    regex = re.compile(":(" + "|".join(map(re.escape, names)) + ")")
    return regex.sub(lambda m: values[m.group(1)], pattern)


DATE_PLACEHOLDERS = (
    "year",
    "month",
    "day",
    "i_month",
    "i_day",
    "short_year",
    "y_day",
    "hour",
    "minute",
    "second",
)


def date_values(when: datetime) -> dict[str, str]:
    """The date placeholders Jekyll and Hugo share."""
    return {
        "year": f"{when.year:04d}",
        "month": f"{when.month:02d}",
        "day": f"{when.day:02d}",
        "i_month": str(when.month),
        "i_day": str(when.day),
        "short_year": f"{when.year % 100:02d}",
        "y_day": f"{when.timetuple().tm_yday:03d}",
        "hour": f"{when.hour:02d}",
        "minute": f"{when.minute:02d}",
        "second": f"{when.second:02d}",
    }


def link_to(ref: Ref, refs: list[Ref], links: Links | None) -> str:
    """Note a body's link to another post by file (``ref``); return its URL when the
    build knows it (a load that only checks the post passes no ``links``)."""
    refs.append(ref)
    return links.get(ref.query, "") if links is not None else ""


def line_of(text: str, index: int) -> int:
    """Return the 1-based line of a position in ``text``."""
    return text.count("\n", 0, index) + 1


def replace_tags(
    body: str, pattern: re.Pattern[str], handle: Callable[[re.Match[str], int], str | None]
) -> tuple[str, list[tuple[int, str]]]:
    """Replace each match of ``pattern`` by what ``handle`` returns (given the match and its
    line); a None answer removes the tag and is listed as unknown."""
    unknown: list[tuple[int, str]] = []
    out: list[str] = []
    last = 0
    for match in pattern.finditer(body):
        out.append(body[last : match.start()])
        line = line_of(body, match.start())
        value = handle(match, line)
        if value is None:
            unknown.append((line, " ".join(match.group(0).split())[:60]))
        else:
            out.append(value)
        last = match.end()
    out.append(body[last:])
    return "".join(out), unknown


def unknown_placeholder(pattern: str, known: Iterable[str]) -> str | None:
    """Name the first ``:placeholder`` of a pattern that is not in ``known``, in a
    message; None when all are known."""
    names = sorted(known, key=len, reverse=True)
    for match in re.finditer(r":([a-z_]+)", pattern):
        if not any(match.group(1).startswith(name) for name in names):
            listed = ", ".join(f":{n}" for n in sorted(known))
            return f"has :{match.group(1)}, which is no placeholder of this tool ({listed})"
    return None
