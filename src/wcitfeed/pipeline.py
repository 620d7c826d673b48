"""The build, top to bottom: settings, posts, plan, then make and write what changed.

Everything is read and checked before anything is written, so an invalid post leaves the
published output exactly as it was. Each output file carries a key (a digest of everything
it is made of); a file whose key and stat match the last build is not made again, and a
build whose inputs all match the last one stops after a few stat calls.
"""

from __future__ import annotations

import collections
import errno
import gc
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import filelock

from wcitfeed.cache import (
    BuildCache,
    EntryStore,
    QuickState,
    discard_cache,
    fingerprint,
    read_cache,
    read_quick,
    store_cache,
)
from wcitfeed.config import load_site
from wcitfeed.errors import ConfigError, EnvironmentProblem, Refused, WcitfeedError
from wcitfeed.ledger import (
    Ledger,
    LedgerFile,
    SiteRecord,
    Withdrawal,
    apply_ledger,
    earlier_paths,
    keep_ids,
    known_feeds,
    latest_record,
    ledger_chunks,
    read_ledger,
    record_publication,
    settled_email_fragments,
    settled_formats,
    with_arrivals,
    withdrawal,
)
from wcitfeed.model import Post, Site, feed_prefixes, post_path, published
from wcitfeed.output import (
    Make,
    OutputState,
    OutputSync,
    Planned,
    WriteReport,
    remove_staging,
    remove_temporaries,
    stat_digest,
    write_chunks_if_changed,
)
from wcitfeed.scan import Source, inputs_signature, scan_sources
from wcitfeed.workers import few_collections

if TYPE_CHECKING:
    from wcitfeed.content import Loaded
    from wcitfeed.plan import Job, Maker, Plan, PostFile, PostMade

# What _started_ahead hands out: a slice of work, and what was made of it.
Piece = TypeVar("Piece")
Made = TypeVar("Made")

LOCK_FILE = "build.lock"
# Files made at once: a slice's bytes are held in memory until it is staged. A feed
# document carries up to feed_limit whole posts, so fewer of those go in a slice.
SLICE = 600
SLICE_DOCUMENTS = 32
# Slices the workers have to make while this process stages one. With one, each worker
# of a 10,000-post cold build sat idle ~5 s in all, waiting for the next slice between the
# end of one and the start of the next; with two, ~2.5 s, and the build took ~10% less.
AHEAD = 2
WRITING = "writing"


def _once(warnings: list[WcitfeedError]) -> list[WcitfeedError]:
    """Keep each warning once: a post rendered twice in a build says its piece once."""
    return list({str(w): w for w in warnings}.values())


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
    allow_removals: bool = False
    trust_clock: bool = False
    progress: Callable[[int], Any] | None = None
    on_plan: Callable[[int], Any] | None = None
    on_wait: Callable[[Path], Any] | None = None


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
        book = read_ledger(site.ledger)
        preview = site.cache_dir / "preview"
        site = replace(
            site,
            # What a build would publish: the preview reads the ledger, never writes it.
            formats=settled_formats(site, book),
            formats_given=True,
            email_fragments=settled_email_fragments(site, book),
            email_fragments_given=True,
            base_url=options.preview,
            output_dir=preview / "output",
            cache_dir=preview,
            ledger=None,
        )
    try:
        site.cache_dir.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(site.cache_dir / LOCK_FILE)
        try:
            try:
                lock.acquire(timeout=0)
            except filelock.Timeout:
                if options.on_wait is not None:
                    options.on_wait(site.cache_dir / LOCK_FILE)
                lock.acquire(timeout=options.wait)
        except filelock.Timeout:
            raise Locked(
                f"another build of this site is running (waited {options.wait:g} s for "
                f"{site.cache_dir / LOCK_FILE}; try again, or pass --wait SECONDS)"
            ) from None
        try:
            with few_collections():
                return _build_locked(site, options)
        finally:
            lock.release()
    except OSError as exc:
        raise environment_problem(exc) from None


def environment_problem(exc: OSError) -> EnvironmentProblem:
    """Say in one line what the machine refused: a permission, a full or read-only disk."""
    what = exc.strerror or str(exc)
    hint = {
        errno.ENOSPC: "free some space and build again",
        errno.EROFS: "the folder is on a read-only file system; choose another --output",
        errno.EACCES: "check the folder's owner and permissions",
        errno.EPERM: "check the folder's owner and permissions",
        errno.ENOTDIR: "a file stands where a folder is expected; move it away",
        errno.EEXIST: "a file stands where a folder is expected; move it away",
        errno.ELOOP: "a symbolic link loops; remove it",
    }.get(exc.errno or 0, "fix it and build again")
    path = Path(exc.filename) if isinstance(exc.filename, str) else None
    return EnvironmentProblem(f"{what} ({hint}; nothing published was lost)", path=path)


def _build_locked(site: Site, options: Options) -> BuildResult:
    """Load, decide, plan, make and publish, persist, announce: each a step below."""
    now = options.now.astimezone(site.timezone).replace(microsecond=0)
    stamp = fingerprint(site.source, site.templates_dir)
    sources, assets = scan_sources(site)
    quick = read_quick(site.cache_dir, stamp) if options.write else None
    unchanged = _unchanged(site, options, quick, sources, assets, now)
    if unchanged is not None:
        return unchanged
    edited = _quick(site, options, quick, stamp, (sources, assets), now)
    if edited is not None:
        return edited
    cache = read_cache(site.cache_dir, stamp) if options.write else BuildCache()
    decision = _decide(site, options, cache, sources, now)
    site = decision.site

    if cache.warnings:
        discard_cache(site.cache_dir)
    store = EntryStore(site.cache_dir, stamp) if options.write else None
    plan = _plan(site, stamp, decision, assets, store, cold=not cache.outputs)
    maker = plan.maker
    try:
        gc.freeze()  # what is loaded and planned lives until the build ends
        if options.on_plan is not None:
            options.on_plan(plan.files)
        warnings = [*cache.warnings, *decision.warnings, *decision.loaded.warnings]
        if store is None:
            for path, job in itertools.chain(plan.posts.jobs(), plan.jobs.items()):
                maker.make(path, job)
            return BuildResult(
                site,
                len(decision.live),
                files=plan.files,
                warnings=_once([*warnings, *maker.warnings]),
                invalid=decision.loaded.invalid,
            )

        # The ledger goes first: publication and ledger are one decision. A build killed
        # after this point makes, next time, the very output this one would have (the
        # ledger already holds each edit's time); a build killed before it has published
        # nothing.
        assert decision.ledger is not None
        if site.ledger is not None and decision.ledger_changed:
            write_chunks_if_changed(site.ledger, ledger_chunks(decision.ledger))
        decision = decision.written()
        report, state = _publish(site, options, cache, plan, store)
    finally:
        maker.close()
    _persist(site, stamp, cache, decision, sources, assets, state, plan)
    result = BuildResult(
        site,
        len(decision.live),
        report,
        plan.files,
        warnings=_once([*warnings, *maker.warnings]),
        invalid=decision.loaded.invalid,
    )
    _announce(site, report, plan.jobs, result)
    return result


def _plan(
    site: Site,
    stamp: str,
    decision: Decision,
    assets: list[Source],
    store: EntryStore | None,
    *,
    cold: bool,
) -> Plan:
    """List every output file with its key and job. A cold build renders every post: its
    workers start first, and import the rendering modules and parse the templates while
    this process plans."""
    # Rendering and feed modules are imported here, not at the top: a build with nothing to
    # do stops before this point and never pays for importing them.
    from wcitfeed.plan import early_workers, plan_outputs

    assert decision.ledger is not None
    workers = early_workers(site, len(decision.live)) if store and cold else None
    try:
        return plan_outputs(
            site,
            stamp,
            decision.live,
            assets,
            decision.loaded.bodies,
            store.path if store else None,
            known_feeds(decision.ledger.posts),
            earlier_paths(decision.ledger.posts),
            workers,
        )
    except BaseException:
        if workers is not None:
            workers.close()
        raise


def _quick(
    site: Site,
    options: Options,
    quick: QuickState | None,
    stamp: str,
    inputs: tuple[list[Source], list[Source]],
    now: datetime,
) -> BuildResult | None:
    """Build by the quick path (``edits``) when the only change is what a few published
    posts say; else return None, having written nothing."""
    if quick is None or options.preview is not None or (site.cache_dir / WRITING).exists():
        return None
    # Imported here: it imports the rendering modules, which a build with nothing to do
    # never pays for.
    from wcitfeed.edits import plan_edit, publish_edit

    plan = plan_edit(site, stamp, *inputs, now)
    if plan is None:
        return None
    if options.on_plan is not None:
        options.on_plan(len(plan.planned))
    writing = site.cache_dir / WRITING
    writing.touch()
    made, warnings = publish_edit(plan, options.progress)
    writing.unlink()
    # Every other file is as the last build left it (the next build checks their stat).
    written = set(made.written)
    others = tuple(path for path in quick.outputs if path not in written)
    report = WriteReport(made.written, others, ())
    result = BuildResult(
        plan.site, quick.posts, report, len(quick.outputs), warnings=_once(warnings)
    )
    _announce(plan.site, report, plan.jobs, result)
    return result


def _unchanged(
    site: Site,
    options: Options,
    quick: QuickState | None,
    sources: list[Source],
    assets: list[Source],
    now: datetime,
) -> BuildResult | None:
    """Return the result of a build with nothing to do, from the cache's small summary
    alone (``quick``: input signature, due date, outputs and their stat), or None."""
    if (
        quick is not None
        and not (site.cache_dir / WRITING).exists()  # a killed build has cleaning up to do
        and quick.inputs == inputs_signature(sources, assets, site.ledger)
        and (quick.next_due is None or now < quick.next_due)
        and stat_digest(site.output_dir, quick.outputs) == quick.digest
    ):
        return BuildResult(site, posts=quick.posts, files=len(quick.outputs), skipped=True)
    return None


@dataclass(frozen=True)
class Decision:
    """What this build publishes: the settings as it applies them (feed formats settled by
    the ledger), the checked posts, the live ones, the ledger as it will be (None once it
    is written: see ``written``) and the id and time of its latest record, and the next
    time a scheduled post falls due."""

    site: Site
    loaded: Loaded
    live: list[Post]
    ledger: LedgerFile | None
    latest: tuple[str, datetime] | None
    next_due: datetime | None
    ledger_changed: bool
    warnings: tuple[WcitfeedError, ...] = ()

    def written(self) -> Decision:
        """Return the decision without the ledger's records, once they are written: the
        rest of the build needs only their latest time (100,000 records took ~35 MiB)."""
        return replace(self, ledger=None)


def _decide(
    site: Site, options: Options, cache: BuildCache, sources: list[Source], now: datetime
) -> Decision:
    """Load the posts and apply the ledger; refuse a wrong clock or a mass withdrawal."""
    # Parsing and checking modules are imported only by a build that reads posts.
    from wcitfeed.content import load_posts

    loaded = load_posts(site, sources, cache.posts, skip_invalid=options.skip_invalid)
    book = read_ledger(site.ledger)
    before = book.posts
    guarded = options.write and site.ledger is not None
    if guarded and site.ledger is not None and not options.trust_clock:
        _check_clock(site.ledger, before, now)
    posts = keep_ids(loaded.posts, before, partial(_rel, site))
    posts, after = apply_ledger(posts, before, now)
    live = published(posts, now, drafts=options.preview is not None)
    place = partial(_place, site)
    after = record_publication(after, live, now, partial(feed_prefixes, site), place)
    live = with_arrivals(live, after)
    if guarded and not options.allow_removals:
        _check_withdrawal(site, withdrawal(before, after))
    due = min((p.date for p in posts if not p.draft and p.date > now), default=None)
    formats = settled_formats(site, book)
    email = settled_email_fragments(site, book)
    ledger = LedgerFile(after, SiteRecord(formats, email)) if after else book
    missing = site.ledger is not None and bool(after) and not site.ledger.exists()
    return Decision(
        replace(site, formats=formats, email_fragments=email),
        loaded,
        live,
        ledger,
        latest_record(ledger.posts),
        due,
        ledger != book or missing,
        (*_kept_formats(site, book, formats), *_kept_email_fragments(site, book, email)),
    )


def _kept_formats(
    site: Site, book: LedgerFile, formats: tuple[str, ...]
) -> tuple[WcitfeedError, ...]:
    """Say, once, which formats a site keeps publishing that the default no longer names."""
    kept = [fmt for fmt in formats if fmt not in site.formats]
    if site.formats_given or book.site is not None or not kept:
        return ()
    return (
        ConfigError(
            f"'formats' is unset, and new sites now get {' and '.join(site.formats)} feeds; "
            f"this site keeps its published {', '.join(kept)} feeds (its ledger says so). "
            f"Write formats = {json.dumps(list(formats))} to keep them, or formats = "
            f"{json.dumps(list(site.formats))} to stop them",
            path=site.source,
        ),
    )


def _kept_email_fragments(site: Site, book: LedgerFile, email: bool) -> tuple[WcitfeedError, ...]:
    """Say, once, that a site keeps writing the e-mail fragments new sites no longer get."""
    recorded = book.site.email_fragments if book.site is not None else None
    if site.email_fragments_given or recorded is not None or email == site.email_fragments:
        return ()
    return (
        ConfigError(
            "'email_fragments' is unset, and new sites now get no email/<slug>.html; this "
            "site keeps writing them (its ledger says it did). Write email_fragments = true "
            "to keep them, or email_fragments = false to stop them (digests do not need them)",
            path=site.source,
        ),
    )


def _rel(site: Site, post: Post) -> str:
    return site.rel(post.source)


def _place(site: Site, post: Post) -> tuple[str, str]:
    """Return a post's file below the content folder and its page's path, for the ledger."""
    return site.rel(post.source), post_path(post)


def _publish(
    site: Site, options: Options, cache: BuildCache, plan: Plan, store: EntryStore
) -> tuple[WriteReport, OutputState]:
    """Make the stale files, on every core, in slices staged as each is done (so a build
    holds a few slices in memory, not the site: the workers make the next ones while this
    one is staged), then publish them all at once."""
    jobs, maker = plan.jobs, plan.maker
    # A test, not a set: a cold build's set of every path took 8 MiB at 100,000 posts.
    stale = partial(_stale, cache.outputs)
    # A marker that outlives a killed build: only then are there temporaries to look for
    # (in the output tree, the cache folder and beside the ledger).
    writing = site.cache_dir / WRITING
    if writing.exists() or not cache.outputs:
        remove_staging(site.output_dir)
        remove_temporaries(site.output_dir, recursive=True)
        for folder in {site.cache_dir, *([site.ledger.parent] if site.ledger else [])}:
            remove_temporaries(folder)
    syncer = OutputSync(site.output_dir, cache.outputs, options.progress)

    def start_making(piece: list[Planned]) -> Callable[[], None]:
        # A cold build's workers write the files they make into the staged tree themselves
        # (chosen when something is first made: see ``OutputSync.tree``).
        made = _stale_jobs(piece, stale, jobs)
        return maker.start_making(made, syncer.tree() if made else None)

    writing.touch()
    try:
        _make_posts(plan, stale, store, syncer)
        for piece, _ in _started_ahead(_slices(plan.planned, stale, jobs), start_making):
            syncer.sync(piece, _making(maker, jobs))
        # Everything is made: the workers end before publishing, not beside it.
        maker.close()
        published_files = syncer.finish()
        store.keep_only(set(maker.context.keys.values()))
    except BaseException:
        maker.close()  # no worker is writing into the staged tree while it is removed
        syncer.abort()
        raise
    finally:
        store.close()
    return published_files


def _persist(
    site: Site,
    stamp: str,
    cache: BuildCache,
    decision: Decision,
    sources: list[Source],
    assets: list[Source],
    state: OutputState,
    plan: Plan,
) -> None:
    """Record what this build read and wrote, so the next one redoes only what changed
    (and, when nothing is amiss, what the next one's quick path needs)."""
    from wcitfeed.edits import kept_plan

    by_file = {s.file: s for s in sources}
    checked = {}
    for post in decision.loaded.posts:
        source = by_file[str(post.source)]
        checked[source.rel] = (source.mtime_ns, source.size, post)
    new_cache = BuildCache(
        fingerprint=stamp,
        # With invalid posts left out, the next build must look again, not skip.
        inputs="" if decision.loaded.invalid else inputs_signature(sources, assets, site.ledger),
        next_due=decision.next_due,
        posts=checked,
        outputs=state,
        published=len(decision.live),
        kept=None
        if decision.loaded.invalid
        else kept_plan(site, decision.live, decision.latest, plan, assets),
    )
    store_cache(site.cache_dir, cache, new_cache)
    (site.cache_dir / WRITING).unlink(missing_ok=True)


def _announce(site: Site, report: WriteReport, jobs: dict[str, Job], result: BuildResult) -> None:
    """Ping the WebSub hub once for each live feed whose bytes changed."""
    if not site.hub:
        return
    from wcitfeed.websub import ping_hub

    # The plan knows which documents are live feeds; archive pages are never subscribed
    # (and a post's own files are not in ``jobs``).
    changed = [site.url(p) for p in report.written if p in jobs and jobs[p].live_feed]
    if changed:
        result.warnings += ping_hub(site.hub, changed)
        result.pinged = tuple(changed)


# Posts rendered at once: their own files wait in memory until they are staged. A slice
# also ends after this many posts' own files, so that a build with few posts to render
# never gathers a site's worth of them between two.
SLICE_POSTS = 100
SLICE_OWN_FILES = 10 * SLICE


def _make_posts(
    plan: Plan,
    stale: Callable[[Planned], bool],
    store: EntryStore,
    syncer: OutputSync,
) -> None:
    """Render each post that needs it exactly once, in slices on every core: stage its own
    files (written into the staged tree of a cold build by whoever made them) and store
    its feed entries, so that feed documents only assemble bytes. Every post's own files
    are staged (or found unchanged) here; a slice is planned only when it is next.
    """
    from wcitfeed.plan import PostWork

    maker = plan.maker
    known = store.known()

    def slices() -> Iterator[tuple[list[PostFile], list[PostWork]]]:
        files: list[PostFile] = []
        work: list[PostWork] = []
        for post, own in plan.posts:
            files += own
            # A post is rendered when its entries are not stored yet or a file of its own
            # is stale.
            stored = maker.context.keys[post.source] in known
            made = {f.planned.path: f.job for f in own if stale(f.planned)}
            if made or not stored:
                work.append(PostWork(post, made, stored))
            if len(work) >= SLICE_POSTS or len(files) >= SLICE_OWN_FILES:
                yield files, work
                files, work = [], []
        if files:
            yield files, work

    def start(piece: tuple[list[PostFile], list[PostWork]]) -> Callable[[], list[PostMade]]:
        work = piece[1]
        return maker.start_rendering(work, syncer.tree() if work else None)

    for (files, _), made in _started_ahead(slices(), start):
        store.put([row for result in made for row in result.entries])
        for result in made:
            maker.ready.update(result.files)
        jobs = {f.planned.path: f.job for f in files}
        syncer.sync([f.planned for f in files], _making(maker, jobs))


def _making(maker: Maker, jobs: dict[str, Job]) -> Make:
    """Return what makes a file by path, by its job in ``jobs``."""
    return lambda path: maker.make(path, jobs[path])


def _started_ahead(
    pieces: Iterable[Piece], start: Callable[[Piece], Callable[[], Made]]
) -> Iterator[tuple[Piece, Made]]:
    """Yield each piece with what ``start`` made of it, the next ``AHEAD`` pieces already
    started: the workers make them while the caller stores and stages this one. The pieces
    are taken one at a time, as they are needed."""
    ahead = iter(pieces)
    started = collections.deque((piece, start(piece)) for piece in itertools.islice(ahead, AHEAD))
    while started:
        piece, pending = started.popleft()
        made = pending()
        following = next(ahead, None)
        if following is not None:
            started.append((following, start(following)))
        yield piece, made


def _stale(previous: OutputState, item: Planned) -> bool:
    """Say whether a planned file must be made again: its key is not the last build's."""
    return previous.get(item.path, ("",))[0] != item.key


def _stale_jobs(
    piece: list[Planned], stale: Callable[[Planned], bool], jobs: dict[str, Job]
) -> list[tuple[str, Job]]:
    """The jobs of a slice's files that must be made again."""
    return [(i.path, jobs[i.path]) for i in piece if stale(i)]


def _slices(
    planned: Iterable[Planned], stale: Callable[[Planned], bool], jobs: dict[str, Job]
) -> Iterator[list[Planned]]:
    """Cut the plan into slices of at most SLICE files and SLICE_DOCUMENTS stale documents."""
    piece: list[Planned] = []
    documents = 0
    for item in planned:
        piece.append(item)
        if stale(item) and jobs[item.path].kind == "document":
            documents += 1
        if len(piece) >= SLICE or documents >= SLICE_DOCUMENTS:
            yield piece
            piece, documents = [], 0
    if piece:
        yield piece


# How far ahead of this machine's clock --now may be before it looks like a typo.
CLOCK_AHEAD = timedelta(days=1)


def _check_clock(ledger_path: Path, ledger: Ledger, now: datetime) -> None:
    """Refuse a clock earlier than the ledger's records, or far ahead of the machine's.

    Under a clock in the past, published posts look scheduled and are withdrawn, and an
    edit is dated before its post (so never announced); under one in the future, an edit's
    date stays in the future for good.
    """
    latest = latest_record(ledger)
    if latest is not None and now < latest[1]:
        post_id, when = latest
        raise Refused(
            f"the build's clock ({now.isoformat()}) is earlier than the ledger's latest record "
            f"({when.isoformat()}, for {post_id}); fix the clock or --now, or pass "
            "--trust-clock if this is really meant",
            path=ledger_path,
        )
    machine = datetime.now(UTC)
    if now > machine + CLOCK_AHEAD:
        raise Refused(
            f"the build's clock ({now.isoformat()}) is more than a day ahead of this machine's "
            f"({machine.replace(microsecond=0).isoformat()}); edits would be dated in the "
            "future for good: fix --now, or pass --trust-clock if this is really meant",
            path=ledger_path,
        )


def _check_withdrawal(site: Site, gone: Withdrawal) -> None:
    """Refuse to withdraw all published posts, or more than ``removal_limit`` percent."""
    count = len(gone.ids)
    if not count:
        return
    if count < gone.published and count * 100 <= site.removal_limit * gone.published:
        return
    shown = ", ".join(gone.ids[:3]) + (f" and {count - 3} more" if count > 3 else "")
    raise Refused(
        f"this build would withdraw {count} of the {gone.published} published posts ({shown}), "
        f"more than removal_limit = {site.removal_limit}% allows; if the content folder "
        "is right, pass --allow-removals",
        path=site.content_dir,
    )
