"""The one place that writes files: atomically, and only when the bytes change."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so a reader sees the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(0o644)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def write_outputs(root: Path, files: Mapping[str, bytes]) -> WriteReport:
    """Write every file below ``root`` whose bytes differ; remove files a past build made.

    Only files listed in the previous build's manifest are ever removed, so anything a user
    put in the output folder by hand stays.
    """
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(root)
    written: list[str] = []
    unchanged: list[str] = []
    for rel in sorted(files):
        target = _inside(root, rel)
        if _same_bytes(target, files[rel]):
            unchanged.append(rel)
            continue
        write_atomic(target, files[rel])
        written.append(rel)
    previous = _read_manifest(root)
    removed = sorted(previous - set(files))
    for rel in removed:
        with contextlib.suppress(FileNotFoundError):
            _inside(root, rel).unlink()
    manifest = json.dumps(sorted(files), indent=0).encode("utf-8") + b"\n"
    if not _same_bytes(root / MANIFEST, manifest):
        write_atomic(root / MANIFEST, manifest)
    return WriteReport(tuple(written), tuple(unchanged), tuple(removed))


def _inside(root: Path, rel: str) -> Path:
    target = (root / rel).resolve()
    if not target.is_relative_to(root.resolve()):
        raise ValueError(f"refusing to write outside the output folder: {rel}")
    return root / rel


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except FileNotFoundError:
        return False


def _read_manifest(root: Path) -> set[str]:
    try:
        listed = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return set()
    return {rel for rel in listed if isinstance(rel, str)}


def _remove_stale_temporaries(root: Path) -> None:
    """Delete temporary files left by a build that was killed mid-write."""
    for stale in root.rglob(f"{_TMP_PREFIX}*"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
