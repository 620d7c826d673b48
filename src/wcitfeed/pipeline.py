"""The build, top to bottom: settings, posts, plan, then make and write what changed.

Everything is read and checked before anything is written, so an invalid post leaves the
published output exactly as it was. Each output file carries a key (a digest of everything
it is made of); a file whose key and stat match the last build is not made again, and a
build whose inputs all match the last one stops after a few stat calls.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import filelock

from wcitfeed.cache import (
    CACHE_FILE,
    QUICK_FILE,
    BuildCache,
    encode_cache,
    encode_quick,
    fingerprint,
    read_cache,
    read_quick,
)
from wcitfeed.config import load_site
from wcitfeed.content import Source, load_posts, scan_sources
from wcitfeed.errors import WcitfeedError
from wcitfeed.ledger import apply_ledger, encode_ledger, read_ledger
from wcitfeed.model import Site, published
from wcitfeed.output import (
    OutputSync,
    WriteReport,
    remove_temporaries,
    stat_digest,
    write_atomic,
    write_if_changed,
)

LOCK_FILE = "build.lock"
SLICE = 600
WRITING = "writing"
# Below this many posts to render, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 400


class Locked(WcitfeedError):
    """Another build holds the lock on this site."""


@dataclass(frozen=True)
class Paths:
    """Where to read and write; ``None`` means 'as the settings file says'."""

    config: Path | None = None
    content: Path | None = None
    templates: Path | None = None
    output: Path | None = None


@dataclass(frozen=True)
class Options:
    """How to run: the time to build for, how long to wait for the lock, and progress.

    ``preview`` is a base URL for a local preview: drafts are shown, the ledger is left
    alone, and output and cache go to a preview folder inside the cache folder.
    """

    now: datetime
    wait: float = 60.0
    write: bool = True
    preview: str | None = None
    skip_invalid: bool = False
    progress: Callable[[int], Any] | None = None
    on_plan: Callable[[int], Any] | None = None


@dataclass
class BuildResult:
    """The outcome: posts published, what changed on disk, hub pings and warnings."""

    site: Site
    posts: int = 0
    report: WriteReport = field(default_factory=lambda: WriteReport((), (), ()))
    files: int = 0
    pinged: tuple[str, ...] = ()
    warnings: list[WcitfeedError] = field(default_factory=list)
    skipped: bool = False
    invalid: list[WcitfeedError] = field(default_factory=list)


def build(paths: Paths, options: Options) -> BuildResult:
    """Build the site under the lock; return what changed."""
    site = load_site(
        paths.config,
        content_dir=paths.content,
        templates_dir=paths.templates,
        output_dir=paths.output,
    )
    if options.preview is not None:
        preview = site.cache_dir / "preview"
        site = replace(
            site,
            base_url=options.preview,
            output_dir=preview / "output",
            cache_dir=preview,
            ledger=None,
        )
    site.cache_dir.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(site.cache_dir / LOCK_FILE)
    try:
        lock.acquire(timeout=options.wait)
    except filelock.Timeout:
        raise Locked(
            f"another build of this site is running (waited {options.wait:g} s for "
            f"{site.cache_dir / LOCK_FILE}; try again, or pass --wait SECONDS)"
        ) from None
    try:
        return _build_locked(site, options)
    finally:
        lock.release()


def _build_locked(site: Site, options: Options) -> BuildResult:
    now = options.now.astimezone(site.timezone).replace(microsecond=0)
    stamp = fingerprint(site.source, site.templates_dir)
    sources, assets = scan_sources(site)
    inputs = _inputs_signature(sources, assets, site.ledger)
    # The no-change path reads only the small summary, never the whole cache.
    quick = read_quick(site.cache_dir, stamp) if options.write else None
    if (
        quick is not None
        and not (site.cache_dir / WRITING).exists()  # a killed build has cleaning up to do
        and quick.inputs == inputs
        and (quick.next_due is None or now < quick.next_due)
        and stat_digest(site.output_dir, quick.outputs) == quick.digest
    ):
        return BuildResult(site, posts=-1, files=len(quick.outputs), skipped=True)
    cache = read_cache(site.cache_dir, stamp) if options.write else BuildCache()

    loaded = load_posts(site, sources, cache.posts, skip_invalid=options.skip_invalid)
    ledger = read_ledger(site.ledger)
    posts, new_ledger = apply_ledger(loaded.posts, ledger, now)
    live = published(posts, now, drafts=options.preview is not None)
    due = [p.date for p in posts if not p.draft and p.date > now]

    # Rendering and feed modules are imported here, not at the top: a build with nothing to
    # do stops before this point and never pays for importing them.
    from wcitfeed.plan import plan_outputs

    planned, jobs, maker = plan_outputs(site, stamp, live, assets, loaded.bodies)
    if options.on_plan is not None:
        options.on_plan(len(planned))
    if not options.write:
        for item in planned:
            item.make()
        return BuildResult(
            site,
            len(live),
            files=len(planned),
            warnings=[*loaded.warnings, *maker.warnings],
            invalid=loaded.invalid,
        )

    # Stale files are made in slices, on every core, and staged as each slice is done, so
    # a cold build holds one slice of output in memory, not all of it.
    stale = {item.path for item in planned if cache.outputs.get(item.path, ("",))[0] != item.key}
    # A marker that outlives a killed build: only then are there temporaries to look for
    # (in the output tree, the cache folder and beside the ledger).
    writing = site.cache_dir / WRITING
    if writing.exists() or not cache.outputs:
        remove_temporaries(site.output_dir, recursive=True)
        for folder in {site.cache_dir, *([site.ledger.parent] if site.ledger else [])}:
            remove_temporaries(folder)
    syncer = OutputSync(site.output_dir, cache.outputs, options.progress)
    writing.touch()
    try:
        for start in range(0, len(planned), SLICE):
            piece = planned[start : start + SLICE]
            maker.make_in_parallel([(i.path, jobs[i.path]) for i in piece if i.path in stale])
            syncer.sync(piece)
    finally:
        maker.close()
    report, state = syncer.finish()

    if site.ledger is not None and (new_ledger or site.ledger.exists()):
        write_if_changed(site.ledger, encode_ledger(new_ledger))
    by_file = {s.file: s for s in sources}
    checked = {}
    for post in loaded.posts:
        source = by_file[str(post.source)]
        checked[source.rel] = (source.mtime_ns, source.size, post)
    new_cache = BuildCache(
        fingerprint=stamp,
        # With invalid posts left out, the next build must look again, not skip.
        inputs="" if loaded.invalid else _inputs_signature(sources, assets, site.ledger),
        next_due=min(due, default=None),
        posts=checked,
        outputs=state,
    )
    write_atomic(site.cache_dir / CACHE_FILE, encode_cache(new_cache))
    write_atomic(site.cache_dir / QUICK_FILE, encode_quick(new_cache))
    writing.unlink(missing_ok=True)

    result = BuildResult(
        site,
        len(live),
        report,
        len(planned),
        warnings=[*loaded.warnings, *maker.warnings],
        invalid=loaded.invalid,
    )
    if site.hub:
        from wcitfeed.websub import ping_hub

        # The plan knows which documents are live feeds; archive pages are never subscribed.
        changed = [
            site.url(p) for p in report.written if jobs[p][0] == "document" and jobs[p][1].live
        ]
        if changed:
            result.warnings += ping_hub(site.hub, changed)
            result.pinged = tuple(changed)
    return result


def _inputs_signature(posts: list[Source], assets: list[Source], ledger: Path | None) -> str:
    digest = hashlib.sha256()
    for source in [*posts, *assets]:
        digest.update(f"{source.rel}\0{source.mtime_ns}\0{source.size}\n".encode())
    if ledger is not None:
        try:
            info = ledger.stat()
            digest.update(f"ledger\0{info.st_mtime_ns}\0{info.st_size}".encode())
        except FileNotFoundError:
            digest.update(b"no ledger")
    return digest.hexdigest()
