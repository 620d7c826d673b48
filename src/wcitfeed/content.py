"""Loading posts: Markdown files with YAML front matter in, checked ``Post`` records out.

Every file is checked and every problem collected before anything is reported, so an author
fixing ten posts sees ten lines in one run. A file whose size and modification time match
the cache is not read again: its checked front matter comes from the cache.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import posixpath
import re
import sys
import tomllib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from wcitfeed import front_matter, sources
from wcitfeed.config import parse_authors
from wcitfeed.errors import ConfigError, ContentError, Problems, WcitfeedError, quote
from wcitfeed.model import Post, Site, post_path, slugify
from wcitfeed.scan import Source, unreadable
from wcitfeed.workers import worker_pool

FIELDS = {
    "id": "permanent entry id, e.g. urn:uuid:… (required)",
    "title": "title (required)",
    "date": "publication date with offset, e.g. 2012-12-07T19:00:00+04:00 (required)",
    "updated": "date of the last real change, same form as date",
    "slug": "URL name; defaults to the file name",
    "category": "one category key",
    "tags": "list of tags",
    "summary": "one or two plain-text sentences",
    "author": "a name, a {name, email, uri} mapping or a list of these",
    "draft": "true keeps the post out of every output",
    "minor": "true: this edit does not move the entry's updated date",
    "image": "picture for feed readers: a URL or a path like the body's links",
    "extra": "a mapping of your own keys, ignored by wcitfeed",
}
REQUIRED = ("id", "title", "date")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Characters XML 1.0 forbids (C0 controls but tab and newlines, lone surrogates, U+FFFE/F)
# and the C1 controls it discourages: they never reach a feed.
FORBIDDEN_RE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"
)
MORE_RE = re.compile(r"^\s*<!--\s*more\s*-->\s*$", re.MULTILINE)
# Dates every feed format and time zone conversion can carry (RFC 822 wants four digits).
FIRST_YEAR, LAST_YEAR = 1000, 9000
# Bodies a build keeps in memory after checking them (the rest are read again to render).
KEPT_BODIES = 500
# Posts to read before reading them on every core pays for starting the processes.
PARALLEL_READ = 1000
# Lines or characters a message lists before it says 'and N more'.
MAX_LISTED = 5

# Files with another tool's front matter, by that tool, with the problems of each.
Foreign = dict[str, list[tuple[Path, list[WcitfeedError]]]]
# One post read: the post (None when it has problems), its body when kept, its problems.
ReadPost = tuple[Post | None, str | None, list[WcitfeedError]]


@dataclass(frozen=True)
class Loaded:
    """Checked posts, the bodies read in this run (by source path), and warnings."""

    posts: list[Post]
    bodies: dict[Path, str]
    warnings: list[WcitfeedError]
    invalid: list[WcitfeedError] = field(default_factory=list)


def load_posts(
    site: Site,
    sources: list[Source],
    cached: Mapping[str, tuple[int, int, Post]],
    *,
    skip_invalid: bool = False,
) -> Loaded:
    """Check every post; read only those the cache does not vouch for.

    Raise ``Problems`` listing every fault in every file; with ``skip_invalid``, leave the
    faulty posts out and return their problems in ``invalid`` instead.
    """
    # A pattern no post can be placed by: said once, before any post is read.
    wrong = _pattern_problems(site)
    if wrong:
        raise Problems(wrong)
    posts: list[Post] = []
    bodies: dict[Path, str] = {}
    problems: list[WcitfeedError] = []
    warnings: list[WcitfeedError] = []
    # Files with another tool's front matter, by that tool ("" when no tool's signs show),
    # with the problems each would report on its own.
    foreign: Foreign = {}
    fresh = [s for s in sources if not _vouched(cached.get(s.rel), s)]
    read = dict(zip(fresh, _read_posts(site, fresh, warnings, foreign), strict=True))
    for source in sources:
        if source not in read:
            posts.append(cached[source.rel][2])
            continue
        post, body, found = read[source]
        problems.extend(found)
        if post is not None:
            posts.append(post)
            # Bodies are kept for small builds only; a large one re-reads each when it is
            # rendered, so memory does not grow with the size of the site.
            if body is not None and len(bodies) < KEPT_BODIES:
                bodies[post.source] = body
    problems.extend(_foreign_hints(site, foreign))
    duplicates = _duplicates(posts)
    problems.extend(duplicates)
    if problems and not skip_invalid:
        raise Problems(problems)
    if duplicates:
        # Keep the first post of each id or slug, as the messages say.
        named = {p.path for p in duplicates}
        posts = [p for p in posts if p.source not in named]
    return Loaded(posts, bodies, warnings, problems)


def _vouched(hit: tuple[int, int, Post] | None, source: Source) -> bool:
    """Say whether the cache holds this very file's post (same mtime and size)."""
    return hit is not None and hit[:2] == (source.mtime_ns, source.size)


def _read_posts(
    site: Site, fresh: list[Source], warnings: list[WcitfeedError], foreign: Foreign
) -> list[ReadPost]:
    """Read and check ``fresh`` in order: on every core when there are many (a cold build).

    Posts read by other processes come without their bodies, which would cost more to send
    back than to read again when they are rendered.
    """
    cores = os.cpu_count() or 1
    if len(fresh) < PARALLEL_READ or cores < 2:
        return [_load_post(s.path, site.content_dir, site, warnings, foreign) for s in fresh]
    size = -(-len(fresh) // (cores * 4))
    chunks = [fresh[i : i + size] for i in range(0, len(fresh), size)]
    read: list[ReadPost] = []
    with worker_pool() as pool:
        for done, found, hints in pool.map(partial(_read_chunk, site), chunks):
            read.extend(done)
            warnings.extend(found)
            for tool, files in hints.items():
                foreign.setdefault(tool, []).extend(files)
    return read


def _read_chunk(
    site: Site, chunk: list[Source]
) -> tuple[list[ReadPost], list[WcitfeedError], Foreign]:
    warnings: list[WcitfeedError] = []
    foreign: Foreign = {}
    done: list[ReadPost] = []
    for source in chunk:
        post, _, found = _load_post(source.path, site.content_dir, site, warnings, foreign)
        done.append((post, None, found))
    return done, warnings, foreign


def _pattern_problems(site: Site) -> list[WcitfeedError]:
    """Check the old tool's permalink patterns of the settings before any post uses them."""
    tool = sources.TOOLS.get(site.from_tool or "")
    if tool is None:
        return []
    found: list[WcitfeedError] = []
    patterns = [("permalink", site.permalink), *(("permalinks", p) for _, p in site.permalinks)]
    for key, pattern in patterns:
        problem = tool.pattern_problem(pattern) if pattern else None
        if problem:
            found.append(ConfigError(problem, path=site.source, field=key))
    return found


def _foreign_hints(
    site: Site, foreign: Mapping[str, list[tuple[Path, list[WcitfeedError]]]]
) -> list[WcitfeedError]:
    """Say once that another tool's posts need the ``from`` setting, instead of an error
    per field of each of them. Files with unknown keys but no tool's signs count as the
    most common tool's (a site is written for one); with no tool seen, their own problems
    stand."""
    seen = sorted((n for n in foreign if n), key=lambda n: -len(foreign[n]))
    if not seen:
        return [problem for _, found in foreign.get("", []) for problem in found]
    name = seen[0]
    tool = sources.TOOLS[name]
    paths = [path for group in foreign.values() for path, _ in group]
    count = f"{len(paths)} posts look" if len(paths) > 1 else "this post looks"
    others = f" (and {', '.join(sources.TOOLS[n].label for n in seen[1:])})" if seen[1:] else ""
    return [
        ContentError(
            f'{count} like {tool.label} posts{others} ({tool.signs}): add from = "{name}" '
            f"to {site.source.name if site.source else 'wcitfeed.toml'}, and wcitfeed reads "
            f"them as {tool.label} did and keeps their addresses and feed ids",
            path=sorted(paths)[0],
        )
    ]


def read_body(path: Path) -> str:
    """Read the Markdown body of a post already checked in an earlier run, as written."""
    split = front_matter.split(_clean_text(path.read_bytes().decode("utf-8")))
    if isinstance(split, str):  # the file changed since it was checked
        raise ContentError(split, path=path)
    return split[2]


def _clean_text(text: str) -> str:
    # Accept what editors write: a byte-order mark and Windows line endings.
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    return text if _forbidden_free(text) else FORBIDDEN_RE.sub("", text)


# The characters XML forbids that ASCII holds (C0 controls but tab and line ends, DEL).
_ASCII_FORBIDDEN = bytes(c for c in range(128) if FORBIDDEN_RE.match(chr(c)))


def _forbidden_free(text: str) -> bool:
    """Say whether a text holds none of the characters XML forbids, quickly for ASCII text
    (most posts): removing bytes is some ten times faster than the pattern's search."""
    if text.isascii():
        data = text.encode("ascii")
        return len(data.translate(None, _ASCII_FORBIDDEN)) == len(data)
    return FORBIDDEN_RE.search(text) is None


@dataclass(frozen=True)
class _Parsed:
    """A post file read and its front matter parsed, not yet checked."""

    text: str
    kind: str
    meta: dict[Any, Any]
    lines: Any  # where each key is: front_matter.FieldLines or front_matter.TomlLines
    body: str
    first_line: int
    closing_line: int


Fail = Callable[..., None]


def _load_post(
    path: Path,
    root: Path,
    site: Site,
    warnings: list[WcitfeedError],
    foreign: Foreign,
) -> tuple[Post | None, str, list[WcitfeedError]]:
    """Read one post: parse it, map another tool's front matter, check every field."""
    problems: list[WcitfeedError] = []

    def fail(message: str, line: int | None = None, field: str | None = None) -> None:
        problems.append(ContentError(message, path=path, line=line, field=field))

    parsed = _read_front_matter(path, site, fail, warnings)
    if parsed is None:
        return None, "", problems
    tool = sources.tool_for(site)
    rel = site.rel(path)
    if tool is None and parsed.kind == "pelican":
        foreign.setdefault("pelican", []).append((path, []))
        return None, "", problems
    meta = parsed.meta
    mapped: sources.Mapped | None = None
    if tool is not None:
        mapped = tool.map(meta, rel, parsed.body, site)
        if mapped is None:
            warnings.append(
                ContentError("is not a post (no title and no text); skipped", path=path)
            )
            return None, "", problems
        if mapped.undated:
            # Never "now", never the file's time: that would make an old post the newest
            # entry of every feed, and move with every checkout.
            fail(
                "is missing from the front matter, the file name and the path (add "
                "date: 2013-05-06 to the front matter, or name the file "
                "2013-05-06-<slug>.md)",
                parsed.first_line,
                "date",
            )
            return None, "", problems
        meta = mapped.fields
    # The body is kept as written; what renders from it is made by sources.final_body.
    body = parsed.body
    if site.from_tool and tool is not None:
        markup = tool.markup(body, site)
    else:
        markup = sources.Markup(sources.final_body(site, body))
    if tool is not None and site.from_tool:
        for number, tag in markup.unknown:
            warnings.append(
                ContentError(
                    f"has {quote(tag)}, which only {tool.label} runs: it was left out (write "
                    "the link or HTML it stands for)",
                    path=path,
                    line=parsed.closing_line + number,
                )
            )
    post = _check_fields(path, root, site, parsed, meta, markup, tool is not None, fail, warnings)
    unknown = any(key not in FIELDS for key in meta) or not meta.get("id")
    if problems and tool is None and unknown:
        # Another tool's post gets one hint for the whole build, not an error per field.
        other = sources.recognise(meta, rel, parsed.kind)
        foreign.setdefault(other.name if other else "", []).append((path, problems))
        return None, "", []
    if problems or post is None:
        return None, "", problems
    if tool is not None and mapped is not None:
        address = tool.address(mapped, post, site)
        bad = [a for a in (address.path, *address.aliases) if not _safe_address(a)]
        if bad:
            # A permalink, url, path or alias that climbs out of the site ('..') would
            # write outside the output folder: refused where it is written.
            keys = ADDRESS_KEYS if bad[0] == address.path else ("aliases", "redirect_from")
            key = next((k for k in keys if k in mapped.meta), keys[0])
            fail(
                f"gives the address {quote(bad[0])}, which leads outside the site (write "
                "a path below it, such as /2013/05/06/title/)",
                parsed.lines.get(key),
                key,
            )
            return None, "", problems
        post = replace(
            post,
            id=post.id or address.entry_id,
            derived_id=not post.id,
            path=address.path if site.from_tool else "",
            aliases=address.aliases,
            refs=markup.refs,
            old_feeds=address.feeds if site.from_tool else (),
        )
    return post, body, problems


def _read_front_matter(
    path: Path, site: Site, fail: Fail, warnings: list[WcitfeedError]
) -> _Parsed | None:
    """Read a post file and parse its front matter; None (having failed) when it cannot
    be: unreadable, not UTF-8, no front matter, too large, or not valid YAML or TOML."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        fail(unreadable(path, exc).message)
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        source = _guess_encoding(data)
        fail(
            f"is not UTF-8; it looks like {source} (convert it: iconv -f {source} -t UTF-8 "
            f"'{path.name}' > fixed.md, then replace the file)",
            line,
        )
        return None
    _warn_forbidden(text, path, warnings)
    text = _clean_text(text)
    split = front_matter.split(text)
    if isinstance(split, str):
        fail(split, 1)
        return None
    kind, fm_text, body, first_line, closing_line = split
    if len(fm_text.encode("utf-8")) > 64 * 1024 or len(text) > site.max_post_bytes:
        fail(
            f"is larger than the limit of {site.max_post_bytes} bytes (max_post_bytes) or "
            "has more than 64 KiB of front matter; split it, or raise max_post_bytes",
            1,
        )
        return None
    try:
        meta, lines = front_matter.parse(kind, fm_text, first_line)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + first_line if mark is not None else 1
        reason = getattr(exc, "problem", None) or "cannot be parsed"
        context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and start is not None and start.line + first_line != line:
            reason += f" ({context} that starts on line {start.line + first_line})"
        fail(f"front matter is not valid YAML: {reason}", line)
        return None
    except tomllib.TOMLDecodeError as exc:
        # tomllib counts lines from the front matter; say the file's line instead.
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line = int(match.group(1)) + first_line - 1 if match else first_line
        reason = str(exc).split(" (at line")[0]
        where = f" (column {match.group(2)})" if match else ""
        fail(f"front matter is not valid TOML: {reason}{where}", line)
        return None
    except ValueError as exc:
        fail(str(exc), first_line)
        return None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        fail("front matter must be 'key: value' lines, not a single value", first_line)
        return None
    return _Parsed(text, kind, meta, lines, body, first_line, closing_line)


def _check_fields(
    path: Path,
    root: Path,
    site: Site,
    parsed: _Parsed,
    meta: dict[Any, Any],
    markup: sources.Markup,
    mapped: bool,
    fail: Fail,
    warnings: list[WcitfeedError],
) -> Post | None:
    """Check wcitfeed's fields (``meta``: the file's own, or another tool's mapped) and
    make the Post; None when a required field is missing or wrong. Under another tool's
    rules (``mapped``), the id may be missing: the tool makes it."""
    lines = parsed.lines
    # YAML escapes such as "\x07" or "\ud800" can make forbidden characters after parsing.
    for key, value in meta.items():
        cleaned = _clean_value(value)
        if cleaned != value:
            meta[key] = cleaned
            warnings.append(
                ContentError(
                    "had characters XML forbids (written as escapes); they were removed",
                    path=path,
                    line=lines.get(key),
                    field=str(key),
                )
            )
    for key in meta:
        if key not in FIELDS:
            close = difflib.get_close_matches(str(key), FIELDS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "put your own keys under extra:"
            fail(f"is not a front-matter field ({hint})", lines.get(key), str(key))
    for key in REQUIRED:
        if meta.get(key) in (None, "") and not (key == "id" and mapped):
            fail(f"is missing (add {key}: {FIELDS[key]})", parsed.first_line, key)

    def text_field(key: str) -> str | None:
        value = meta.get(key)
        if value is None:
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            fail(f"must be text, not {type(value).__name__}", lines.get(key), key)
            return None
        return str(value).strip() or None

    def date_field(key: str) -> datetime | None:
        if meta.get(key) is None:
            return None
        return _parse_date(meta[key], site, lambda m: fail(m, lines.get(key), key))

    post_id = text_field("id")
    title = text_field("title")
    published = date_field("date")
    updated = date_field("updated")
    if published and updated and updated < published:
        fail(
            "is before 'date' (an update cannot precede publication)",
            lines.get("updated"),
            "updated",
        )
    slug = text_field("slug") or slugify(path.stem)
    if not SLUG_RE.match(slug):
        fail(
            f"'{slug}' may hold only a-z, 0-9, '-' and '_' (write slug: my-post)",
            lines.get("slug", 1),
            "slug",
        )
    category = _category(path, root, site, text_field("category"), lines, fail)
    tags = _tags(meta.get("tags"), lambda m: fail(m, lines.get("tags"), "tags"))
    authors = site.authors
    if meta.get("author") is not None:
        authors = parse_authors(meta["author"], lambda m: fail(m, lines.get("author"), "author"))
    flags = {}
    for flag in ("draft", "minor"):
        flags[flag] = meta.get(flag, False)
        if not isinstance(flags[flag], bool):
            fail("must be true or false", lines.get(flag), flag)
    if "extra" in meta and not isinstance(meta["extra"], dict):
        fail(
            "must be a mapping (write extra: then indented key: value lines)",
            lines.get("extra"),
            "extra",
        )
    if not markup.body.strip():
        fail(
            "has no text after the front matter (write the update below the closing '---')",
            parsed.closing_line,
        )
    if title is None or published is None or (post_id is None and not mapped):
        return None
    return Post(
        source=path,
        id=post_id or "",
        title=title,
        slug=slug,
        date=published,
        updated=updated,
        timed=_has_time(meta["date"]),
        category=category,
        tags=tags,
        summary=text_field("summary") or _excerpt(markup.body),
        authors=authors,
        draft=bool(flags["draft"]),
        minor=bool(flags["minor"]),
        image=text_field("image"),
        # The digest covers everything a reader sees, so any change to it is an edit.
        digest=hashlib.sha256(parsed.text.encode("utf-8")).hexdigest(),
        assets=local_references(markup.body, text_field("image"), path, root),
    )


def _category(
    path: Path, root: Path, site: Site, written: str | None, lines: Any, fail: Fail
) -> str | None:
    """Return a post's category: the one written, else its first folder's name. A page
    bundle (slug/index.md) is a post, not a category: only the folders above the bundle's
    own folder name one."""
    category = written
    folders = path.parent.relative_to(root).parts
    if site.lenient and path.stem in ("index", "_index"):
        folders = folders[:-1]
    if category is None and folders:
        category = folders[0]
    keys = [k for k, _ in site.categories]
    if category is not None and keys and category not in keys:
        close = difflib.get_close_matches(category, keys, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "use one of " + ", ".join(keys)
        fail(
            f"'{category}' is not a category of this site ({hint})",
            lines.get("category", 1),
            "category",
        )
    # One string for all the posts of a category (and of a tag, in ``_tags``): 100,000
    # posts held a copy each.
    return sys.intern(category) if category is not None else None


# Anything in a post's text that could name a local file: a word with a file extension.
# A match can only start where a word does (the look-behind). A word is a run of anything
# but white space and these:
_NOT_WORD = "()[]<>\"'`|*"
_WORD = rf"[^\s{re.escape(_NOT_WORD)}]"
_END = r"(?=[\s)\]\"'<>#?|,;:]|$)"
_REFERENCE_RE = re.compile(rf"(?<!{_WORD}){_WORD}+\.[A-Za-z0-9]{{1,8}}{_END}")
# Every such word ends in an extension: a dot, letters or digits, then the end of a word.
# Starting with a dot, this pattern is found by a quick scan for dots, where the one above
# is tried at every letter (a quarter of loading a post, before).
_EXTENSION_RE = re.compile(rf"\.[A-Za-z0-9]{{1,8}}{_END}")


def _reference_words(body: str) -> list[str]:
    """Return what ``_REFERENCE_RE.findall(body)`` does, trying it only at the start of the
    words that hold an extension."""
    found: list[str] = []
    tried = -1
    for extension in _EXTENSION_RE.finditer(body):
        start = extension.start()
        while start > 0 and not (body[start - 1] in _NOT_WORD or body[start - 1].isspace()):
            start -= 1
        if start == tried:
            continue  # one word, one match at most
        tried = start
        word = _REFERENCE_RE.match(body, start)
        if word is not None:
            found.append(word.group())
    return found


def local_references(body: str, image: str | None, path: Path, root: Path) -> tuple[str, ...]:
    """List the paths below ``root`` that the post's text may point at, found generously.

    Rendering reads these files' sizes (an image's length in enclosures), so they are
    part of what the post's outputs are made of. Listing one too many costs a re-render
    when it changes; listing one too few would keep a stale size, so every word with a
    file extension counts, wherever it is.
    """
    folder = path.parent.relative_to(root).as_posix()
    found: set[str] = set()
    for word in [*_reference_words(body), *([image] if image else [])]:
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//|^#", word):
            continue
        target = word.split("#")[0].split("?")[0]
        joined = target.lstrip("/") if target.startswith("/") else f"{folder}/{target}"
        normal = posixpath.normpath(joined)
        if not normal.startswith("../") and normal != "..":
            found.add(normal.removeprefix("./"))
    return tuple(sorted(found))


def _guess_encoding(data: bytes) -> str:
    """Name the encoding a non-UTF-8 file most likely uses, for iconv."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "ISO-8859-1"
    return "WINDOWS-1252"


def _excerpt(body: str) -> str | None:
    """Return the text before a '<!--more-->' line, Jekyll's and Hugo's summary mark."""
    match = MORE_RE.search(body)
    if match is None:
        return None
    text = re.sub(r"[*_`#>\[\]]|\(https?://[^)]*\)", "", body[: match.start()])
    return " ".join(text.split()) or None


def _warn_forbidden(text: str, path: Path, warnings: list[WcitfeedError]) -> None:
    """Warn once per file of the characters XML cannot carry: how many, which, and where.

    Lines are counted as the matches go, so a file full of them costs linear time.
    """
    if _forbidden_free(text):
        return
    codes: dict[str, None] = {}
    lines: list[int] = []
    count = line = position = 0
    for match in FORBIDDEN_RE.finditer(text):
        line += text.count("\n", position, match.start()) + (0 if lines else 1)
        position = match.start()
        count += 1
        if len(codes) < MAX_LISTED:
            codes.setdefault(f"U+{ord(match.group()):04X}", None)
        if not lines or lines[-1] != line:
            lines.append(line)
    if not count:
        return
    shown = ", ".join(map(str, lines[:MAX_LISTED]))
    if len(lines) > MAX_LISTED:
        shown += f" and {len(lines) - MAX_LISTED:,} more"
    warnings.append(
        ContentError(
            f"removed {count:,} character{'s' if count != 1 else ''} XML forbids "
            f"({', '.join(codes)}) on line{'s' if len(lines) != 1 else ''} {shown}",
            path=path,
            line=lines[0],
        )
    )


def _clean_value(value: Any) -> Any:
    if isinstance(value, str):
        return FORBIDDEN_RE.sub("", value)
    if isinstance(value, list):
        return [_clean_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean_value(v) for k, v in value.items()}
    return value


def _has_time(value: object) -> bool:
    """Say whether a date was written with a time of day (2012-12-14 has none)."""
    if isinstance(value, datetime):
        return True
    if isinstance(value, date):
        return False
    return not re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", str(value))


def _parse_date(value: object, site: Site, fail: Callable[[str], None]) -> datetime | None:
    example = "write 2012-12-07T19:00:00+04:00"
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time(0, 0))
    elif isinstance(value, str):
        # Jekyll writes '2016-07-25 12:00:00 -0700'; make the offset ISO 8601.
        text = re.sub(
            r"^(\S+[ T]\d{1,2}:\d{2}(?::\d{2})?)\s+([+-]\d{2}):?(\d{2})$", r"\1\2:\3", value.strip()
        )
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            fail(f"'{value}' is not a date ({example})")
            return None
    else:
        fail(f"must be a date, not {type(value).__name__} ({example})")
        return None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        fail(f"'{parsed.date()}' is out of range (write a date from {FIRST_YEAR} to {LAST_YEAR})")
        return None
    if parsed.tzinfo is None:
        # Dates without an offset are wall-clock time in the site's zone.
        parsed = parsed.replace(tzinfo=site.timezone)
    # Whole seconds: some readers drop the offset of a time with a fraction.
    return parsed.replace(microsecond=0)


def _tags(value: object, fail: Callable[[str], None]) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    tags: list[str] = []
    for item in items:
        if isinstance(item, str | int | float) and not isinstance(item, bool) and str(item).strip():
            tags.append(sys.intern(str(item).strip()))
        else:
            fail(f"entry {quote(item)} is not a tag (write tags: [one, two])")
    return tuple(dict.fromkeys(tags))


# The keys another tool takes a post's address from, in the order a message names them.
ADDRESS_KEYS = ("permalink", "url", "path", "slug")


def _safe_address(path: str) -> bool:
    """Say whether an address stays below the site: no '..' or '.' part, no backslash,
    no control character."""
    parts = path.rstrip("/").split("/")
    return not any(part in ("..", ".") for part in parts) and not re.search(r"[\\\x00-\x1f]", path)


def _duplicates(posts: list[Post]) -> list[WcitfeedError]:
    problems: list[WcitfeedError] = []
    addresses: dict[str, Post] = {}
    for post in posts:
        # Another tool's rules can give two posts one address (the same title on the
        # same day): one page would silently replace the other.
        address = post_path(post)
        if address in addresses:
            problems.append(
                ContentError(
                    f"has the address {address}, which {addresses[address].source} has "
                    "already (give one of them its own slug or permalink)",
                    path=post.source,
                )
            )
        else:
            addresses[address] = post
    for name in ("id", "slug"):
        seen: dict[str, Post] = {}
        for post in posts:
            key = getattr(post, name)
            if key in seen:
                problems.append(
                    ContentError(
                        f"'{key}' is already used by {seen[key].source} (give each post its own)",
                        path=post.source,
                        field=name,
                    )
                )
            else:
                seen[key] = post
    return problems


def new_post_text(
    title: str,
    when: datetime,
    category: str | None,
    tags: list[str],
    draft: bool,
    body: str = "Write the update here.\n",
) -> str:
    """Return a new post's file text: valid front matter with a fresh id, and a prompt."""

    def scalar(value: str) -> str:
        return yaml.safe_dump(value, allow_unicode=True, width=1000).removesuffix("\n...\n").strip()

    lines = [f"id: urn:uuid:{uuid.uuid4()}", f"title: {scalar(title)}", f"date: {when.isoformat()}"]
    if category:
        lines.append(f"category: {scalar(category)}")
    if tags:
        lines.append("tags: [" + ", ".join(scalar(t) for t in tags) + "]")
    if draft:
        lines.append("draft: true")
    return "---\n" + "\n".join(lines) + "\n---\n" + body
