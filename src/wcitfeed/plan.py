"""Every output file of a build: its path, its key, and the job that makes it.

A key is a digest of everything the file is made of, so a file whose key matches the last
build need not be made again. Jobs are plain data (a kind and a post or a feed document
plan), so a cold build can hand them to worker processes on every core.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

import jinja2

from wcitfeed import feedset, i18n, keys, pages, redirects, render, sources
from wcitfeed.cache import EntryReader
from wcitfeed.content import read_body
from wcitfeed.errors import WcitfeedError
from wcitfeed.model import FeedLink, Post, RenderedPost, Site, newest_first, page_file, post_path
from wcitfeed.output import Planned, Staged, stage_in_tree
from wcitfeed.scan import Source
from wcitfeed.workers import LatePool

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.queues import Queue

# Below this many files (or posts) to make, starting worker processes costs more than it
# saves.
PARALLEL_THRESHOLD = 300
PARALLEL_POSTS = 100
# A feed document of more entries than this is streamed into its file from the stored
# entries by the main process, never held whole in memory (nor sent between processes).
STREAMED_ENTRIES = 500
# Rendered posts kept at once; enough for every document of a feed limit of 200.
MEMO_SIZE = 1000
# Posts whose entries are serialised together (well under the memo's size).
ENTRY_BATCH = 50
# The stored form of a post's summary, beside its entries in each format.
SUMMARY = "summary"
# A post's item in the e-mail feed: RSS with the e-mail-safe HTML.
EMAIL_ENTRY = "email-rss"
# The files each post has of its own, made when the post is rendered.
POST_KINDS: tuple[JobKind, ...] = ("fragment", "email", "page")
JobKind = Literal[
    "fragment",
    "email",
    "page",
    "index",
    "listing",
    "document",
    "email_feed",
    "constant",
    "sitemap",
    "asset",
]


@dataclass(frozen=True, slots=True)
class Job:
    """How to make one output file: its kind and what that kind is made from."""

    kind: JobKind
    post: Post | None = None
    document: feedset.DocPlan | None = None
    listing: pages.Listing | None = None
    data: bytes = b""
    source: str = ""
    # A post's page links to the posts published just before and after it.
    around: pages.Neighbours | None = None

    @property
    def posts(self) -> Sequence[Post]:
        """Return the posts this job itself names, in order: a listing's, a document's, or
        its post (the index page's are its sections', which the context holds)."""
        if self.listing is not None:
            return self.listing.posts
        if self.document is not None:
            return self.document.posts
        return () if self.post is None else (self.post,)

    @property
    def live_feed(self) -> bool:
        """Say whether this makes a live feed document (the ones a hub announces)."""
        return self.document is not None and self.document.live


@dataclass(frozen=True)
class Context:
    """What every job needs besides its own argument; picklable for worker processes."""

    site: Site
    asset_sizes: dict[str, int]
    site_links: tuple[FeedLink, ...]
    sections: tuple[pages.Section, ...]
    # Each feed's links by its prefix ("" for the site), for the pages that offer them.
    links_by_prefix: dict[str, tuple[FeedLink, ...]]
    # Each post's key (its digest) by source (workers get none: each task brings those it
    # needs), and where the entries of this build are kept.
    keys: dict[Path, str] = dataclasses.field(default_factory=dict)
    entries: Path | None = None
    # The URL of each post another post links to by file (``Post.refs``), by query.
    links: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PostWork:
    """A post to render once, and the files of its own this build makes, by path."""

    post: Post
    files: dict[str, Job]
    # Whether the entry store holds the post's entries already (from an earlier build);
    # a post new to the store is rendered without asking it.
    stored: bool = False


@dataclass(frozen=True, slots=True)
class PostMade:
    """What rendering one post once gives: its own files (or word that they are staged)
    and its feed entries."""

    files: dict[str, bytes | Staged]
    entries: list[tuple[str, str, bytes]]


class Maker:
    """Makes output bytes from jobs, rendering each post at most once."""

    def __init__(
        self,
        context: Context,
        bodies: dict[Path, str] | None = None,
        *,
        templates: Mapping[str, jinja2.Template] | None = None,
        workers: LatePool | None = None,
    ) -> None:
        self.context = context
        self.templates = templates or render.load_templates(context.site)
        self.pages = pages.PageMaker(
            context.site, self.templates, context.site_links, context.links_by_prefix
        )
        self.bodies = bodies or {}
        self.memo: dict[Path, RenderedPost] = {}
        # A post's fragment serves its fragment file and its e-mail fragment.
        self.fragments: dict[Path, tuple[RenderedPost, str]] = {}
        self.entries: dict[tuple[Path, str], tuple[RenderedPost, bytes]] = {}
        self._css: str | None = None
        self.ready: dict[str, bytes | Staged] = {}
        self.warnings: list[WcitfeedError] = []
        # Worker processes: started before planning for a cold build (``early_workers``),
        # else when first needed.
        self.workers = workers
        self.reader = EntryReader(context.entries) if context.entries else None
        # The keys of the posts whose stored entries this maker may read: every post's in
        # the main process; in a worker, those of the posts its current task shows.
        self.keys: Mapping[Path, str] = context.keys
        # The stored entries of the document or page being made, read in one query.
        self.batch: dict[tuple[str, str], bytes] = {}
        # The site's sitemap, made again when its files are written (main process only).
        self.sitemap: Sitemap | None = None

    def rendered(self, post: Post) -> RenderedPost:
        """Return the post rendered, from the memo when this very post was rendered before."""
        item = self.memo.get(post.source)
        if item is None or item.post != post:
            site = self.context.site
            body = self.bodies.get(post.source)
            if body is None:
                body = read_body(post.source)
            body = sources.final_body(site, body, self.context.links)
            item = render.render_post(site, post, body, self.templates, self.context.asset_sizes)
            self.warnings.extend(
                render.missing_files(site, post, item.body_html, self.context.asset_sizes)
            )
            if len(self.memo) >= MEMO_SIZE:
                # Oldest first out: feed documents ask for posts in date order.
                self.memo.pop(next(iter(self.memo)))
            self.memo[post.source] = item
        return item

    def _stored(self, post: Post, kind: str) -> bytes | None:
        """Return what the entry store holds of this very post (its key) in ``kind``."""
        key = self.keys.get(post.source)
        if self.reader is None or key is None:
            return None
        found = self.batch.get((key, kind))
        return found if found is not None else self.reader.get(key, kind)

    def _read_batch(self, posts: Sequence[Post], kind: str) -> None:
        """Read the stored ``kind`` of the posts a document or page carries in one query,
        for ``_stored`` to find; forget the previous batch."""
        self.batch = {}
        if self.reader is None or not posts:
            return
        wanted = {self.keys[p.source] for p in posts if p.source in self.keys}
        found = self.reader.get_many(wanted, kind)
        self.batch = {(key, kind): data for key, data in found.items()}

    def _stored_unless_rendered(self, post: Post, kind: str) -> bytes | None:
        """Like ``_stored``, but None while the post is in the memo: this build has just
        rendered it, and that rendering serves."""
        return None if post.source in self.memo else self._stored(post, kind)

    def fragment(self, post: Post) -> str:
        """Return the post's HTML fragment, rendered once while the post is in the memo."""
        item = self.rendered(post)
        cached = self.fragments.get(post.source)
        if cached is None or cached[0] is not item:
            if len(self.fragments) >= MEMO_SIZE:
                self.fragments.pop(next(iter(self.fragments)))
            cached = (item, render.render_fragment(self.context.site, item, self.templates))
            self.fragments[post.source] = cached
        return cached[1]

    def summary(self, post: Post) -> str:
        """Return the post's summary, as stored when it was rendered, else rendered now."""
        stored = self._stored_unless_rendered(post, SUMMARY)
        if stored is not None:
            return stored.decode("utf-8")
        return self.rendered(post).summary

    def entry(self, post: Post, fmt: str) -> bytes:
        """Return a post's entry in a feed format: as stored when this build (or an earlier
        one) rendered the post, else rendered and serialised here."""
        stored = self._stored(post, fmt)
        if stored is not None:
            return stored
        return self._serialised(post, fmt)

    def _serialised(self, post: Post, fmt: str) -> bytes:
        """Return a post's entry in a feed format as serialised here, once while the post
        is in the memo."""
        item = self.rendered(post)
        cached = self.entries.get((post.source, fmt))
        if cached is None or cached[0] is not item:
            if len(self.entries) >= 3 * MEMO_SIZE:
                self.entries.pop(next(iter(self.entries)))
            cached = (item, feedset.make_entry(self.context.site, item, fmt))
            self.entries[(post.source, fmt)] = cached
        return cached[1]

    def email_entry(self, post: Post, fmt: str) -> bytes:
        """Return a post's item in the e-mail feed (``fmt`` is "rss"): as stored when the
        post was rendered, else made here from its e-mail-safe HTML."""
        stored = self._stored_unless_rendered(post, EMAIL_ENTRY)
        if stored is not None:
            return stored
        from wcitfeed import mail  # here: most sites make nothing for e-mail

        item = self.rendered(post)
        safe = mail.email_safe(item.body_html, self._email_css())
        return feedset.make_entry(self.context.site, dataclasses.replace(item, body_html=safe), fmt)

    def _email_css(self) -> str:
        if self._css is None:
            from wcitfeed import mail  # here: most sites make nothing for e-mail

            self._css = mail.email_css(self.context.site, self.templates)
        return self._css

    def render_posts(self, work: Sequence[PostWork], tree: str | None = None) -> list[PostMade]:
        """Render each post once: make the files of its own that its work names (writing
        them into the staged ``tree`` of a cold build, if given), and its entries. The
        entries of posts new to the store are serialised together, a few dozen at a time."""
        made: list[PostMade] = []
        for start in range(0, len(work), ENTRY_BATCH):
            batch = work[start : start + ENTRY_BATCH]
            self._serialise_together([item.post for item in batch if not item.stored])
            made.extend(self.render_post_outputs(item, tree) for item in batch)
        return made

    def _serialise_together(self, posts: Sequence[Post]) -> None:
        """Render posts and serialise their entries in each format at once, for
        ``_serialised`` to find."""
        site = self.context.site
        items = [self.rendered(post) for post in posts]
        for fmt in site.formats:
            for item, data in zip(items, feedset.make_entries(site, items, fmt), strict=True):
                self.entries[(item.post.source, fmt)] = (item, data)

    def render_post_outputs(self, work: PostWork, tree: str | None = None) -> PostMade:
        """Render a post once: make the files of its own that ``work`` names (writing them
        into the staged ``tree`` of a cold build, if given), and its entries."""
        post = work.post
        if not work.stored:
            # Rendered first, the post is in the memo: nothing asks the store for it.
            self.rendered(post)
        files = {path: self.make_handed_over(path, job, tree) for path, job in work.files.items()}
        key = self.keys[post.source]
        entry = self.entry if work.stored else self._serialised
        entries = [(key, fmt, entry(post, fmt)) for fmt in self.context.site.formats]
        # Summaries serve listing pages later: kept with the entries. (A fragment serves
        # only the post's own files, made just now.)
        entries.append((key, SUMMARY, self.rendered(post).summary.encode("utf-8")))
        if self.context.site.email_feed:
            entries.append((key, EMAIL_ENTRY, self.email_entry(post, "rss")))
        # Everything the post is needed for was made just now: remember nothing of it.
        self.memo.pop(post.source, None)
        self.fragments.pop(post.source, None)
        for fmt in self.context.site.formats:
            self.entries.pop((post.source, fmt), None)
        return PostMade(files, entries)

    def start_rendering(
        self, work: Sequence[PostWork], tree: str | None = None
    ) -> Callable[[], list[PostMade]]:
        """Start rendering each post once, on every core when there are many, and return
        the call that waits for the results: the caller may write the last slice meanwhile.
        Into a cold build's staged ``tree``, each process writes the files it made.
        """
        cores = os.cpu_count() or 1
        if len(work) < PARALLEL_POSTS or cores < 2:
            made = self.render_posts(work, tree)
            return lambda: made
        chunks = [list(work[i :: cores * 2]) for i in range(cores * 2)]
        pool = self._pool()
        futures = [
            pool.submit(_worker_posts, chunk, tree, self._keys_of(w.post for w in chunk))
            for chunk in chunks
        ]

        def results() -> list[PostMade]:
            made: list[PostMade] = []
            for future in futures:
                done, warnings = future.result()
                made.extend(done)
                self.warnings.extend(warnings)
            return made

        return results

    def _pool(self) -> ProcessPoolExecutor:
        if self.workers is None:
            self.workers = start_workers(self.context.site)
        # Every post's key would cost each worker ~40 MiB at 100,000 posts: each task
        # carries the keys of the posts it shows instead (``_keys_of``).
        return self.workers.begin(dataclasses.replace(self.context, keys={}))

    def _keys_of(self, posts: Iterable[Post]) -> dict[Path, str]:
        """Return the keys of ``posts`` (those this build knows), for a worker's task."""
        return {p.source: self.keys[p.source] for p in posts if p.source in self.keys}

    def make_bytes(self, path: str, job: Job) -> bytes:
        """Make a file that is never streamed (a post's own file, a small document)."""
        data = self.make(path, job)
        assert isinstance(data, bytes), path
        return data

    def make_handed_over(self, path: str, job: Job, tree: str | None) -> bytes | Staged:
        """Make a file another process asked for: its bytes, or, in a cold build, word that
        it is written into the staged ``tree`` already."""
        data = self.make_bytes(path, job)
        return data if tree is None else stage_in_tree(tree, path, data)

    def make(self, path: str, job: Job) -> bytes | Iterator[bytes] | Staged:
        """Make one file's bytes (or hand over those a worker made already)."""
        if path in self.ready:
            return self.ready.pop(path)
        site = self.context.site
        if job.kind == "index":
            self._read_batch([p for s in self.context.sections for p in s.posts], SUMMARY)
            return self.pages.index(self.context.sections, self.summary)
        if job.kind == "listing":
            assert job.listing is not None
            self._read_batch(job.listing.posts, SUMMARY)
            return self.pages.listing(job.listing, self.summary)
        if job.kind == "document":
            assert job.document is not None
            if len(job.document.posts) > STREAMED_ENTRIES:
                chunks, found = feedset.document_chunks(site, job.document, self.entry)
                self.warnings.extend(found)
                return chunks
            self._read_batch(job.document.posts, job.document.fmt)
            data, found = feedset.make_document(site, job.document, self.entry)
            self.warnings.extend(found)
            return data
        if job.kind == "email_feed":
            assert job.document is not None
            self._read_batch(job.document.posts, EMAIL_ENTRY)
            data, found = feedset.make_document(site, job.document, self.email_entry)
            self.warnings.extend(found)
            return data
        if job.kind == "constant":
            return job.data
        if job.kind == "sitemap":
            assert self.sitemap is not None
            return self.sitemap.file(path)
        if job.kind == "asset":
            return Path(job.source).read_bytes()
        assert job.post is not None
        if job.kind == "page":
            around = job.around or pages.Neighbours()
            return self.pages.post_page(self.rendered(job.post), around)
        fragment = self.fragment(job.post)
        if job.kind == "fragment":
            return fragment.encode("utf-8")
        from wcitfeed import mail  # here: most sites make nothing for e-mail

        return mail.email_fragment(fragment, self._email_css()).encode("utf-8")

    def start_making(
        self, jobs: Sequence[tuple[str, Job]], tree: str | None = None
    ) -> Callable[[], None]:
        """Start making many feed documents and listing pages on every core (each post's
        own files are made when it is rendered, by ``start_rendering``), and return the call
        that waits for them: the results then wait in ``ready`` for ``make``. Into a cold
        build's staged ``tree``, the workers write the files they made."""
        parallel = [
            (path, job)
            for path, job in jobs
            if job.kind == "listing"
            or (
                job.kind == "document"
                and not (job.document and len(job.document.posts) > STREAMED_ENTRIES)
            )
        ]
        cores = os.cpu_count() or 1
        if not parallel or cores < 2:
            return lambda: None
        # Workers already started take any number of files; starting them takes many.
        if self.workers is None and len(parallel) < PARALLEL_THRESHOLD:
            return lambda: None
        pool = self._pool()
        tasks = _runs(parallel, cores * 4)
        futures = [
            pool.submit(
                _worker_make, task, tree, self._keys_of(p for _, j in task for p in j.posts)
            )
            for task in tasks
        ]

        def collect() -> None:
            for future in futures:
                results, warnings = future.result()
                self.ready.update(results)
                self.warnings.extend(warnings)

        return collect

    def close(self) -> None:
        """Stop the worker processes, if any were started."""
        if self.workers is not None:
            self.workers.close()
            self.workers = None


def _runs(jobs: list[tuple[str, Job]], count: int) -> list[list[tuple[str, Job]]]:
    """Cut ``jobs``, in plan order, into at most ``count`` runs of about the same work (a
    job's work: the posts it shows).

    Runs, not every ``count``-th job: neighbours in the plan often show the same posts (an
    archive page in Atom, then in RSS), and a task pickles each post it carries once, so a
    run sends a post to its worker once where every ``count``-th job sent it twice.
    """
    total = sum(len(job.posts) + 1 for _, job in jobs)
    runs: list[list[tuple[str, Job]]] = [[]]
    done = 0
    for path, job in jobs:
        # A run ends once it holds its share of the work.
        if runs[-1] and done * count >= total * len(runs):
            runs.append([])
        runs[-1].append((path, job))
        done += len(job.posts) + 1
    return runs


# The kinds of file that show posts: their keys are made by ``KeyParts``.
SHOWING: tuple[JobKind, ...] = tuple(
    kind for kind in get_args(JobKind) if kind not in ("constant", "sitemap", "asset")
)


class KeyParts:
    """The two parts of the key of a file that shows posts, each a function of its job:
    the digest of everything it is made of but its posts (``fixed``), and the posts it
    shows, in order (``shown``). The key is made of the first and the posts' keys
    (``file_key``), so a build whose only change is the text of a few posts (``edits``)
    keeps the first and makes the keys of the files that show them again without planning
    the site."""

    def __init__(
        self, file_keys: keys.FileKeys, context: Context, site_links: tuple[FeedLink, ...]
    ) -> None:
        self._key = file_keys.of
        self._links = context.links_by_prefix
        self._sections = context.sections
        self._links_digest = hashlib.sha256(repr(site_links).encode()).hexdigest()
        # The same for every post: made once.
        self._own = {kind: file_keys.of(kind) for kind in ("fragment", "email")}

    def fixed(self, job: Job) -> str:
        """Return the digest of what a file is made of besides its posts."""
        key, links_digest = self._key, self._links_digest
        if job.kind in self._own:
            return self._own[job.kind]
        if job.kind == "page":
            around = job.around or pages.Neighbours()
            newer, older = around.newer, around.older
            return key(
                "page",
                links_digest,
                *((newer.title, newer.url) if newer else (None, None)),
                *((older.title, older.url) if older else (None, None)),
            )
        if job.kind == "index":
            # Each section's number of posts, so that where one section ends is fixed too.
            shown = [(s.key, s.label, s.url, s.total, len(s.posts)) for s in self._sections]
            return key("index", links_digest, repr(shown))
        if job.kind == "listing" and job.listing is not None:
            feed_links = self._links.get(job.listing.feed_prefix, ())
            bare = dataclasses.replace(job.listing, posts=())
            return key("listing", repr(bare), links_digest, repr(feed_links))
        if job.kind in ("document", "email_feed") and job.document is not None:
            # A DocPlan's repr names every field but its posts.
            return key(job.kind, repr(dataclasses.replace(job.document, posts=())))
        raise ValueError(f"a file of kind {job.kind!r} shows no posts")

    def shown(self, job: Job) -> Sequence[Post]:
        """Return the posts a file shows, in order."""
        if job.kind == "index":
            return [p for s in self._sections for p in s.posts]
        assert job.kind in SHOWING, job.kind
        return job.posts


def file_key(
    file_keys: keys.FileKeys, fixed: str, shown: Iterable[Path], post_keys: Mapping[Path, str]
) -> str:
    """Return the key of a file that shows posts: of its fixed part and, in order, the keys
    of the posts it shows (by source)."""
    return file_keys.of(fixed, "".join([post_keys[source] for source in shown]))


@dataclass(frozen=True)
class Sitemap:
    """The sitemap of a site: its pages (the updates page, each post's, each listing's and
    the feeds page) and its files, listed and made as they are read, each time they are
    asked for: never held (at 100,000 posts the list and the files' bytes took ~38 MiB
    through the whole build)."""

    site: Site
    ordered: Sequence[Post]
    listings: Sequence[pages.Listing]

    def pages(self) -> Iterator[pages.SitemapPage]:
        """Yield the sitemap's pages with their last change (ISO 8601)."""
        return sitemap_pages(self.site, self.ordered, self.listings)

    def names(self) -> list[str]:
        """Name the sitemap's files (one, or an index and its parts)."""
        return pages.sitemap_names(self._urls())

    def file(self, name: str) -> Iterator[bytes]:
        """Yield the bytes of one of the sitemap's files, made as they are read."""
        return pages.sitemap_file(self.site, name, self.pages(), self._urls())

    def _urls(self) -> int:
        # The updates page, each post's and listing's, and the feeds page.
        return len(self.ordered) + len(self.listings) + 2


@dataclass(frozen=True, slots=True)
class PostFile:
    """A file of a post's own, as planned: its path and key, and its job."""

    planned: Planned
    job: Job


class PostFiles:
    """The files each post has of its own (``POST_KINDS``: its fragment, e-mail fragment
    and page), planned from the posts each time they are asked for, newest post first:
    at 100,000 posts their jobs, plan entries and pages' neighbour links took ~60 MiB
    when they were held through the build."""

    def __init__(self, site: Site, ordered: Sequence[Post], key_of: Callable[[Job], str]):
        self._site = site
        self._ordered = ordered
        self._key_of = key_of

    def __len__(self) -> int:
        return len(self._ordered) * (1 + self._site.fragments + self._site.email_fragments)

    def __iter__(self) -> Iterator[tuple[Post, list[PostFile]]]:
        """Yield each post with its files, their keys made now."""
        for post, own in self._each():
            yield post, [PostFile(Planned(path, self._key_of(job)), job) for path, job in own]

    def jobs(self) -> Iterator[tuple[str, Job]]:
        """Yield each post's files' paths and jobs (no keys)."""
        for _, own in self._each():
            yield from own

    def _each(self) -> Iterator[tuple[Post, list[tuple[str, Job]]]]:
        for post, around in pages.with_neighbours(self._site, self._ordered):
            yield post, self._jobs(post, around)

    def paths(self) -> Iterator[str]:
        """Yield the paths of every post's files."""
        for post in self._ordered:
            yield from (path for path, _ in self._jobs(post, None))

    def _jobs(self, post: Post, around: pages.Neighbours | None) -> list[tuple[str, Job]]:
        found: list[tuple[str, Job]] = []
        if self._site.fragments:
            found.append((f"fragments/{post.slug}.html", Job("fragment", post)))
        if self._site.email_fragments:
            found.append((f"email/{post.slug}.html", Job("email", post)))
        found.append((page_file(post_path(post)), Job("page", post, around=around)))
        return found


@dataclass(frozen=True)
class Plan:
    """Every output file of a build: those no post owns (path and key, in order, and the
    job of each), each post's own (``posts``), how the keys of those that show posts are
    made (``key_parts``), the sitemap, and the maker to run the jobs."""

    planned: list[Planned]
    jobs: dict[str, Job]
    posts: PostFiles
    key_parts: KeyParts
    sitemap: Sitemap
    maker: Maker

    @property
    def files(self) -> int:
        """Count every output file of the build."""
        return len(self.planned) + len(self.posts)


def plan_outputs(
    site: Site,
    stamp: str,
    posts: Sequence[Post],
    assets: Sequence[Source],
    bodies: dict[Path, str],
    entries: Path | None = None,
    ended: Mapping[str, datetime] | None = None,
    earlier: Mapping[str, Iterable[str]] | None = None,
    workers: LatePool | None = None,
) -> Plan:
    """List every output file with its key and its job; make nothing yet. ``ended`` names
    the category and tag feeds that once had posts (they stay, empty); ``earlier`` the
    addresses each post (by id) had before, which redirect to it now; ``workers``, if
    started already, go to the maker."""
    ordered = newest_first(posts)
    groups = feedset.groups(site, ordered)
    feeds = feedset.logical_feeds(site, ordered, groups, ended)
    links_by_prefix = {f.prefix: tuple(feedset.feed_links(site, [f])) for f in feeds}
    links = [link for f in feeds for link in links_by_prefix[f.prefix]]
    site_links = tuple(link for link in links if link.group == feedset.SITE_GROUP) or tuple(links)
    sections = tuple(pages.sections(site, groups, ordered, site.page_size))
    all_label = i18n.translations(site.language).gettext("All updates")
    listings = pages.listings(groups, ordered, site.page_size, all_label) if site.listings else []

    # Each post's key once: keys of documents that carry 50 posts hash 50 short digests.
    sizes = {a.rel: a.size for a in assets}
    ref_urls, link_warnings = sources.resolve_links(site, posts)
    digests = {p.source: keys.post_key(p, sizes, ref_urls) for p in posts}
    context = Context(
        site,
        sizes,
        site_links,
        sections,
        links_by_prefix=links_by_prefix,
        keys=digests,
        entries=entries,
        links=ref_urls,
    )
    maker = Maker(context, bodies, workers=workers)
    maker.warnings.extend(link_warnings)
    file_keys = keys.FileKeys(stamp)
    key = file_keys.of
    parts = KeyParts(file_keys, context, site_links)

    def key_of(job: Job) -> str:
        shown = (p.source for p in parts.shown(job))
        return file_key(file_keys, parts.fixed(job), shown, digests)

    def showing(path: str, job: Job) -> tuple[str, str, Job]:
        return path, key_of(job), job

    post_files = PostFiles(site, ordered, key_of)
    jobs: list[tuple[str, str, Job]] = []
    for asset in assets:
        asset_key = key("asset", str(asset.mtime_ns), str(asset.size))
        jobs.append((asset.rel, asset_key, Job("asset", source=asset.file)))
    jobs.append(showing("index.html", Job("index")))
    for listing in listings:
        jobs.append(showing(listing.path, Job("listing", listing=listing)))
    for path, data in _constant_pages(maker.pages, links).items():
        jobs.append((path, key(path, hashlib.sha256(data).hexdigest()), Job("constant", data=data)))
    # Keyed by their bytes, like the constant pages, but made again when written.
    maker.sitemap = sitemap = Sitemap(site, ordered, listings)
    for path in sitemap.names():
        digest = hashlib.sha256()
        for chunk in sitemap.file(path):
            digest.update(chunk)
        jobs.append((path, key(path, digest.hexdigest()), Job("sitemap")))

    def document(plan: feedset.DocPlan) -> tuple[str, str, Job]:
        return showing(plan.path, Job("document", document=plan))

    for feed in feeds:
        jobs.extend(document(plan) for plan in feedset.plan_documents(site, feed))
    if site.from_tool:
        tool = sources.TOOLS[site.from_tool]
        ours = {*(path for path, _, _ in jobs), *post_files.paths()}
        for plan in feedset.old_tool_plans(
            site, ordered, tool.feed_format, tool.old_feed_limit(site)
        ):
            # Zola's atom.xml is wcitfeed's own: the same entries under the same ids.
            if plan.path not in ours:
                jobs.append(document(plan))
    if site.email_feed:
        email = feedset.email_plan(site, ordered)
        jobs.append(showing(email.path, Job("email_feed", document=email)))
    taken = itertools.chain((path for path, _, _ in jobs), post_files.paths())
    moved, found = redirects.plan_redirects(site, ordered, earlier or {}, taken)
    maker.warnings.extend(found)
    for redirect in moved:
        data = maker.pages.redirect(redirect.target, redirect.title)
        redirect_key = key(redirect.file, hashlib.sha256(data).hexdigest())
        jobs.append((redirect.file, redirect_key, Job("constant", data=data)))
    planned = [Planned(path, k) for path, k, _ in jobs]
    jobs_by_path = {path: job for path, _, job in jobs}
    return Plan(planned, jobs_by_path, post_files, parts, sitemap, maker)


def sitemap_pages(
    site: Site, ordered: Sequence[Post], listings: Sequence[pages.Listing]
) -> Iterator[pages.SitemapPage]:
    """Yield the sitemap's pages with their last change (ISO 8601): the updates page, each
    post's page and each listing page, and the feeds page."""
    yield site.base_url, last_change(ordered)
    for post in ordered:
        yield site.url(post_path(post)), post.last_modified.isoformat()
    for listing in listings:
        yield site.url(listing.folder), last_change(listing.posts)
    yield site.url("feeds.html"), None


def last_change(shown: Iterable[Post]) -> str | None:
    """Return when a page of posts last changed: its latest post's last change (the first
    of equal times, as shown)."""
    latest = max((p.last_modified for p in shown), default=None)
    return latest.isoformat() if latest else None


def _constant_pages(maker: pages.PageMaker, links: Sequence[FeedLink]) -> dict[str, bytes]:
    """Make the pages that are cheap to make every build: their bytes are their key."""
    site = maker.site
    return {
        "feeds.html": maker.feeds_page(links),
        "feed-links.html": maker.feed_links_snippet(),
        "404.html": maker.not_found(),
        "style.css": maker.stylesheet(),
        "robots.txt": pages.robots(site),
    }


_WORKER: dict[str, Maker] = {}


def early_workers(site: Site, posts: int) -> LatePool | None:
    """Start the workers of a build that will render ``posts`` posts now, if it will use
    them: they get ready while the main process plans."""
    if posts < PARALLEL_POSTS or (os.cpu_count() or 1) < 2:
        return None
    return start_workers(site)


def start_workers(site: Site) -> LatePool:
    """Start a worker process per core, to make the files of ``site``: each imports the
    rendering modules and parses the templates now, and waits for the plan's context."""
    return LatePool(_worker_init, (site,))


def _worker_init(site: Site, handoff: Queue[Context | None]) -> None:
    templates = render.load_templates(site)
    context = handoff.get()
    if context is not None:
        _WORKER["maker"] = Maker(context, templates=templates)


def _worker_make(
    jobs: list[tuple[str, Job]], tree: str | None, post_keys: dict[Path, str]
) -> tuple[dict[str, bytes | Staged], list[WcitfeedError]]:
    maker = _WORKER["maker"]
    maker.warnings = []
    maker.keys = post_keys
    results = {path: maker.make_handed_over(path, job, tree) for path, job in jobs}
    return results, maker.warnings


def _worker_posts(
    work: list[PostWork], tree: str | None, post_keys: dict[Path, str]
) -> tuple[list[PostMade], list[WcitfeedError]]:
    maker = _WORKER["maker"]
    maker.warnings = []
    maker.keys = post_keys
    made = maker.render_posts(work, tree)
    return made, maker.warnings
