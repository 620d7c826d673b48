"""What a kept output file is made of besides its posts, as JSON, and back again.

A build keeps, for each file that shows posts, its job without the posts (its *shape*):
a page's neighbours, a listing's place, a feed document's titles and links. A later build
whose only change is the text of a few posts puts the posts back into the shapes of the
files that show them and makes those files again (see ``edits``). Shapes are data only,
like the rest of the cache: plain JSON, read back field by field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from wcitfeed.feedset import DocPlan
from wcitfeed.model import FeedLink, Post
from wcitfeed.pages import Listing, Neighbours, PostLink, Section
from wcitfeed.plan import Job, JobKind

# One encoder for every shape: json.dumps with an option makes one per call.
_encode = json.JSONEncoder(ensure_ascii=False).encode


def shape_of(job: Job, sections: Sequence[Section]) -> str:
    """Return the JSON of a job's shape (the index's shape is its ``sections``)."""
    data: Any = None
    if job.kind in ("fragment", "email"):
        return "null"  # a post's fragment is made of the post alone
    if job.kind == "page":
        around = job.around or Neighbours()
        data = [_link(around.newer), _link(around.older)]
    elif job.kind == "index":
        data = [[s.key, s.label, s.url, s.total, len(s.posts)] for s in sections]
    elif job.kind == "listing":
        assert job.listing is not None
        item = job.listing
        data = [item.kind, item.key, item.label, item.prefix, item.number, item.pages]
    elif job.kind in ("document", "email_feed"):
        assert job.document is not None
        data = _document(job.document)
    return _encode(data)


def job_from(kind: JobKind, shape: str, posts: Sequence[Post]) -> tuple[Job, tuple[Section, ...]]:
    """Return the job of a kept file of ``kind`` from its shape and the posts it shows, in
    order (and, for the index, its sections: the pages' maker reads them there)."""
    data: Any = json.loads(shape)
    if kind in ("fragment", "email"):
        return Job(kind, posts[0]), ()
    if kind == "page":
        return Job("page", posts[0], around=Neighbours(_unlink(data[0]), _unlink(data[1]))), ()
    if kind == "index":
        sections, start = [], 0
        for key, label, url, total, count in data:
            shown = tuple(posts[start : start + count])
            sections.append(Section(str(key), str(label), url, int(total), shown))
            start += count
        return Job("index"), tuple(sections)
    if kind == "listing":
        listing_kind, key, label, prefix, number, pages = data
        listing = Listing(listing_kind, key, label, prefix, int(number), int(pages), tuple(posts))
        return Job("listing", listing=listing), ()
    if kind in ("document", "email_feed"):
        return Job(kind, document=_undocument(data, tuple(posts))), ()
    raise ValueError(f"no shape is kept for a file of kind {kind!r}")


def links_to_json(links: Sequence[FeedLink]) -> list[list[str]]:
    """Lay out feed links (as pages offer them) as JSON lists."""
    return [[link.url, link.media_type, link.title, link.group] for link in links]


def links_from_json(data: Sequence[Sequence[str]]) -> tuple[FeedLink, ...]:
    return tuple(FeedLink(str(u), str(m), str(t), str(g)) for u, m, t, g in data)


def prefix_links_from_json(
    data: Mapping[str, Sequence[Sequence[str]]],
) -> dict[str, tuple[FeedLink, ...]]:
    return {str(prefix): links_from_json(links) for prefix, links in data.items()}


def _link(link: PostLink | None) -> list[str] | None:
    return None if link is None else [link.title, link.url]


def _unlink(data: Sequence[str] | None) -> PostLink | None:
    return None if data is None else PostLink(str(data[0]), str(data[1]))


def _urls(urls: tuple[tuple[str, str], ...] | None) -> list[list[str]] | None:
    return None if urls is None else [[fmt, url] for fmt, url in urls]


def _unurls(data: Sequence[Sequence[str]] | None) -> tuple[tuple[str, str], ...] | None:
    return None if data is None else tuple((str(fmt), str(url)) for fmt, url in data)


def _document(plan: DocPlan) -> dict[str, Any]:
    return {
        "path": plan.path,
        "fmt": plan.fmt,
        "title": plan.title,
        "subtitle": plan.subtitle,
        "feed_id": plan.feed_id,
        "home_url": plan.home_url,
        "self_urls": _urls(plan.self_urls),
        "prev_archive": _urls(plan.prev_archive),
        "current": _urls(plan.current),
        "live": plan.live,
        "must_keep": plan.must_keep,
        "total": plan.total,
        "next_archive": _urls(plan.next_archive),
        "ended_at": plan.ended_at.isoformat() if plan.ended_at else None,
    }


def _undocument(data: Mapping[str, Any], posts: tuple[Post, ...]) -> DocPlan:
    self_urls = _unurls(data["self_urls"])
    assert self_urls is not None
    ended = data["ended_at"]
    return DocPlan(
        str(data["path"]),
        str(data["fmt"]),
        str(data["title"]),
        str(data["subtitle"]),
        str(data["feed_id"]),
        str(data["home_url"]),
        self_urls,
        posts,
        _unurls(data["prev_archive"]),
        _unurls(data["current"]),
        live=data["live"] is True,
        must_keep=int(data["must_keep"]),
        total=int(data["total"]),
        next_archive=_unurls(data["next_archive"]),
        ended_at=datetime.fromisoformat(ended) if ended else None,
    )
