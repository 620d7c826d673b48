"""The one place that writes files: atomically, and only when the bytes change."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import BinaryIO, Literal

from wcitfeed import libc

MANIFEST = ".wcitfeed-manifest.json"
_TMP_PREFIX = ".wcitfeed-tmp-"


@dataclass(frozen=True)
class WriteReport:
    """What a write changed in the output folder, as relative paths."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def changed(self) -> bool:
        """Return True when any file was written or removed."""
        return bool(self.written or self.removed)


def write_atomic(path: Path, data: bytes, staging: Path | None = None) -> None:
    """Write ``data`` to ``path`` so a reader sees the old file or the new one, never a part.

    The temporary file goes in ``staging`` when given (a folder on the same file system,
    outside a published tree), else beside ``path``.
    """
    _replace(path, [data], staging)


def write_chunks_if_changed(path: Path, chunks: Iterable[bytes]) -> bool:
    """Write ``path`` atomically from ``chunks`` unless it already holds exactly those
    bytes; say if it wrote. The bytes are never held whole: they go to a temporary file
    beside ``path``, which replaces it only when they differ from what it holds."""
    return _replace(path, chunks, None, unless_same=True)


def _replace(
    path: Path, chunks: Iterable[bytes], staging: Path | None, *, unless_same: bool = False
) -> bool:
    """Write ``chunks`` to a temporary file, flush it to disk and rename it over ``path``
    (``unless_same``: unless ``path`` holds those very bytes); say if it did."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=staging or path.parent)
    tmp = Path(name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                if unless_same:
                    digest.update(chunk)
                handle.write(chunk)
            if unless_same and _stat_if_holds(path, handle.tell(), digest.hexdigest()):
                tmp.unlink()
                return False
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(0o644)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return True


@dataclass(frozen=True, slots=True)
class Planned:
    """One output file: its path and a digest of everything it is made of."""

    path: str
    key: str


@dataclass(frozen=True, slots=True)
class Staged:
    """A file written into a cold build's staged tree by whoever made it (a worker process:
    see ``OutputSync.tree``), so its bytes never pass through the main process."""

    size: int


def stage_in_tree(tree: str, rel: str, data: bytes) -> Staged:
    """Write the file ``rel`` (a path below the output folder) into the staged tree
    ``tree``."""
    path = f"{tree}/{_checked(rel)}"
    try:
        _write_new(path, data)
    except FileNotFoundError:
        # Its folder is not there yet: the file that comes first makes it. Asking first
        # for each of a cold build's ~20,000 files cost three more calls each.
        os.makedirs(path.rpartition("/")[0], exist_ok=True)
        _write_new(path, data)
    return Staged(len(data))


def _write_new(path: str, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)


# Makes a file's bytes from its path: all of them, or for a large file a stream of chunks
# written as they come, or word that they are staged already.
Make = Callable[[str], bytes | Iterator[bytes] | Staged]


OutputState = dict[str, tuple[str, int, int]]


class OutputSync:
    """Brings the output folder in line with the plan, in as many steps as the caller likes.

    A file whose key and stat match the last build is neither made nor read. A made file is
    written only when its bytes differ, so its mtime (and a web server's ETag) stays. All
    writes of a build are staged and committed together in ``finish``.
    """

    def __init__(
        self,
        root: Path,
        previous: Mapping[str, tuple[str, int, int]],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.root = root
        self.previous = previous
        self.progress = progress
        self.done = 0
        self.written: list[str] = []
        self.unchanged: list[str] = []
        # Every planned file's key, size and mtime; a written file's size and mtime are
        # filled in once it is published.
        self.state: OutputState = {}
        self.batch = _Batch(root)

    def tree(self) -> str | None:
        """Return the folder this build stages the whole output tree in (a cold build's,
        published with one rename), for files to be written straight into it; else None
        (each file is then staged here, by ``sync``)."""
        return self.batch.tree()

    def sync(self, planned: Iterable[Planned], make: Make) -> None:
        """Make (``make(path)``) and stage the files of ``planned`` that may have changed."""
        # Strings, not Paths, for the files that did not change: an edit checks them all.
        base = os.fspath(self.root) + os.sep
        for item in planned:
            self.state[item.path] = (item.key, 0, 0)
            before = self.previous.get(item.path)
            info = _stat(base + item.path) if before is not None else None
            if before is not None and info is not None and before == (item.key, *info):
                self.unchanged.append(item.path)
                self.state[item.path] = before
            else:
                target = base + _checked(item.path)
                data = make(item.path)
                if isinstance(data, Staged):
                    self.batch.adopt()
                    self.written.append(item.path)
                elif not isinstance(data, bytes):
                    self._stage_stream(item, target, data)
                elif _same_bytes(target, data):
                    self.unchanged.append(item.path)
                    info = _stat(target)
                    assert info is not None
                    self.state[item.path] = (item.key, *info)
                else:
                    self.batch.stage(item.path, data)
                    self.written.append(item.path)
            self.done += 1
            if self.progress is not None:
                self.progress(self.done)

    def _stage_stream(self, item: Planned, target: str, chunks: Iterator[bytes]) -> None:
        """Stage a file written chunk by chunk; drop it again if it equals the one there."""
        staged, size, digest = self.batch.stage_stream(item.path, chunks)
        info = _stat_if_holds(target, size, digest)
        if info is not None:
            self.batch.unstage(staged)
            self.unchanged.append(item.path)
            self.state[item.path] = (item.key, *info)
        else:
            self.written.append(item.path)

    def abort(self) -> None:
        """Drop every staged write; the output folder stays as the last build left it."""
        self.batch.abort()

    def finish(self, *, whole: bool = True) -> tuple[WriteReport, OutputState]:
        """Commit every staged write, then (when the plan was ``whole``, not the few files
        a quick build makes again) remove what earlier builds wrote and this did not."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.batch.commit()
        for rel in self.written:
            info = _stat(self.root / rel)
            assert info is not None
            self.state[rel] = (self.state[rel][0], *info)
        removed = _remove_unlisted(self.root, set(self.state)) if whole else []
        remove_staging(self.root)
        report = WriteReport(tuple(self.written), tuple(self.unchanged), tuple(removed))
        return report, self.state


class _WriteBehind:
    """Flush the file system a build writes to every second while it writes, so that the
    one flush that makes the build durable (before it publishes) finds little left: the
    disk writes while the processors make the rest. Without it, a cold build of 10,000
    posts left its 700 MB to the kernel (which starts writing only past a tenth of memory)
    and waited for all of it at the end."""

    INTERVAL = 1.0

    def __init__(self, folder: Path) -> None:
        self._fd = os.open(folder, os.O_RDONLY)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wcitfeed-write-behind")
        self._thread.daemon = True  # a build that dies does not wait for it
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.INTERVAL):
            if not libc.syncfs(self._fd):
                return  # no syncfs here: the flush at the end does it all

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        os.close(self._fd)


class _Batch:
    """Many atomic writes with one flush to disk instead of one per file.

    Every file is written to a staging folder beside the output folder (on the same file
    system, so a rename can move it in), never inside the published tree; then one flush
    of that file system makes all their bytes durable, and only then are they published.
    Into an empty output folder (a cold build) a folder of this build's own inside the
    staging folder is laid out as the tree itself (worker processes write into it too)
    and published with one rename; otherwise each file's rename replaces its target. The
    tree's name is new for every build, so a worker of a killed build that writes one last
    file before it notices never writes into the next build's tree. A kill at any moment
    leaves each target either old or new, never partial, and no temporary file among the
    published ones; the next build removes the staging folder a killed one left. When the
    staging folder would be on another file system (the output folder is a mount point)
    or cannot be made, files are staged beside their targets instead, and a failing build
    removes them itself. The output folder itself is made only to publish: a build that
    fails before then leaves none behind.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging = staging_folder(root)
        self.tree_folder = self.staging / f"tree-{secrets.token_hex(8)}"
        self.mode: Literal["tree", "staging", "beside"] | None = None
        # (staged file, target) of each write, as strings, and the folders made so far:
        # pathlib objects for them took three times the memory and 30 times the time (22 MiB
        # and 0.4 s for 35,000 files). A tree is published whole, so a cold build, which
        # stages every file of the site, only counts them (another 10 MiB at 35,000).
        self.staged: list[tuple[str, str]] = []
        self.tree_files = 0
        self.folders: set[str] = set()
        self.write_behind: _WriteBehind | None = None

    def _choose_mode(self) -> Literal["tree", "staging", "beside"]:
        self.root.parent.mkdir(parents=True, exist_ok=True)
        there = self.root if self.root.exists() else self.root.parent
        self.write_behind = _WriteBehind(there)
        try:
            self.staging.mkdir(exist_ok=True)
            if self.staging.stat().st_dev != there.stat().st_dev:
                return "beside"  # the output folder is a mount point
        except OSError:  # the output folder's parent is not ours to write
            return "beside"
        if self.root.exists() and any(self.root.iterdir()):
            return "staging"
        self.tree_folder.mkdir()
        return "tree"

    def tree(self) -> str | None:
        """Return the folder laid out as the whole tree in a cold build, else None."""
        if self.mode is None:
            self.mode = self._choose_mode()
        return os.fspath(self.tree_folder) if self.mode == "tree" else None

    def adopt(self) -> None:
        """Count a file someone else wrote into the staged tree (see ``tree``)."""
        self.tree_files += 1

    def stage(self, rel: str, data: bytes | Iterator[bytes]) -> str:
        """Stage the file ``rel`` (a path below the output folder, checked by the caller);
        return where it was staged."""
        if self.mode is None:
            self.mode = self._choose_mode()
        if self.mode == "tree":
            path = f"{self.tree_folder}/{rel}"
            self._make_folder(path.rpartition("/")[0])
            self.tree_files += 1
            with open(path, "wb") as handle:
                _write_all(handle, data)
            return path
        target = f"{self.root}/{rel}"
        folder = target.rpartition("/")[0]
        self._make_folder(folder)
        fd, tmp = tempfile.mkstemp(
            prefix=_TMP_PREFIX, dir=folder if self.mode == "beside" else self.staging
        )
        self.staged.append((tmp, target))
        with os.fdopen(fd, "wb") as handle:
            _write_all(handle, data)
        os.chmod(tmp, 0o644)
        return tmp

    def _make_folder(self, folder: str) -> None:
        if folder not in self.folders:
            os.makedirs(folder, exist_ok=True)
            self.folders.add(folder)

    def stage_stream(self, rel: str, chunks: Iterator[bytes]) -> tuple[str, int, str]:
        """Stage a file from chunks; return where it was staged, its size and its digest."""
        digest = hashlib.sha256()
        size = 0

        def counted() -> Iterator[bytes]:
            nonlocal size
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                yield chunk

        staged = self.stage(rel, counted())
        return staged, size, digest.hexdigest()

    def unstage(self, staged: str) -> None:
        """Forget one staged file (it turned out to equal the published one)."""
        if self.mode == "tree":
            self.tree_files -= 1
        self.staged = [(tmp, target) for tmp, target in self.staged if tmp != staged]
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staged)

    def _stop_writing_behind(self) -> None:
        if self.write_behind is not None:
            self.write_behind.stop()
            self.write_behind = None

    def commit(self) -> None:
        self._stop_writing_behind()
        if self.tree_files:
            _sync_file_system(self.root)
            # The whole tree at once: the empty output folder is replaced by the staged one.
            self.tree_folder.chmod(self.root.stat().st_mode & 0o7777)
            self.root.rmdir()
            self.tree_folder.rename(self.root)
            _fsync_dir(self.root.parent)
            self.tree_files = 0
        elif self.staged:
            _sync_file_system(self.root)
            for tmp, target in self.staged:
                os.replace(tmp, target)
            for folder in {target.rpartition("/")[0] for _, target in self.staged}:
                _fsync_dir(folder)
            self.staged.clear()
        remove_staging(self.root)

    def abort(self) -> None:
        """Remove what was staged: a failed build leaves the published files as they were.
        (Removing the staging folder removes a staged tree.)"""
        self._stop_writing_behind()
        for tmp, _ in self.staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        self.staged.clear()
        self.tree_files = 0
        remove_staging(self.root)


def _write_all(handle: BinaryIO, data: bytes | Iterator[bytes]) -> None:
    if isinstance(data, bytes):
        handle.write(data)
    else:
        for chunk in data:
            handle.write(chunk)


def _file_digest(path: Path | str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def staging_folder(root: Path) -> Path:
    """Return the folder beside ``root`` where a build stages its files."""
    return root.parent / f".{root.name}.wcitfeed-staging"


def remove_staging(root: Path) -> None:
    """Remove the staging folder of ``root`` and whatever a killed build left in it."""
    shutil.rmtree(staging_folder(root), ignore_errors=True)


def _sync_file_system(folder: Path) -> None:
    """Flush the file system that holds ``folder`` (not every file system on the host)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        if not libc.syncfs(fd):
            os.sync()
    finally:
        os.close(fd)


def digest_stats(rows: Iterable[tuple[str, int, int]]) -> str:
    """Digest (path, size, mtime) rows: the one form every stat comparison uses."""
    digest = hashlib.sha256()
    rows = iter(rows)
    # A few thousand rows per update: one update per row was half the cost of a no-op's
    # digests, and all rows at once would hold megabytes at 100,000 posts.
    while lines := [f"{rel}\0{size}\0{mtime_ns}\n" for rel, size, mtime_ns in islice(rows, 4096)]:
        digest.update("".join(lines).encode())
    return digest.hexdigest()


def stat_digest(root: Path, rels: Iterable[str]) -> str | None:
    """Digest the size and mtime of each file (None when one is missing).

    Equal to the digest the cache keeps of the state that wrote them (``digest_stats`` of
    their recorded sizes and mtimes) while nobody touched them.
    """
    # Plain os.stat on strings: a no-change build does this for every output file.
    base = os.fspath(root) + os.sep
    rows = []
    for rel in rels:
        try:
            info = os.stat(base + rel)
        except FileNotFoundError:
            return None
        rows.append((rel, info.st_size, info.st_mtime_ns))
    return digest_stats(rows)


def _stat(path: Path | str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_size, info.st_mtime_ns


def _remove_unlisted(root: Path, produced: set[str]) -> list[str]:
    """Remove files an earlier build wrote that this one does not; update the manifest."""
    previous = _read_manifest(root)
    removed = sorted(previous - produced)
    for rel in removed:
        with contextlib.suppress(FileNotFoundError):
            (root / _checked(rel)).unlink()
    if previous and previous == produced:
        return removed  # most builds keep the same files, which the manifest lists already
    listing = json.dumps(sorted(produced), indent=0).encode() + b"\n"
    if not _same_bytes(root / MANIFEST, listing):
        # Staged outside the published tree like every other file of the build.
        staging = staging_folder(root)
        try:
            staging.mkdir(exist_ok=True)
            same = staging.stat().st_dev == root.stat().st_dev
        except OSError:
            same = False
        write_atomic(root / MANIFEST, listing, staging if same else None)
    return removed


def _stat_if_holds(path: Path | str, size: int, digest: str) -> tuple[int, int] | None:
    """Return the size and mtime of ``path`` if it holds ``size`` bytes of this sha256
    ``digest``; else None."""
    info = _stat(path)
    if info is not None and info[0] == size and _file_digest(path) == digest:
        return info
    return None


def _checked(rel: str) -> str:
    """Return ``rel``, refusing a path that could lead out of the folder it is below.

    Checked on the string (no '..', no absolute path, no empty part) rather than with
    resolve(), which asks the file system once per file.
    """
    parts = rel.split("/")
    if rel.startswith("/") or any(part in ("", ".", "..") for part in parts) or "\0" in rel:
        raise ValueError(f"refusing to write outside the output folder: {rel}")
    return rel


def _same_bytes(path: Path | str, data: bytes) -> bool:
    try:
        if os.stat(path).st_size != len(data):
            return False
        with open(path, "rb") as handle:
            return handle.read() == data
    except FileNotFoundError:
        return False


def _read_manifest(root: Path) -> set[str]:
    try:
        listed = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return set()
    return {rel for rel in listed if isinstance(rel, str)}


def remove_temporaries(folder: Path, *, recursive: bool = False) -> None:
    """Delete the temporary files a build killed mid-write left in ``folder``."""
    found = folder.rglob(f"{_TMP_PREFIX}*") if recursive else folder.glob(f"{_TMP_PREFIX}*")
    for stale in found:
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def _fsync_dir(folder: Path | str) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
