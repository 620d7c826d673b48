"""The build cache: what the last build read and wrote, so the next one redoes only changes.

The cache is one SQLite database in the cache folder (``cache.sqlite``), updated in place in
one transaction per build: rows of checked posts by source file, rows of output files with
their key and stat, and a few summary values. It holds data only (JSON and numbers, never
code), so a file someone else wrote can at worst be wrong, and a wrong one is discarded
with one warning. It is trusted only when wcitfeed's version, the settings file and every
template are byte for byte as they were. Deleting it costs one full build, nothing more;
a build killed while storing it leaves the previous version (SQLite's journal rolls back).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import sys
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

from wcitfeed import __version__
from wcitfeed.errors import ContentError, EnvironmentProblem, WcitfeedError
from wcitfeed.model import Author, Post, Ref
from wcitfeed.output import digest_stats

CACHE_FILE = "cache.sqlite"
_FORMAT = 6
# Keys asked for in one statement when many entries are read at once.
BATCH_KEYS = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS summary (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS posts (
    rel TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL, post TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outputs (
    path TEXT PRIMARY KEY, key TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kept_files (
    path TEXT PRIMARY KEY, kind TEXT NOT NULL, fixed TEXT NOT NULL, shows TEXT NOT NULL,
    shape TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kept_posts (
    rel TEXT PRIMARY KEY, id TEXT NOT NULL, updated TEXT, arrived TEXT, key TEXT NOT NULL
);
"""
_TABLES = ("summary", "posts", "outputs", "kept_files", "kept_posts")

CheckedPost = tuple[int, int, Post]
OutputRow = tuple[str, int, int]


@dataclass(frozen=True, slots=True)
class KeptFile:
    """An output file that shows posts, as the last build planned it: its kind, the digest
    of all it is made of but its posts, the posts it shows (by file below the content
    folder, in order) and its shape (``shapes``)."""

    path: str
    kind: str
    fixed: str
    shows: tuple[str, ...]
    shape: str


@dataclass(frozen=True, slots=True)
class KeptPost:
    """A published post as the last build published it: what the ledger gave it (its id,
    ``updated`` and arrival) beside its checked front matter, and its key."""

    rel: str
    id: str
    updated: datetime | None
    arrived: datetime | None
    key: str


@dataclass(frozen=True)
class KeptPlan:
    """What a build keeps for the next one's quick path (``edits``): the files that show
    posts, the published posts, the sitemap's pages, and the little else it needs
    (``state``, JSON: settings as the ledger settled them, feed links, the ledger's stat)."""

    files: Iterable[KeptFile]
    posts: list[KeptPost]
    sitemap: Iterable[tuple[str, str | None]]
    state: dict[str, Any]


@dataclass
class BuildCache:
    """What one build knew: checked posts by source, and each output's key and stat."""

    fingerprint: str = ""
    inputs: str = ""
    next_due: datetime | None = None
    posts: dict[str, CheckedPost] = field(default_factory=dict)
    outputs: dict[str, OutputRow] = field(default_factory=dict)
    published: int = 0
    warnings: list[WcitfeedError] = field(default_factory=list)
    # What the quick path of the next build needs; None when it must not be taken.
    kept: KeptPlan | None = None


@dataclass(frozen=True)
class QuickState:
    """The little a no-change build needs: input signature, due date, outputs and their stat."""

    fingerprint: str
    inputs: str
    next_due: datetime | None
    outputs: tuple[str, ...]
    digest: str
    posts: int = 0


def fingerprint(config: Path | None, templates_dir: Path) -> str:
    """Digest wcitfeed's version and package files, the settings file and the site's
    templates."""
    digest = hashlib.sha256(f"{_FORMAT} {__version__} {sys.version_info[:2]}".encode())
    # Every file of the package by size and time too (modules, theme, translations): an
    # edited checkout is a new version.
    package = Path(__file__).parent
    shipped = (p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for module in sorted(shipped):
        info = module.stat()
        rel = module.relative_to(package).as_posix()
        digest.update(f"{rel} {info.st_size} {info.st_mtime_ns}".encode())
    paths = [config] if config is not None else []
    if templates_dir.is_dir():
        paths += sorted(p for p in templates_dir.rglob("*") if p.is_file())
    for path in paths:
        digest.update(str(path).encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"missing")
    return digest.hexdigest()


@contextlib.contextmanager
def _connect(folder: Path, *, create: bool) -> Iterator[sqlite3.Connection | None]:
    """Open the cache database; None when it does not exist and ``create`` is False."""
    path = folder / CACHE_FILE
    if not create and not path.is_file():
        yield None
        return
    try:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    except sqlite3.Error as exc:
        raise EnvironmentProblem(
            f"the cache cannot be opened ({exc}); delete the cache folder or fix its permissions",
            path=path,
        ) from None
    try:
        yield connection
    finally:
        connection.close()


def _summary(connection: sqlite3.Connection) -> dict[str, str]:
    """Return the summary values; none when no build has stored its summary yet (a first
    build killed after storing entries, say: nothing is wrong, there is just no cache)."""
    tables = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'summary'"
    ).fetchall()
    if not tables:
        return {}
    rows = connection.execute("SELECT name, value FROM summary").fetchall()
    return {str(name): str(value) for name, value in rows}


def read_quick(folder: Path, expected_fingerprint: str) -> QuickState | None:
    """Return the saved summary when it belongs to these settings and templates."""
    try:
        with _connect(folder, create=False) as connection:
            if connection is None:
                return None
            summary = _summary(connection)
            if summary.get("fingerprint") != expected_fingerprint:
                return None
            paths = tuple(
                row[0] for row in connection.execute("SELECT path FROM outputs ORDER BY path")
            )
            due = summary.get("next_due")
            return QuickState(
                summary["fingerprint"],
                summary.get("inputs", ""),
                datetime.fromisoformat(due) if due else None,
                paths,
                summary.get("digest", ""),
                int(summary.get("published", "0")),
            )
    except (sqlite3.Error, KeyError, ValueError, EnvironmentProblem):
        # The full read that follows says what is wrong, once.
        return None


def read_cache(folder: Path, expected_fingerprint: str) -> BuildCache:
    """Return the saved cache, or an empty one when it is missing or stale.

    A cache that cannot be read or does not hold what wcitfeed writes is discarded with a
    warning: it is only ever an optimisation.
    """
    path = folder / CACHE_FILE
    try:
        with _connect(folder, create=False) as connection:
            if connection is None:
                return BuildCache()
            summary = _summary(connection)
            if summary.get("fingerprint") != expected_fingerprint:
                return BuildCache()
            due = summary.get("next_due")
            cache = BuildCache(
                fingerprint=summary["fingerprint"],
                inputs=summary.get("inputs", ""),
                next_due=datetime.fromisoformat(due) if due else None,
                published=int(summary.get("published", "0")),
            )
            for rel, mtime_ns, size, data in connection.execute("SELECT * FROM posts"):
                cache.posts[str(rel)] = (int(mtime_ns), int(size), post_from_json(data))
            for rel, key, size, mtime_ns in connection.execute("SELECT * FROM outputs"):
                cache.outputs[str(rel)] = (str(key), int(size), int(mtime_ns))
            return cache
    except (sqlite3.Error, KeyError, TypeError, ValueError) as exc:
        warning = ContentError(
            f"the build cache does not verify ({type(exc).__name__}); it was set aside and "
            "this build starts from scratch",
            path=path,
        )
        return BuildCache(warnings=[warning])


def discard_cache(folder: Path) -> None:
    """Remove a database wcitfeed cannot use (and its journals) rather than open it."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        (folder / (CACHE_FILE + suffix)).unlink(missing_ok=True)


class EntryStore:
    """Feed entries' bytes by post key and format, kept across builds in the cache database.

    Each entry is serialised once, by the build that first needs it, and read back by
    every later document that carries it, in this build's workers and in later builds.
    Entries belong to one fingerprint (version, settings, templates): others are dropped.
    """

    def __init__(self, folder: Path, stamp: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / CACHE_FILE
        self.connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.connection.executescript(
            "CREATE TABLE IF NOT EXISTS entries (key TEXT NOT NULL, fmt TEXT NOT NULL, "
            "data BLOB NOT NULL, PRIMARY KEY (key, fmt));"
            "CREATE TABLE IF NOT EXISTS entries_of (fingerprint TEXT NOT NULL);"
        )
        held = self.connection.execute("SELECT fingerprint FROM entries_of").fetchone()
        if held is None or held[0] != stamp:
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.execute("DELETE FROM entries")
            self.connection.execute("DELETE FROM entries_of")
            self.connection.execute("INSERT INTO entries_of VALUES (?)", (stamp,))
            self.connection.execute("COMMIT")
        self._known: set[str] | None = None

    def known(self) -> set[str]:
        """Return the keys whose entries are stored (read once, then kept up to date)."""
        if self._known is None:
            rows = self.connection.execute("SELECT DISTINCT key FROM entries")
            self._known = {str(k) for (k,) in rows}
        return self._known

    def put(self, rows: list[tuple[str, str, bytes]]) -> None:
        """Store (key, format, bytes) rows in one transaction."""
        self.connection.execute("BEGIN IMMEDIATE")
        self.connection.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", rows)
        self.connection.execute("COMMIT")
        if self._known is not None:  # else it is read when first asked for
            self._known.update(key for key, _, _ in rows)

    def keep_only(self, keys: set[str]) -> None:
        """Drop the entries of posts no longer published (or changed since)."""
        gone = self.known() - keys
        if gone:
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.executemany("DELETE FROM entries WHERE key = ?", [(k,) for k in gone])
            self.connection.execute("COMMIT")
            self.known().difference_update(gone)

    def close(self) -> None:
        self.connection.close()


class EntryReader:
    """Read-only access to stored entries, opened on first use (in a worker, say)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.connection: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self.connection is None:
            uri = f"file:{self.path}?mode=ro"
            self.connection = sqlite3.connect(uri, uri=True, timeout=30)
        return self.connection

    def get(self, key: str, fmt: str) -> bytes | None:
        row = (
            self._connection()
            .execute("SELECT data FROM entries WHERE key = ? AND fmt = ?", (key, fmt))
            .fetchone()
        )
        return bytes(row[0]) if row is not None else None

    def get_many(self, keys: Collection[str], fmt: str) -> dict[str, bytes]:
        """Return the stored entries of ``keys`` in ``fmt`` (those there are) in one query:
        a document's fifty entries cost one statement, not fifty."""
        found: dict[str, bytes] = {}
        listed = list(keys)
        # In slices: SQLite before 3.32 takes at most 999 parameters in one statement.
        for start in range(0, len(listed), BATCH_KEYS):
            part = listed[start : start + BATCH_KEYS]
            marks = ",".join("?" * len(part))  # placeholders only: the keys are parameters
            query = f"SELECT key, data FROM entries WHERE fmt = ? AND key IN ({marks})"  # noqa: S608
            rows = self._connection().execute(query, (fmt, *part))
            found.update((str(key), bytes(data)) for key, data in rows)
        return found


def store_cache(folder: Path, previous: BuildCache, cache: BuildCache) -> None:
    """Bring the database in line with ``cache``, writing only rows that changed.

    One transaction: a build killed midway leaves the last complete version.
    """
    try:
        with _connect(folder, create=True) as connection:
            assert connection is not None
            if previous.fingerprint != cache.fingerprint:
                # Another version's or a damaged database: start it afresh.
                connection.executescript("".join(f"DROP TABLE IF EXISTS {t};" for t in _TABLES))
                previous = BuildCache()
            connection.executescript(_SCHEMA)
            connection.execute("BEGIN IMMEDIATE")
            _store_rows(connection, previous, cache)
            connection.execute("COMMIT")
    except sqlite3.Error as exc:
        raise _unwritable(folder, exc) from None


def _store_rows(connection: sqlite3.Connection, previous: BuildCache, cache: BuildCache) -> None:
    gone_posts = [(rel,) for rel in previous.posts.keys() - cache.posts.keys()]
    connection.executemany("DELETE FROM posts WHERE rel = ?", gone_posts)
    # Rows are made as they are stored, never listed whole (the posts' alone took ~60 MiB
    # at 100,000 posts, on top of everything the build holds at its end).
    connection.executemany(
        "INSERT OR REPLACE INTO posts VALUES (?, ?, ?, ?)",
        (
            (rel, mtime_ns, size, post_to_json(post))
            for rel, (mtime_ns, size, post) in cache.posts.items()
            if previous.posts.get(rel) != (mtime_ns, size, post)
        ),
    )
    gone_outputs = [(rel,) for rel in previous.outputs.keys() - cache.outputs.keys()]
    connection.executemany("DELETE FROM outputs WHERE path = ?", gone_outputs)
    connection.executemany(
        "INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?)",
        ((rel, *row) for rel, row in cache.outputs.items() if previous.outputs.get(rel) != row),
    )
    summary = {
        "fingerprint": cache.fingerprint,
        "inputs": cache.inputs,
        "next_due": cache.next_due.isoformat() if cache.next_due else "",
        "published": str(cache.published),
        "digest": _outputs_digest(connection),
    }
    connection.executemany("INSERT OR REPLACE INTO summary VALUES (?, ?)", summary.items())
    _store_kept(connection, cache.kept)


def _outputs_digest(connection: sqlite3.Connection) -> str:
    """Digest the stored outputs' sizes and mtimes, in the order the no-change path reads
    them back (the order matters to the digest), as they are read: never listed whole."""
    return digest_stats(
        connection.execute("SELECT path, size, mtime_ns FROM outputs ORDER BY path")
    )


def _store_kept(connection: sqlite3.Connection, kept: KeptPlan | None) -> None:
    """Replace the kept plan (with none: the next build takes the full path)."""
    connection.execute("DELETE FROM kept_files")
    connection.execute("DELETE FROM kept_posts")
    connection.execute("DELETE FROM summary WHERE name IN ('kept', 'sitemap')")
    if kept is None:
        return
    connection.executemany(
        "INSERT INTO kept_files VALUES (?, ?, ?, ?, ?)",
        ((f.path, f.kind, f.fixed, _joined(f.shows), f.shape) for f in kept.files),
    )
    connection.executemany(
        "INSERT INTO kept_posts VALUES (?, ?, ?, ?, ?)",
        ((p.rel, p.id, _iso(p.updated), _iso(p.arrived), p.key) for p in kept.posts),
    )
    connection.executemany(
        "INSERT INTO summary VALUES (?, ?)",
        [("kept", json.dumps(kept.state)), ("sitemap", sitemap_to_json(kept.sitemap))],
    )


def sitemap_to_json(pages: Iterable[tuple[str, str | None]]) -> str:
    """Write the sitemap's pages as one JSON list, 2,000 pages to a call of the encoder: the
    pages of a large site are never listed whole, and a call per page took ~3 µs each."""
    pages = iter(pages)
    pieces = []
    while piece := list(islice(pages, 2000)):
        pieces.append(json.dumps(piece)[1:-1])
    return "[" + ", ".join(pieces) + "]"


def sitemap_from_json(text: str) -> list[tuple[str, str | None]]:
    return [(_text(url), _optional(changed)) for url, changed in json.loads(text)]


def _joined(rels: tuple[str, ...]) -> str:
    """Lay out a kept file's posts one per line, with a newline before and after each, so
    that the files showing a post are found by looking for its line."""
    return "\n" + "\n".join(rels) + "\n"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class KeptReader:
    """The last build's kept plan, read piece by piece by a build that takes the quick
    path (``edits``): never the whole site's worth at once."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    @classmethod
    @contextlib.contextmanager
    def open(cls, folder: Path, expected_fingerprint: str) -> Iterator[KeptReader | None]:
        """Open the kept plan of the last build with these settings and templates; None
        when there is none."""
        try:
            with _connect(folder, create=False) as connection:
                if connection is None or _summary(connection).get("fingerprint") != (
                    expected_fingerprint
                ):
                    yield None
                    return
                yield cls(connection)
        except sqlite3.Error:
            yield None

    def summary(self) -> dict[str, str]:
        return _summary(self.connection)

    def source_stats(self) -> dict[str, tuple[int, int]]:
        """Return each checked post's file (below the content folder) with its mtime and
        size when it was checked."""
        rows = self.connection.execute("SELECT rel, mtime_ns, size FROM posts")
        return {str(rel): (int(mtime), int(size)) for rel, mtime, size in rows}

    def files_showing(self, rels: Collection[str]) -> list[KeptFile]:
        """Return the kept files that show any of the posts of ``rels``."""
        found: dict[str, KeptFile] = {}
        for rel in rels:
            rows = self.connection.execute(
                "SELECT * FROM kept_files WHERE instr(shows, ?) > 0", (_joined((rel,)),)
            )
            for path, kind, fixed, shows, shape in rows:
                listed = tuple(str(shows).strip("\n").split("\n"))
                found[str(path)] = KeptFile(str(path), str(kind), str(fixed), listed, str(shape))
        return [found[path] for path in sorted(found)]

    def posts(self, rels: Collection[str]) -> dict[str, tuple[Post, KeptPost]]:
        """Return the checked front matter and the kept record of each published post of
        ``rels``."""
        found: dict[str, tuple[Post, KeptPost]] = {}
        listed = list(rels)
        for start in range(0, len(listed), BATCH_KEYS):
            part = listed[start : start + BATCH_KEYS]
            marks = ",".join("?" * len(part))
            query = (
                "SELECT p.post, k.rel, k.id, k.updated, k.arrived, k.key FROM kept_posts k "  # noqa: S608
                f"JOIN posts p ON p.rel = k.rel WHERE k.rel IN ({marks})"
            )
            for post, rel, post_id, updated, arrived, key in self.connection.execute(query, part):
                kept = KeptPost(
                    str(rel),
                    _text(post_id),
                    _aware(updated) if updated else None,
                    _aware(arrived) if arrived else None,
                    _text(key),
                )
                found[kept.rel] = (post_from_json(post), kept)
        return found

    def outputs_of(self, paths: Collection[str]) -> dict[str, OutputRow]:
        """Return the key and stat of the output files of ``paths`` that the last build
        wrote."""
        found: dict[str, OutputRow] = {}
        listed = list(paths)
        for start in range(0, len(listed), BATCH_KEYS):
            part = listed[start : start + BATCH_KEYS]
            marks = ",".join("?" * len(part))
            query = f"SELECT path, key, size, mtime_ns FROM outputs WHERE path IN ({marks})"  # noqa: S608
            for path, key, size, mtime in self.connection.execute(query, part):
                found[str(path)] = (str(key), int(size), int(mtime))
        return found


@dataclass(frozen=True)
class EditedRows:
    """What a quick build changes in the cache: the edited posts' rows, the rows of the
    files it made, and the summary values it changes."""

    posts: dict[str, CheckedPost]
    kept_posts: list[KeptPost]
    outputs: dict[str, OutputRow]
    summary: dict[str, str]
    sitemap: list[tuple[str, str | None]]
    # The entries of the edited posts as they were.
    gone: Collection[str]


def store_edit(folder: Path, rows: EditedRows) -> None:
    """Update the cache after a quick build, in one transaction."""
    try:
        with _connect(folder, create=True) as connection:
            assert connection is not None
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(
                "UPDATE posts SET mtime_ns = ?, size = ?, post = ? WHERE rel = ?",
                [(m, size, post_to_json(p), rel) for rel, (m, size, p) in rows.posts.items()],
            )
            connection.executemany(
                "UPDATE kept_posts SET id = ?, updated = ?, arrived = ?, key = ? WHERE rel = ?",
                [(p.id, _iso(p.updated), _iso(p.arrived), p.key, p.rel) for p in rows.kept_posts],
            )
            connection.executemany(
                "UPDATE outputs SET key = ?, size = ?, mtime_ns = ? WHERE path = ?",
                [(*row, path) for path, row in rows.outputs.items()],
            )
            connection.executemany("DELETE FROM entries WHERE key = ?", [(k,) for k in rows.gone])
            summary = {
                **rows.summary,
                "digest": _outputs_digest(connection),
                "sitemap": sitemap_to_json(rows.sitemap),
            }
            connection.executemany("INSERT OR REPLACE INTO summary VALUES (?, ?)", summary.items())
            connection.execute("COMMIT")
    except sqlite3.Error as exc:
        raise _unwritable(folder, exc) from None


def post_to_json(post: Post) -> str:
    """Serialise a checked post's front matter as JSON."""
    return json.dumps(
        {
            "source": str(post.source),
            "id": post.id,
            "title": post.title,
            "slug": post.slug,
            "date": post.date.isoformat(),
            "updated": post.updated.isoformat() if post.updated else None,
            "category": post.category,
            "tags": list(post.tags),
            "summary": post.summary,
            "authors": [[a.name, a.email, a.uri] for a in post.authors],
            "draft": post.draft,
            "minor": post.minor,
            "image": post.image,
            "digest": post.digest,
            "assets": list(post.assets),
            "timed": post.timed,
            "arrived": post.arrived.isoformat() if post.arrived else None,
            "path": post.path,
            "aliases": list(post.aliases),
            "derived_id": post.derived_id,
            "refs": [[r.query, r.line] for r in post.refs],
            "old_feeds": list(post.old_feeds),
        },
        ensure_ascii=False,
    )


def post_from_json(text: str) -> Post:
    """Read a post written by ``post_to_json``; raise on anything else."""
    data: Mapping[str, Any] = json.loads(text)
    updated = data["updated"]
    post = Post(
        source=Path(data["source"]),
        id=_text(data["id"]),
        title=_text(data["title"]),
        slug=_text(data["slug"]),
        date=_aware(data["date"]),
        updated=_aware(updated) if updated is not None else None,
        category=_text(data["category"]) if data["category"] is not None else None,
        tags=tuple(_text(t) for t in data["tags"]),
        summary=_text(data["summary"]) if data["summary"] is not None else None,
        authors=tuple(
            Author(_text(name), _optional(email), _optional(uri))
            for name, email, uri in data["authors"]
        ),
        draft=data["draft"] is True,
        minor=data["minor"] is True,
        image=_optional(data["image"]),
        digest=_text(data["digest"]),
        assets=tuple(_text(a) for a in data["assets"]),
        timed=data["timed"] is True,
        arrived=_aware(data["arrived"]) if data.get("arrived") is not None else None,
        path=_text(data["path"]),
        aliases=tuple(_text(a) for a in data["aliases"]),
        derived_id=data["derived_id"] is True,
        refs=tuple(Ref(_text(query), int(line)) for query, line in data["refs"]),
        old_feeds=tuple(_text(f) for f in data["old_feeds"]),
    )
    return post


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, found {type(value).__name__}")
    return value


def _optional(value: object) -> str | None:
    return None if value is None else _text(value)


def _aware(value: object) -> datetime:
    moment = datetime.fromisoformat(_text(value))
    if moment.tzinfo is None:
        raise ValueError("a date without offset")
    return moment


def _unwritable(folder: Path, exc: sqlite3.Error) -> EnvironmentProblem:
    """Return the problem to report when the cache in ``folder`` cannot be written."""
    return EnvironmentProblem(
        f"the cache cannot be written ({exc}); the output is complete, but the next "
        "build will redo everything (free some space or fix the folder's permissions)",
        path=folder / CACHE_FILE,
    )
