"""The build, top to bottom: settings, posts, plan, then make and write what changed.

Everything is read and checked before anything is written, so an invalid post leaves the
published output exactly as it was. Each output file carries a key (a digest of everything
it is made of); a file whose key and stat match the last build is not made again, and a
build whose inputs all match the last one stops after a few stat calls.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import filelock

from wcitfeed.cache import BuildCache, encode_cache, fingerprint, read_cache
from wcitfeed.config import load_site
from wcitfeed.content import Source, load_posts, read_body, scan_sources
from wcitfeed.errors import WcitfeedError
from wcitfeed.ledger import apply_ledger, encode_ledger, read_ledger
from wcitfeed.model import Post, RenderedPost, Site, newest_first
from wcitfeed.output import (
    Planned,
    WriteReport,
    outputs_intact,
    sync_outputs,
    write_atomic,
)

LOCK_FILE = "build.lock"
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
    """How to run: the time to build for, how long to wait for the lock, and progress."""

    now: datetime
    wait: float = 60.0
    write: bool = True
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


def build(paths: Paths, options: Options) -> BuildResult:
    """Build the site under the lock; return what changed."""
    site = load_site(
        paths.config,
        content_dir=paths.content,
        templates_dir=paths.templates,
        output_dir=paths.output,
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
    cache = read_cache(site.cache_dir, stamp) if options.write else BuildCache()
    sources, assets = scan_sources(site)
    inputs = _inputs_signature(sources, assets, site.ledger)
    if (
        options.write
        and cache.inputs == inputs
        and (cache.next_due is None or now < cache.next_due)
        and outputs_intact(site.output_dir, cache.outputs)
    ):
        return BuildResult(site, posts=-1, files=len(cache.outputs), skipped=True)

    loaded = load_posts(site, sources, cache.posts)
    ledger = read_ledger(site.ledger)
    posts, new_ledger = apply_ledger(loaded.posts, ledger, now)
    live = [p for p in posts if not p.draft and p.date <= now]
    due = [p.date for p in posts if not p.draft and p.date > now]

    planned, needs, warnings, prerender = _plan(site, stamp, live, assets, loaded.bodies)
    if options.on_plan is not None:
        options.on_plan(len(planned))
    if not options.write:
        for item in planned:
            item.make()
        return BuildResult(
            site, len(live), files=len(planned), warnings=[*loaded.warnings, *warnings]
        )

    stale = {item.path for item in planned if cache.outputs.get(item.path, ("",))[0] != item.key}
    prerender([post for path, post_list in needs.items() if path in stale for post in post_list])
    report, state = sync_outputs(site.output_dir, planned, cache.outputs, options.progress)

    if site.ledger is not None and (new_ledger or site.ledger.exists()):
        data = encode_ledger(new_ledger)
        if not site.ledger.exists() or site.ledger.read_bytes() != data:
            write_atomic(site.ledger, data)
    by_path = {s.path: s for s in sources}
    new_cache = BuildCache(
        fingerprint=stamp,
        inputs=_inputs_signature(sources, assets, site.ledger),
        next_due=min(due, default=None),
        posts={
            by_path[p.source].rel: (by_path[p.source].mtime_ns, by_path[p.source].size, p)
            for p in loaded.posts
        },
        outputs=state,
    )
    write_atomic(site.cache_dir / "state.pickle", encode_cache(new_cache))

    result = BuildResult(
        site, len(live), report, len(planned), warnings=[*loaded.warnings, *warnings]
    )
    if site.hub:
        from wcitfeed.websub import ping_hub

        feeds = {"atom.xml", "rss.xml", "feed.json"}
        changed = [
            site.url(p)
            for p in report.written
            if p.rsplit("/", 1)[-1] in feeds and "/archive/" not in f"/{p}"
        ]
        if changed:
            result.warnings += ping_hub(site.hub, changed)
            result.pinged = tuple(changed)
    return result


def _plan(
    site: Site,
    stamp: str,
    posts: list[Post],
    assets: list[Source],
    bodies: dict[Path, str],
) -> tuple[
    list[Planned], dict[str, tuple[Post, ...]], list[WcitfeedError], Callable[[list[Post]], None]
]:
    """List every output file with its key and maker, and the posts each needs rendered.

    Nothing is rendered yet: makers run only for files whose key changed.
    """
    # Rendering and feed modules are imported here, not at the top: a build with nothing to
    # do stops before this point and never pays for importing them.
    from wcitfeed import feedset, render

    templates = render.load_templates(site.templates_dir)
    asset_sizes = {a.rel: a.size for a in assets}
    memo: dict[Path, RenderedPost] = {}
    warnings: list[WcitfeedError] = []

    def rendered(post: Post) -> RenderedPost:
        item = memo.get(post.source)
        if item is None or item.post != post:
            body = bodies.get(post.source)
            if body is None:
                body = read_body(post.source)
            item = render.render_post(site, post, body, templates, asset_sizes)
            memo[post.source] = item
        return item

    def prerender(needed: list[Post]) -> None:
        unique = list({p.source: p for p in needed if p.source not in memo}.values())
        if len(unique) < PARALLEL_THRESHOLD or (os.cpu_count() or 1) < 2:
            return
        jobs = [(p, bodies.get(p.source)) for p in unique]
        chunks = [jobs[i : i + 100] for i in range(0, len(jobs), 100)]
        workers = min(os.cpu_count() or 1, 4)
        with ProcessPoolExecutor(
            workers, initializer=_worker_init, initargs=(site, asset_sizes)
        ) as pool:
            for chunk in pool.map(_worker_render, chunks):
                for item in chunk:
                    memo[item.post.source] = item

    def key(*parts: object) -> str:
        digest = hashlib.sha256(stamp.encode())
        for part in parts:
            digest.update(repr(part).encode())
        return digest.hexdigest()

    feeds = feedset.logical_feeds(site, posts)
    links = feedset.feed_links(site, feeds)
    site_links = [link for link in links if link.group == feedset.SITE_GROUP] or links

    def fragment_bytes(post: Post) -> bytes:
        return render.render_fragment(site, rendered(post), templates).encode("utf-8")

    def page_bytes(post: Post) -> bytes:
        fragment = render.render_fragment(site, rendered(post), templates)
        return render.render_post_page(site, fragment, post, templates, site_links)

    def index_bytes() -> bytes:
        return render.render_index(
            site,
            sections,
            templates,
            site_links,
            lambda post: render.render_fragment(site, rendered(post), templates),
        )

    def document_bytes(plan: feedset.DocPlan) -> bytes:
        data, found = feedset.make_document(site, plan, rendered)
        warnings.extend(found)
        return data

    planned: list[Planned] = []
    needs: dict[str, tuple[Post, ...]] = {}
    for asset in assets:
        planned.append(
            Planned(asset.rel, key("asset", asset.mtime_ns, asset.size), asset.path.read_bytes)
        )
    for post in posts:
        path = f"fragments/{post.slug}.html"
        planned.append(Planned(path, key("fragment", post), partial(fragment_bytes, post)))
        needs[path] = (post,)
        planned.append(
            Planned(
                f"{render.post_path(post)}index.html",
                key("page", post, site_links),
                partial(page_bytes, post),
            )
        )
    sections = _sections(site, posts)
    planned.append(Planned("index.html", key("index", sections, site_links), index_bytes))
    needs["index.html"] = tuple(p for section in sections for p in section[2])
    for path, data in render.render_feed_pages(site, links, site_links, templates).items():
        planned.append(Planned(path, key(path, data), partial(bytes, data)))
    for feed in feeds:
        for plan in feedset.plan_documents(site, feed):
            planned.append(Planned(plan.path, key(plan), partial(document_bytes, plan)))
            needs[plan.path] = plan.posts
    return planned, needs, warnings, prerender


def _sections(
    site: Site, posts: Iterable[Post]
) -> list[tuple[str, str, tuple[Post, ...], tuple[Post, ...]]]:
    """Split posts by category for the updates page: newest in full, the rest as links."""
    ordered = newest_first(posts)
    groups = [(key, label) for key, label in site.categories]
    known = {key for key, _ in groups}
    if any(p.category not in known for p in ordered):
        groups.append(("other", "Other updates"))
    sections = []
    for key, label in groups:
        chosen = [
            p
            for p in ordered
            if (p.category == key) or (key == "other" and p.category not in known)
        ]
        if chosen:
            limit = site.feed_limit or len(chosen)
            sections.append((key, label, tuple(chosen[:limit]), tuple(chosen[limit:])))
    return sections


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


_WORKER: dict[str, Any] = {}


def _worker_init(site: Site, asset_sizes: dict[str, int]) -> None:
    from wcitfeed import render

    _WORKER.update(
        site=site, sizes=asset_sizes, templates=render.load_templates(site.templates_dir)
    )


def _worker_render(jobs: list[tuple[Post, str | None]]) -> list[RenderedPost]:
    from wcitfeed import render

    site, sizes, templates = _WORKER["site"], _WORKER["sizes"], _WORKER["templates"]
    return [
        render.render_post(
            site, post, body if body is not None else read_body(post.source), templates, sizes
        )
        for post, body in jobs
    ]
