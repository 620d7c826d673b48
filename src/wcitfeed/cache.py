"""The build cache: what the last build read and wrote, so the next one redoes only changes.

The cache is a single pickle in the cache folder. It is trusted only when wcitfeed's version,
the settings file and every template are byte for byte as they were; otherwise it is ignored
and rebuilt. Deleting it costs one full build, nothing more.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from wcitfeed import __version__
from wcitfeed.model import Post
from wcitfeed.output import state_digest

CACHE_FILE = "state.pickle"
QUICK_FILE = "quick.pickle"
_FORMAT = 1


@dataclass
class BuildCache:
    """What one build knew: checked posts by source, and each output's key and stat."""

    fingerprint: str = ""
    inputs: str = ""
    next_due: datetime | None = None
    posts: dict[str, tuple[int, int, Post]] = field(default_factory=dict)
    outputs: dict[str, tuple[str, int, int]] = field(default_factory=dict)


def fingerprint(config: Path | None, templates_dir: Path) -> str:
    """Digest wcitfeed's version and modules, the settings file and every template."""
    digest = hashlib.sha256(f"{_FORMAT} {__version__} {sys.version_info[:2]}".encode())
    # wcitfeed's own modules by size and time too: an edited checkout is a new version.
    for module in sorted(Path(__file__).parent.glob("*.py")):
        info = module.stat()
        digest.update(f"{module.name} {info.st_size} {info.st_mtime_ns}".encode())
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


def read_cache(folder: Path, expected_fingerprint: str) -> BuildCache:
    """Return the saved cache, or an empty one when it is missing, unreadable or stale."""
    cache = _load(folder / CACHE_FILE)
    if not isinstance(cache, BuildCache) or cache.fingerprint != expected_fingerprint:
        return BuildCache()
    return cache


def _load(path: Path) -> object:
    """Unpickle a cache file; None when it is missing or unreadable (a killed write, an
    older wcitfeed): the cache is only ever an optimisation."""
    try:
        with path.open("rb") as handle:
            # Written only by wcitfeed, into the user's own folder.
            return pickle.load(handle)  # noqa: S301
    except (
        OSError,
        EOFError,
        pickle.UnpicklingError,
        AttributeError,
        ImportError,
        TypeError,
        ValueError,
    ):
        return None


@dataclass(frozen=True)
class QuickState:
    """The little a no-change build needs: input signature, due date, outputs and their stat."""

    fingerprint: str
    inputs: str
    next_due: datetime | None
    outputs: tuple[str, ...]
    digest: str


def read_quick(folder: Path, expected_fingerprint: str) -> QuickState | None:
    """Return the saved summary when it belongs to these settings and templates."""
    quick = _load(folder / QUICK_FILE)
    if not isinstance(quick, QuickState) or quick.fingerprint != expected_fingerprint:
        return None
    return quick


def encode_quick(cache: BuildCache) -> bytes:
    """Serialise the summary of a saved cache."""
    quick = QuickState(
        cache.fingerprint,
        cache.inputs,
        cache.next_due,
        tuple(cache.outputs),
        state_digest(cache.outputs),
    )
    return pickle.dumps(quick, protocol=pickle.HIGHEST_PROTOCOL)


def encode_cache(cache: BuildCache) -> bytes:
    """Serialise the cache for the atomic writer."""
    return pickle.dumps(cache, protocol=pickle.HIGHEST_PROTOCOL)
