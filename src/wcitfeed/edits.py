"""The quick path: a build whose only change is what a few published posts say.

Most builds after the first follow an edit: a typo fixed, a paragraph added. Such an edit
changes no post's place (its date, title, address, category and tags stay), so the plan of
the site stays as it was; only the files that show the edited posts change. A full build
still reads every post, applies the whole ledger and plans every file to find that out.

This path does not. Each build keeps its plan in the cache (``kept_plan``): for each file
that shows posts, the digest of all it is made of but its posts, the posts it shows, and
its job without the posts (``shapes``). A build that finds only a few post files changed
reads those, checks that their place is as it was, gives each its ledger record (reading
and rewriting only that record), and makes again only the files that show them, from the
kept shapes and the kept posts, with keys made the way the full plan makes them
(``plan.file_key``). Anything else (a new, removed, invalid or moved post, a changed
picture, a due post, a ledger changed by hand) takes the full path, which is always right.
The property test in ``tests/test_incremental_equivalence.py`` checks that both paths
write the same bytes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, cast

from wcitfeed import keys, pages, shapes
from wcitfeed.cache import (
    CACHE_FILE,
    EditedRows,
    EntryStore,
    KeptFile,
    KeptPlan,
    KeptPost,
    KeptReader,
    sitemap_from_json,
    store_edit,
)
from wcitfeed.content import Loaded, load_posts
from wcitfeed.errors import WcitfeedError
from wcitfeed.ledger import (
    Record,
    apply_ledger,
    read_one_record,
    record_publication,
    with_arrivals,
    with_record,
)
from wcitfeed.model import Post, Site, feed_prefixes, post_path
from wcitfeed.output import OutputSync, Planned, WriteReport, write_atomic
from wcitfeed.plan import (
    POST_KINDS,
    SHOWING,
    Context,
    Job,
    JobKind,
    Maker,
    Plan,
    PostWork,
    file_key,
    last_change,
)
from wcitfeed.render import LazyTemplates
from wcitfeed.scan import Source, assets_signature, inputs_signature

# More edited posts than this at once take the full path: it uses every core.
QUICK_EDITS = 20


@dataclass(frozen=True)
class _Change:
    """One edited post: its file, its checked front matter now, as published now, its key
    in the last build, and its ledger record now."""

    source: Source
    loaded: Post
    live: Post
    was_key: str
    record: Record


@dataclass(frozen=True)
class EditPlan:
    """What a quick build will do, decided before anything is written: the site as the
    ledger settled it, the edited posts, the ledger's new text, and each file to make
    again with its key, job and last recorded key and stat."""

    site: Site
    stamp: str
    sources: list[Source]
    assets: list[Source]
    changes: list[_Change]
    ledger: bytes
    planned: list[Planned]
    jobs: dict[str, Job]
    context: Context
    outputs: dict[str, tuple[str, int, int]]
    sitemap: list[tuple[str, str | None]]
    state: dict[str, Any]
    latest: tuple[str, datetime] | None


def kept_plan(
    site: Site,
    live: list[Post],
    latest: tuple[str, datetime] | None,
    plan: Plan,
    assets: list[Source],
) -> KeptPlan | None:
    """Return what a full build keeps for the next build's quick path (``latest``: the id
    and time of the ledger's latest record)."""
    if site.ledger is None or not site.ledger.exists():
        return None
    context = plan.maker.context
    rel_of = {post.source: site.rel(post.source) for post in live}.__getitem__

    def files() -> Iterator[KeptFile]:
        # Made as they are stored, never all at once: a quarter of a million at 100,000 posts.
        parts = plan.key_parts
        for path, job in itertools.chain(plan.posts.jobs(), plan.jobs.items()):
            if job.kind in SHOWING:
                shows = tuple(rel_of(post.source) for post in parts.shown(job))
                shape = shapes.shape_of(job, context.sections)
                yield KeptFile(path, job.kind, parts.fixed(job), shows, shape)

    posts = [
        KeptPost(rel_of(p.source), p.id, p.updated, p.arrived, context.keys[p.source]) for p in live
    ]
    info = site.ledger.stat()
    state = {
        "formats": list(site.formats),
        "email_fragments": site.email_fragments,
        "links": context.links,
        "site_links": shapes.links_to_json(context.site_links),
        "links_by_prefix": {
            prefix: shapes.links_to_json(links) for prefix, links in context.links_by_prefix.items()
        },
        "ledger": [info.st_size, info.st_mtime_ns],
        "assets": assets_signature(assets),
        "latest": _latest_json(latest),
    }
    return KeptPlan(files(), posts, plan.sitemap.pages(), state)


def plan_edit(
    site: Site, stamp: str, sources: list[Source], assets: list[Source], now: datetime
) -> EditPlan | None:
    """Plan a build by the quick path when it applies; else None. Reads only.

    A kept plan that does not read back as written is no reason to stop: the full path
    reads the cache again, and says once that it set it aside.
    """
    try:
        return _plan_edit(site, stamp, sources, assets, now)
    except (sqlite3.Error, KeyError, IndexError, TypeError, ValueError):
        return None


def _plan_edit(
    site: Site, stamp: str, sources: list[Source], assets: list[Source], now: datetime
) -> EditPlan | None:
    ledger = site.ledger
    if ledger is None:
        return None
    with KeptReader.open(site.cache_dir, stamp) as kept:
        if kept is None:
            return None
        summary = kept.summary()
        if "kept" not in summary or "sitemap" not in summary:
            return None
        state: dict[str, Any] = json.loads(summary["kept"])
        due = summary.get("next_due")
        if due and now >= datetime.fromisoformat(due):
            return None
        if state["ledger"] != _stat(ledger) or state["assets"] != assets_signature(assets):
            return None
        stats = kept.source_stats()
        if stats.keys() != {s.rel for s in sources}:
            return None
        edited = [s for s in sources if stats[s.rel] != (s.mtime_ns, s.size)]
        if not edited or len(edited) > QUICK_EDITS or not _clock_fits(state["latest"], now):
            return None
        applied = replace(
            site,
            formats=tuple(state["formats"]),
            email_fragments=bool(state["email_fragments"]),
        )
        text = ledger.read_bytes()
        changes = _changes(applied, kept, edited, text, now)
        if changes is None:
            return None
        files = kept.files_showing([c.source.rel for c in changes])
        shown = kept.posts({rel for f in files for rel in f.shows})
        sitemap = sitemap_from_json(summary["sitemap"])
        outputs = kept.outputs_of([f.path for f in files] + pages.sitemap_names(len(sitemap)))
    for change in changes:
        spliced = with_record(text, change.live.id, change.record)
        if spliced is None:
            return None
        text = spliced
    latest = _latest(state["latest"], changes)
    return _plan_files(
        applied,
        stamp,
        state,
        sitemap,
        (sources, assets),
        changes,
        files,
        shown,
        outputs,
        text,
        latest,
    )


# How far ahead of this machine's clock a build's may be (as the full path checks it).
CLOCK_AHEAD = timedelta(days=1)


def _clock_fits(latest: list[str] | None, now: datetime) -> bool:
    """Say whether the build's clock is neither before the ledger's latest record nor far
    ahead of the machine's; when it is, the full path says so (or is told to trust it)."""
    if latest is not None and now < datetime.fromisoformat(latest[1]):
        return False
    return now <= datetime.now(UTC) + CLOCK_AHEAD


def _stat(path: Path) -> list[int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return [info.st_size, info.st_mtime_ns]


def _changes(
    site: Site, kept: KeptReader, edited: list[Source], text: bytes, now: datetime
) -> list[_Change] | None:
    """Read the edited posts and give each its ledger record as the full path would; None
    when one is not a published post that kept its place."""
    before = kept.posts([s.rel for s in edited])
    if len(before) != len(edited):
        return None  # a draft or scheduled post, shown nowhere yet
    try:
        loaded: Loaded = load_posts(site, edited, {})
    except WcitfeedError:
        return None  # the full path says what is wrong, as it always does
    if loaded.invalid or loaded.warnings or len(loaded.posts) != len(edited):
        return None
    changes = []
    for source, post in zip(edited, loaded.posts, strict=True):
        was_loaded, kept_post = before[source.rel]
        if not _same_place(was_loaded, post):
            return None
        record = read_one_record(site.ledger or Path(), text, kept_post.id)
        if record is None:
            return None
        live = replace(post, id=kept_post.id)
        [live], after = apply_ledger([live], {live.id: record}, now)
        feeds_of = partial(feed_prefixes, site)
        after = record_publication(after, [live], now, feeds_of, partial(_place, site))
        [live] = with_arrivals([live], after)
        record = after[live.id]
        was = replace(
            was_loaded, id=kept_post.id, updated=kept_post.updated, arrived=kept_post.arrived
        )
        # A post that left a feed dates that (ended) feed by its edits: the full path
        # plans it.
        if set(record.feeds) != set(feeds_of(live)) or live.arrived != was.arrived:
            return None
        if live.last_modified < was.last_modified:
            return None
        changes.append(_Change(source, post, live, kept_post.key, record))
    return changes


# What an edit may change in a post's front matter and keep its place: everything else
# (date, title, address, category, tags, links to other posts...) moves it among the
# others, or changes what other posts' files say of it.
_OWN_FIELDS = ("digest", "summary", "authors", "image", "assets", "minor")


def _same_place(before: Post, after: Post) -> bool:
    """Say whether an edit left the post where it was: only its own fields changed."""
    return replace(after, **{name: getattr(before, name) for name in _OWN_FIELDS}) == before


def _place(site: Site, post: Post) -> tuple[str, str]:
    return site.rel(post.source), post_path(post)


def _latest(kept: list[str] | None, changes: list[_Change]) -> tuple[str, datetime] | None:
    """Return the id and time of the latest time the ledger holds after the edits, as
    ``ledger.latest_record`` would find it."""
    found = [(datetime.fromisoformat(kept[1]), kept[0])] if kept else []
    for change in changes:
        when = change.record.latest()
        if when is not None:
            found.append((when, change.live.id))
    if not found:
        return None
    when, post_id = max(found)
    return post_id, when


def _plan_files(
    site: Site,
    stamp: str,
    state: dict[str, Any],
    kept_sitemap: list[tuple[str, str | None]],
    inputs: tuple[list[Source], list[Source]],
    changes: list[_Change],
    files: list[KeptFile],
    shown: dict[str, tuple[Post, KeptPost]],
    outputs: dict[str, tuple[str, int, int]],
    ledger: bytes,
    latest: tuple[str, datetime] | None,
) -> EditPlan | None:
    """Put the posts back into the kept files' shapes, the edited ones as they are now,
    and key each file as the full plan would."""
    sources, assets = inputs
    sizes = {a.rel: a.size for a in assets}
    links: dict[str, str] = state["links"]
    posts: dict[str, Post] = {}
    post_keys: dict[Path, str] = {}
    for rel, (loaded, kept_post) in shown.items():
        posts[rel] = replace(
            loaded, id=kept_post.id, updated=kept_post.updated, arrived=kept_post.arrived
        )
        post_keys[loaded.source] = kept_post.key
    for change in changes:
        posts[change.source.rel] = change.live
        post_keys[change.live.source] = keys.post_key(change.live, sizes, links)

    file_keys = keys.FileKeys(stamp)
    jobs: dict[str, Job] = {}
    planned: list[Planned] = []
    sections: tuple[pages.Section, ...] = ()
    for kept_file in files:
        if kept_file.path not in outputs or not set(kept_file.shows) <= posts.keys():
            return None
        shows = [posts[rel] for rel in kept_file.shows]
        job, found = shapes.job_from(cast(JobKind, kept_file.kind), kept_file.shape, shows)
        sections = found or sections
        jobs[kept_file.path] = job
        key = file_key(file_keys, kept_file.fixed, (p.source for p in shows), post_keys)
        planned.append(Planned(kept_file.path, key))
    sitemap = _sitemap(site, kept_sitemap, changes, jobs)
    if sitemap is None:
        return None
    for path, data in pages.sitemap(site, sitemap).items():
        if path not in outputs:
            return None
        jobs[path] = Job("constant", data=data)
        planned.append(Planned(path, file_keys.of(path, hashlib.sha256(data).hexdigest())))
    context = Context(
        site,
        sizes,
        shapes.links_from_json(state["site_links"]),
        sections,
        shapes.prefix_links_from_json(state["links_by_prefix"]),
        keys=post_keys,
        entries=site.cache_dir / CACHE_FILE,
        links=links,
    )
    planned.sort(key=lambda item: item.path)
    return EditPlan(
        site,
        stamp,
        sources,
        assets,
        changes,
        ledger,
        planned,
        jobs,
        context,
        outputs,
        sitemap,
        state,
        latest,
    )


def _sitemap(
    site: Site, listed: list[tuple[str, str | None]], changes: list[_Change], jobs: dict[str, Job]
) -> list[tuple[str, str | None]] | None:
    """Return the sitemap's pages with the edited posts' last change, and their listings'."""
    where = {url: number for number, (url, _) in enumerate(listed)}
    changed: dict[str, str | None] = {}
    for change in changes:
        changed[site.url(post_path(change.live))] = change.live.last_modified.isoformat()
    for job in jobs.values():
        if job.kind == "listing" and job.listing is not None:
            changed[site.url(job.listing.folder)] = last_change(job.listing.posts)
    for url, moment in changed.items():
        if url not in where:
            return None
        listed[where[url]] = (url, moment)
    # The updates page changed when the latest post did; an edit moves that only forward.
    root, newest = listed[0]
    if root != site.base_url or newest is None:
        return None
    latest = datetime.fromisoformat(newest)
    for change in changes:
        when = change.live.last_modified
        if when == latest and when.isoformat() != newest:
            return None  # the same time in two zones: which shows depends on the order
        if when > latest:
            latest, newest = when, when.isoformat()
    listed[0] = (root, newest)
    return listed


def publish_edit(
    plan: EditPlan, progress: Callable[[int], Any] | None = None
) -> tuple[WriteReport, list[WcitfeedError]]:
    """Write what ``plan`` decided: the edits into the ledger first (as the full path
    does), then the edited posts' entries into the store and the files that show them,
    published together; then the cache's rows, in one transaction."""
    site = plan.site
    assert site.ledger is not None
    write_atomic(site.ledger, plan.ledger)
    maker = Maker(plan.context, templates=LazyTemplates(site))
    store = EntryStore(site.cache_dir, plan.stamp)
    own: dict[Path, dict[str, Job]] = {c.live.source: {} for c in plan.changes}
    for path, job in plan.jobs.items():
        if job.kind in POST_KINDS and job.post is not None and job.post.source in own:
            own[job.post.source][path] = job
    syncer = OutputSync(site.output_dir, plan.outputs, progress)
    try:
        made = maker.render_posts([PostWork(c.live, own[c.live.source]) for c in plan.changes])
        store.put([row for result in made for row in result.entries])
        for result in made:
            maker.ready.update(result.files)
        syncer.sync(plan.planned, lambda path: maker.make(path, plan.jobs[path]))
        report, state = syncer.finish(whole=False)
    except BaseException:
        syncer.abort()
        raise
    finally:
        store.close()
    kept_state = {**plan.state, "ledger": _stat(site.ledger), "latest": _latest_json(plan.latest)}
    gone = {c.was_key for c in plan.changes} - set(plan.context.keys.values())
    store_edit(
        site.cache_dir,
        EditedRows(
            {c.source.rel: (c.source.mtime_ns, c.source.size, c.loaded) for c in plan.changes},
            [
                KeptPost(
                    c.source.rel,
                    c.live.id,
                    c.live.updated,
                    c.live.arrived,
                    plan.context.keys[c.live.source],
                )
                for c in plan.changes
            ],
            state,
            {
                "inputs": inputs_signature(plan.sources, plan.assets, site.ledger),
                "kept": json.dumps(kept_state),
            },
            plan.sitemap,
            gone,
        ),
    )
    return report, maker.warnings


def _latest_json(latest: tuple[str, datetime] | None) -> list[str] | None:
    return None if latest is None else [latest[0], latest[1].isoformat()]
