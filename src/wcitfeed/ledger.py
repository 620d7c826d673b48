"""The edit ledger: each post's publication history, so ``updated`` moves exactly once.

The ledger maps each post id to a record: the digest of its text, when an edit was first
seen, when the post was published and, while it is not published, when it was withdrawn.
Users commit it with their content; without it, an edit could not be told from a rebuild.

The ledger never forgets a post: a post absent from one build (a moved file, a draft, an
invalid post left out) keeps its record, so its history is intact when it comes back. Its
times also tell a build whose clock is wrong (earlier than the ledger's latest record).
The ledger is checked like a post, with file, line and field, before anything is written.

Beside the posts' records, under the empty key (no post id is empty), the ledger keeps the
site's own record: the feed formats it publishes. A site whose settings name no formats
keeps publishing those, so a default that changes never takes a feed from its subscribers.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

from wcitfeed.config import DEFAULT_FORMATS, FORMATS
from wcitfeed.errors import (
    ContentError,
    Problems,
    WcitfeedError,
    clip,
    json_key_line,
    quote,
)
from wcitfeed.model import Post, Site

_DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")
_TIMES = ("updated", "published", "withdrawn", "arrived")
_EXAMPLE = "2012-12-07T19:00:00+04:00"
_FEED_RE = re.compile(r"^(categories|tags)/[a-z0-9_-]+/$")
_PATH_RE = re.compile(r"^(?!/)(?!.*(?:^|/)\.\.(?:/|$))[^\x00-\x1f]*$")
_FIELDS = ("digest", *_TIMES, "feeds", "paths", "source")


@dataclass(frozen=True, slots=True)
class Record:
    """What the ledger knows of one post id."""

    digest: str
    updated: datetime | None = None
    published: datetime | None = None
    withdrawn: datetime | None = None
    # When the build that first published the post ran (records older than this field
    # have none: their arrival is their publication date). Feeds page their archives by
    # it, so a backdated post arrives in the live feed instead of an old archive page.
    arrived: datetime | None = None
    # Every category and tag feed the post was ever in (by path prefix): a feed that once
    # had posts keeps being published, empty, after its last post is gone or retagged.
    feeds: tuple[str, ...] = ()
    # Every address (page path below the base URL) the post was published at: the old
    # ones redirect to the current one.
    paths: tuple[str, ...] = ()
    # The file (below the content folder) of a post whose id was made by the rules of the
    # tool the site came from: that file keeps this id, whatever is edited later.
    source: str | None = None

    @property
    def arrival(self) -> datetime | None:
        """Return when the post reached the feeds: ``arrived``, else ``published``."""
        return self.arrived or self.published

    @property
    def live(self) -> bool:
        """Return True when the last build that saw this id published it."""
        return self.published is not None and self.withdrawn is None

    def latest(self) -> datetime | None:
        """Return the latest time this record holds."""
        # Not ``arrived``: a build dated in the past on purpose (--now) may follow one dated
        # by the clock; only edits and withdrawals must never go back in time.
        return max((t for t in (self.updated, self.published, self.withdrawn) if t), default=None)


Ledger = dict[str, Record]

# The key of the site's record: a post id is never empty.
SITE_KEY = ""
# What builds published when the settings named no formats, before the ledger kept a site
# record: a ledger with posts and no site record was written by such a build.
FORMATS_BEFORE_RECORD = ("atom", "rss", "json")


@dataclass(frozen=True)
class SiteRecord:
    """What the ledger knows of the site as a whole: the feed formats it publishes, and
    whether it writes e-mail fragments (None in a ledger from before that was recorded)."""

    formats: tuple[str, ...]
    email_fragments: bool | None = None


@dataclass(frozen=True)
class LedgerFile:
    """The whole ledger: each post's record, and the site's (None before it had one)."""

    posts: Ledger
    site: SiteRecord | None = None


def settled_email_fragments(site: Site, ledger: LedgerFile) -> bool:
    """Say whether a build writes e-mail fragments: as the settings say when they do; else
    as the site did, as its ledger says (a site from before the ledger said so wrote
    them); else the default."""
    if site.email_fragments_given:
        return site.email_fragments
    recorded = ledger.site.email_fragments if ledger.site is not None else None
    if recorded is not None:
        return recorded
    return bool(ledger.posts) or site.email_fragments


def settled_formats(site: Site, ledger: LedgerFile) -> tuple[str, ...]:
    """Return the feed formats a build publishes: the settings' when they name them; else
    those the site has published, as its ledger says; else the default."""
    if site.formats_given:
        return site.formats
    if ledger.site is not None:
        return ledger.site.formats
    if ledger.posts:
        return FORMATS_BEFORE_RECORD
    return DEFAULT_FORMATS


@dataclass(frozen=True)
class Withdrawal:
    """Published posts that this build would stop publishing, out of how many."""

    ids: tuple[str, ...]
    published: int


def read_ledger(path: Path | None) -> LedgerFile:
    """Read and check the ledger file; a missing file is an empty ledger.

    Raise ``Problems`` naming the line and field of every bad value: a build that trusted
    a damaged ledger would announce every entry as edited, or lose their history.
    """
    if path is None:
        return LedgerFile({})
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LedgerFile({})
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(
            f"the edit ledger cannot be read ({exc}); restore it from version control",
            path=path,
        ) from None
    try:
        data: Any = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise ContentError(
            f"the edit ledger is not valid JSON ({getattr(exc, 'msg', exc)}); restore it from "
            "version control",
            path=path,
            line=line,
        ) from None
    if not isinstance(data, dict):
        raise ContentError(
            'the edit ledger must be a JSON object of post ids ({"urn:uuid:…": {"digest": …}})',
            path=path,
            line=1,
        )
    problems: list[WcitfeedError] = []
    ledger: Ledger = {}
    site = None
    for post_id, value in data.items():
        if post_id == SITE_KEY:
            site = _read_site_record(value, path, text, problems)
            continue
        record = _read_record(post_id, value, path, text, problems)
        if record is not None:
            ledger[post_id] = record
    if problems:
        raise Problems(problems)
    return LedgerFile(ledger, site)


def _read_site_record(
    value: object, path: Path, text: str, problems: list[WcitfeedError]
) -> SiteRecord | None:
    """Read the site's record, adding a located problem for everything wrong in it."""
    found: list[WcitfeedError] = []

    def fail(field: str, message: str, line: int | None) -> None:
        found.append(ContentError(message, path=path, line=line, field=field))

    fields = value if isinstance(value, dict) else {}
    for unknown in sorted(set(fields) - {"formats", "email_fragments"}):
        fail(
            unknown,
            "is not a field of the site's record that this wcitfeed knows (a newer version "
            "wrote it?): upgrade wcitfeed, or restore the ledger from version control",
            json_key_line(text, unknown),
        )
    formats = fields.get("formats")
    if not isinstance(formats, list) or not all(item in FORMATS for item in formats):
        fail(
            "formats",
            f"of the site's record must be a list of {', '.join(FORMATS)} (write "
            '"formats": ["atom", "rss"], or restore the ledger from version control)',
            json_key_line(text, SITE_KEY),
        )
    email = fields.get("email_fragments")
    if not isinstance(email, bool | None):
        fail(
            "email_fragments",
            'of the site\'s record must be true or false (write "email_fragments": true, or '
            "restore the ledger from version control)",
            json_key_line(text, "email_fragments"),
        )
    problems.extend(found)
    if found or not isinstance(formats, list):  # (the list is checked above)
        return None
    return SiteRecord(tuple(formats), email)


def _read_record(
    post_id: str, value: object, path: Path, text: str, problems: list[WcitfeedError]
) -> Record | None:
    def fail(message: str, field: str | None = None) -> None:
        shown = f"{field} of {post_id}" if field else post_id
        line = json_key_line(text, post_id)  # looked up only for a message
        problems.append(ContentError(message, path=path, line=line, field=clip(shown)))

    if not isinstance(value, dict):
        fail('must be an object such as {"digest": "<64 hex digits>"}')
        return None
    for key in value:
        if key not in _FIELDS:
            fail(f"'{clip(str(key))}' is not a ledger field ({', '.join(_FIELDS)})")

    def strings(key: str, pattern: re.Pattern[str], example: str) -> list[str]:
        items = value.get(key, [])
        if isinstance(items, list) and all(isinstance(i, str) and pattern.match(i) for i in items):
            return items
        fail(f"must be a list of {example}", key)
        return []

    paths = strings("paths", _PATH_RE, 'paths below the base URL such as ["posts/slug/"]')
    feeds = strings("feeds", _FEED_RE, 'feed folders such as ["tags/security/"]')
    source = value.get("source")
    if source is not None and not (isinstance(source, str) and _PATH_RE.match(source)):
        fail('must be a file below the content folder such as "_posts/2013-05-06-a.md"', "source")
        source = None
    digest = value.get("digest")
    if not isinstance(digest, str) or not _DIGEST_RE.match(digest):
        fail("must be 64 lower-case hex digits (restore the ledger from version control)", "digest")
        digest = None
    times: dict[str, datetime | None] = {}
    for key in _TIMES:
        raw = value.get(key)
        times[key] = None
        if raw is None:
            continue
        parsed = _parse_time(raw)
        if parsed is None:
            fail(f"must be a date with offset such as {_EXAMPLE}, not {quote(raw)}", key)
        times[key] = parsed
    if digest is None:
        return None
    return Record(
        digest,
        times["updated"],
        times["published"],
        times["withdrawn"],
        times["arrived"],
        # A feed's name is one string for all the records that list it.
        tuple(sys.intern(feed) for feed in feeds),
        tuple(paths),
        source,
    )


def _parse_time(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def apply_ledger(posts: Iterable[Post], ledger: Ledger, now: datetime) -> tuple[list[Post], Ledger]:
    """Give each post its ``updated`` and return the ledger as it should now be.

    An explicit ``updated`` in front matter always wins. A post seen for the first time keeps
    ``updated`` empty. A post whose text changed gets ``updated = now`` once, unless it says
    ``minor: true``; later builds keep that time until the text changes again. Records of
    posts not in ``posts`` are kept as they are.
    """
    result: list[Post] = []
    new: Ledger = dict(ledger)
    for post in posts:
        record = ledger.get(post.id)
        if record is None:
            entry = Record(post.digest)
        elif record.digest == post.digest:
            entry = record
        elif post.minor:
            entry = replace(record, digest=post.digest)
        else:
            entry = replace(record, digest=post.digest, updated=now)
        new[post.id] = entry
        if post.updated is None and entry.updated is not None:
            seen = entry.updated.astimezone(post.date.tzinfo)
            if seen > post.date:
                post = replace(post, updated=seen)
        result.append(post)
    return result, new


def keep_ids(posts: Iterable[Post], ledger: Ledger, rel_of: Callable[[Post], str]) -> list[Post]:
    """Give each post whose id the build made (``derived_id``) the id its file had when
    it was first published, so an edited slug or date never changes an entry's id."""
    by_source = {r.source: post_id for post_id, r in ledger.items() if r.source}
    posts = list(posts)
    taken = {p.id for p in posts}
    kept = []
    for post in posts:
        first = by_source.get(rel_of(post)) if post.derived_id else None
        if first is not None and first != post.id and first not in taken:
            taken.add(first)
            post = replace(post, id=first)
        kept.append(post)
    return kept


def record_publication(
    ledger: Ledger,
    live: Sequence[Post],
    now: datetime,
    feeds_of: Callable[[Post], Iterable[str]] = lambda post: (),
    place_of: Callable[[Post], tuple[str, str]] | None = None,
) -> Ledger:
    """Mark the posts published at ``now`` and withdraw the published ones that are not;
    add to each published post's record the feeds (``feeds_of``) it is in now, and its
    address and file (``place_of``: file below the content folder, page path)."""
    shown = {post.id: post for post in live}
    new: Ledger = {}
    for post_id, record in ledger.items():
        post = shown.get(post_id)
        if post is not None:
            if record.published is None:
                record = replace(record, published=post.date, arrived=max(now, post.date))
            feeds = tuple(sorted({*record.feeds, *feeds_of(post)}))
            paths, source = record.paths, record.source
            if place_of is not None:
                rel, path = place_of(post)
                paths = paths if path in paths else (*paths, path)
                source = rel if post.derived_id else source
            changed = (record.withdrawn, record.feeds, record.paths, record.source) != (
                None,
                feeds,
                paths,
                source,
            )
            if changed:  # most records are as they were: no copy for them
                record = replace(record, withdrawn=None, feeds=feeds, paths=paths, source=source)
        elif record.live:
            record = replace(record, withdrawn=now)
        new[post_id] = record
    return new


def with_arrivals(live: Sequence[Post], ledger: Ledger) -> list[Post]:
    """Give each published post the time it reached the feeds, from its record.

    The time is in UTC whichever way it was made (this build's clock in the site's zone,
    or a later build reading the ledger), so a post's digest, and every key made from it,
    is the same in the build that published it and in every build after.
    """
    found = []
    for post in live:
        arrival = ledger[post.id].arrival if post.id in ledger else None
        found.append(replace(post, arrived=arrival.astimezone(UTC)) if arrival else post)
    return found


def known_feeds(ledger: Ledger) -> dict[str, datetime]:
    """Return every category and tag feed a published post was ever in, with the latest
    time one of its posts changed (published, edited or withdrawn): an ended feed's date."""
    found: dict[str, datetime] = {}
    for record in ledger.values():
        when = record.latest()
        if when is None:
            continue
        for feed in record.feeds:
            found[feed] = max(found.get(feed, when), when)
    return found


def earlier_paths(ledger: Ledger) -> dict[str, tuple[str, ...]]:
    """Return the addresses each post (by id) was published at."""
    return {post_id: r.paths for post_id, r in ledger.items() if r.paths}


def withdrawal(before: Ledger, after: Ledger) -> Withdrawal:
    """Say which posts published by the last build ``after`` no longer publishes."""
    was = [post_id for post_id, record in before.items() if record.live]
    gone = tuple(post_id for post_id in was if not after[post_id].live)
    return Withdrawal(gone, len(was))


def latest_record(ledger: Ledger) -> tuple[str, datetime] | None:
    """Return the id and time of the latest time the ledger holds."""
    found = [(t, post_id) for post_id, r in ledger.items() if (t := r.latest()) is not None]
    if not found:
        return None
    when, post_id = max(found)
    return post_id, when


def encode_ledger(ledger: LedgerFile) -> bytes:
    """Serialise the ledger stably, so an unchanged ledger is never rewritten.

    The text is exactly ``json.dumps(..., indent=1, sort_keys=True)`` plus a newline (one
    field per line, so a commit shows what changed), laid out here: with ``indent`` the
    json module falls back to its pure-Python encoder, which took 0.11 s of a one-post
    edit at 10,000 posts; this takes a third of that.
    """
    return b"".join(ledger_chunks(ledger))


# Records laid out at once when the ledger is written piece by piece.
LEDGER_PIECE = 1000


def ledger_chunks(ledger: LedgerFile, piece: int = LEDGER_PIECE) -> Iterator[bytes]:
    """Yield the bytes of ``encode_ledger``, ``piece`` records at a time: a build writes
    the ledger without ever holding its whole text (at 100,000 records, the lines, the
    text and its bytes took ~100 MB at once)."""
    ids = sorted(ledger.posts)
    if ledger.site is None and not ids:
        yield b"{}\n"
        return
    yield b"{\n"
    # Each line but the first follows a comma.
    lead = ""
    if ledger.site is not None:
        fields = [("formats", _json_list(ledger.site.formats))]
        if ledger.site.email_fragments is not None:
            fields.append(("email_fragments", json.dumps(ledger.site.email_fragments)))
        yield f" {_quote(SITE_KEY)}: {_json_object(fields)}".encode()
        lead = ",\n"
    for start in range(0, len(ids), piece):
        part = ids[start : start + piece]
        lines = [f" {_quote(post_id)}: {_record_json(ledger.posts[post_id])}" for post_id in part]
        yield (lead + ",\n".join(lines)).encode()
        lead = ",\n"
    yield b"\n}\n"


def _record_json(record: Record) -> str:
    """Lay out one post's record as ``encode_ledger`` does, one level down."""
    fields = [("digest", _quote(record.digest))]
    for key in _TIMES:
        value: datetime | None = getattr(record, key)
        if value is not None:
            fields.append((key, _quote(value.isoformat())))
    if record.feeds:
        fields.append(("feeds", _json_list(record.feeds)))
    if record.paths:
        fields.append(("paths", _json_list(record.paths)))
    if record.source:
        fields.append(("source", _quote(record.source)))
    return _json_object(fields)


def _record_span(text: bytes, post_id: str) -> tuple[int, int] | None:
    """Return where one post's record is in a ledger ``encode_ledger`` wrote (from its
    opening brace to its closing one), or None when it is not there once, laid out so."""
    opening = f"\n {_quote(post_id)}: {{\n".encode()
    start = text.find(opening)
    if start < 0 or text.find(opening, start + 1) >= 0:
        return None
    start += len(opening) - 2
    end = text.find(b"\n }", start)
    return None if end < 0 else (start, end + 3)


def read_one_record(path: Path, text: bytes, post_id: str) -> Record | None:
    """Return one post's record from the ledger's text, when ``encode_ledger`` laid it out
    (a build that edits a few posts reads only theirs); else None."""
    span = _record_span(text, post_id)
    if span is None:
        return None
    raw = text[span[0] : span[1]].decode("utf-8")
    problems: list[WcitfeedError] = []
    try:
        record = _read_record(post_id, json.loads(raw), path, raw, problems)
    except ValueError:
        return None
    if problems or record is None or _record_json(record) != raw:
        return None
    return record


def with_record(text: bytes, post_id: str, record: Record) -> bytes | None:
    """Return the ledger's text with one post's record replaced (the other records byte
    for byte as they were), or None when it is not there as ``encode_ledger`` lays it out."""
    span = _record_span(text, post_id)
    if span is None:
        return None
    return text[: span[0]] + _record_json(record).encode() + text[span[1] :]


# The json module's own string encoder (C, ASCII-only output, as json.dumps gives).
_quote = encode_basestring_ascii


def _json_object(fields: list[tuple[str, str]]) -> str:
    """Lay out a record's fields (already encoded) as json.dumps(indent=1) would, one level
    down: keys sorted, two spaces in."""
    fields.sort()
    inner = ",\n".join(f'  "{key}": {value}' for key, value in fields)
    return f"{{\n{inner}\n }}"


def _json_list(values: Iterable[str]) -> str:
    """Lay out a list of strings inside a record as json.dumps(indent=1) would."""
    inner = ",\n".join(f"   {_quote(value)}" for value in values)
    return f"[\n{inner}\n  ]" if inner else "[]"
