"""Atom and RSS documents from feed plans. The only module that touches feedgen.

feedgen fills in the current time wherever a date is left unset and prepends entries by
default; here every date is set from the content and entries are appended in our own order,
so the same posts always give the same bytes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from wcitfeed import __version__
from wcitfeed.model import EPOCH, Author, FeedDoc, Post, RenderedPost, Site

ATOM_NS = "http://www.w3.org/2005/Atom"
FH_NS = "http://purl.org/syndication/history/1.0"


def atom_document(site: Site, doc: FeedDoc) -> bytes:
    """Serialise one feed document as Atom 1.0."""
    return _serialised(_generator(site, doc, "atom"), "atom")


def rss_document(site: Site, doc: FeedDoc) -> bytes:
    """Serialise one feed document as RSS 2.0 with content:encoded, dc and media."""
    return _serialised(_generator(site, doc, "rss"), "rss")


def _serialised(fg: FeedGenerator, fmt: str) -> bytes:
    if fmt == "atom":
        return bytes(fg.atom_str(pretty=True, encoding="UTF-8"))
    return _hex_references(bytes(fg.rss_str(pretty=True, encoding="UTF-8")))


# RSS leaves open whether a title or description is text or HTML; the W3C validator asks
# for '&' and '<' in plain text as hexadecimal references, which every reader decodes the
# same way but no reader can mistake for markup.
_PLAIN_RE = re.compile(rb"<(title|description)>([^<]*)</\1>")


def _hex_references(rss: bytes) -> bytes:
    def encode(match: re.Match[bytes]) -> bytes:
        text = match.group(2).replace(b"&amp;", b"&#x26;").replace(b"&lt;", b"&#x3C;")
        return b"<%s>%s</%s>" % (match.group(1), text, match.group(1))

    return _PLAIN_RE.sub(encode, rss) if b"&" in rss else rss


# Entries and frames: a document is its frame's head, its entries' bytes in order, and the
# frame's tail. feedgen writes both (a one-entry document, cut at the entry's edges), so
# feedgen stays the authority for the markup while each entry is serialised once per
# format and build, however many documents carry it.
_EDGES = {"atom": (b"\n  <entry>", b"</entry>\n"), "rss": (b"\n    <item>", b"</item>\n")}


def entry_bytes(site: Site, item: RenderedPost, fmt: str) -> bytes:
    """Serialise one entry (Atom ``<entry>`` or RSS ``<item>``) as documents carry it."""
    return entries_bytes(site, [item], fmt)[0]


def entries_bytes(site: Site, items: Sequence[RenderedPost], fmt: str) -> list[bytes]:
    """Serialise entries as documents carry them, each the same as ``entry_bytes`` gives:
    one document holds them all and is cut at each entry's edges, so the frame is written
    once for many entries (about a quarter of an RSS item's cost when made alone)."""
    if not items:
        return []
    fg = _entry_generator(site, fmt)
    added = []
    try:
        for item in items:
            fe = fg.add_entry(order="append")
            added.append(fe)
            _entry(fe, site, item, rss=fmt == "rss")
        whole = _serialised(fg, fmt)
    finally:
        for fe in added:
            fg.remove_entry(fe)
    cut: list[bytes] = []
    start = 0
    for _ in items:
        start, end = _cut(whole, fmt, start)
        cut.append(whole[start:end])
        # The next entry's opening begins with the newline that ends this one.
        start = end - 1
    return cut


# The one-entry documents entries are cut from differ only in their entry: each thread
# keeps a generator per format for the site it serialises for, and swaps the entry. Setting
# up a generator (extensions, links, authors) took half the time of making an entry.
_HELD = threading.local()


def _entry_generator(site: Site, fmt: str) -> FeedGenerator:
    held: dict[str, tuple[Site, FeedGenerator]] = _HELD.__dict__.setdefault("generators", {})
    found = held.get(fmt)
    if found is None or found[0] is not site:
        doc = FeedDoc("t", "", "urn:x", site.base_url, {fmt: site.base_url}, (), None, None, False)
        found = (site, _generator(site, doc, fmt))
        held[fmt] = found
    return found[1]


def frame(site: Site, doc: FeedDoc, fmt: str) -> tuple[bytes, bytes]:
    """Return a document's bytes before and after its entries (``doc.entries`` unused)."""
    placeholder = RenderedPost(_PLACEHOLDER, site.base_url, "", "", None)
    with_one = FeedDoc(
        doc.title,
        doc.subtitle,
        doc.feed_id,
        doc.home_url,
        doc.self_urls,
        (placeholder,),
        doc.prev_archive,
        doc.current,
        doc.complete,
        doc.updated_at,
        doc.next_archive,
    )
    whole = atom_document(site, with_one) if fmt == "atom" else rss_document(site, with_one)
    start, end = _cut(whole, fmt)
    return whole[:start], whole[end:]


def _cut(whole: bytes, fmt: str, after: int = 0) -> tuple[int, int]:
    """Return where the first entry at or after ``after`` starts and ends. Markup inside an
    entry is escaped text, so an entry's edges are the first tags that look like them."""
    opening, closing = _EDGES[fmt]
    start = whole.index(opening, after) + 1
    return start, whole.index(closing, start) + len(closing)


_PLACEHOLDER = Post(
    source=Path("placeholder"),
    id="urn:x",
    title="x",
    slug="x",
    date=EPOCH,
    updated=None,
    category=None,
    tags=(),
    summary=None,
    authors=(),
    draft=False,
    minor=False,
    image=None,
    digest="",
)


class _History(BaseExtension):  # type: ignore[misc]
    """RFC 5005 and WebSub links and markers feedgen has no setters for."""

    def __init__(self) -> None:
        self.links: list[tuple[str, str]] = []
        self.complete = False
        self.archive = False

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH_NS}

    def _extend(self, feed: Any, parent: Any, link_tag: str) -> Any:
        for rel, href in self.links:
            etree.SubElement(parent, link_tag, href=href, rel=rel)
        if self.complete:
            etree.SubElement(parent, f"{{{FH_NS}}}complete")
        if self.archive:
            etree.SubElement(parent, f"{{{FH_NS}}}archive")
        return feed

    def extend_atom(self, feed: Any) -> Any:
        # feedgen writes Atom elements without a namespace under a default xmlns.
        return self._extend(feed, feed, "link")

    def extend_rss(self, feed: Any) -> Any:
        return self._extend(feed, feed.find("channel"), f"{{{ATOM_NS}}}link")


class _EntryLinks(BaseEntryExtension):  # type: ignore[misc]
    """Atom entry links with their rel and type (feedgen drops both on entry links)."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []

    def extend_atom(self, entry: Any) -> Any:
        for attributes in self.links:
            etree.SubElement(entry, "link", **attributes)
        return entry

    def extend_rss(self, item: Any) -> Any:
        return item


def _generator(site: Site, doc: FeedDoc, fmt: str) -> FeedGenerator:
    rss = fmt == "rss"
    fg = FeedGenerator()
    fg.register_extension("history", _History, _EntryLinks, atom=True, rss=True)
    if rss:
        fg.load_extension("dc", atom=False, rss=True)
        fg.load_extension("media", atom=False, rss=True)
    fg.id(doc.feed_id)
    fg.title(doc.title)
    fg.subtitle(doc.subtitle or doc.title)
    fg.language(site.language)
    fg.generator("wcitfeed", version=__version__)
    if site.rights:
        fg.rights(site.rights)
    fg.author([_author(a) for a in site.authors])
    if rss:
        # RSS has no channel author without an e-mail address; dc:creator carries names.
        fg.dc.dc_creator([a.name for a in site.authors])
    if site.icon:
        fg.icon(site.url(site.icon) if "://" not in site.icon else site.icon)
    if site.logo:
        fg.logo(site.url(site.logo) if "://" not in site.logo else site.logo)
    media_type = "application/rss+xml" if rss else "application/atom+xml"
    # feedgen takes the RSS <link> from the last link added: self first, then the page.
    fg.link(href=doc.self_urls[fmt], rel="self", type=media_type)
    fg.link(href=doc.home_url, rel="alternate", type="text/html")
    history = fg.history
    if site.hub:
        history.links.append(("hub", site.hub))
    if doc.prev_archive:
        history.links.append(("prev-archive", doc.prev_archive[fmt]))
    if doc.next_archive:
        history.links.append(("next-archive", doc.next_archive[fmt]))
    if doc.current:
        history.links.append(("current", doc.current[fmt]))
        history.archive = True
    history.complete = doc.complete
    fg.updated(doc.updated())
    for item in doc.entries:
        _entry(fg.add_entry(order="append"), site, item, rss=rss)
    return fg


def _entry(fe: FeedEntry, site: Site, item: RenderedPost, *, rss: bool) -> None:
    post = item.post
    fe.id(post.id)
    fe.guid(post.id, permalink=post.id == item.url)
    fe.title(post.title)
    image = item.image
    enclosure = image if image and image.length is not None and image.media_type else None
    if rss:
        fe.link(href=item.url, rel="alternate")
        if enclosure:
            fe.enclosure(enclosure.url, str(enclosure.length), enclosure.media_type)
    else:
        links = fe.history.links
        links.append({"href": item.url, "rel": "alternate", "type": "text/html"})
        if enclosure:
            links.append(
                {
                    "href": enclosure.url,
                    "rel": "enclosure",
                    "type": str(enclosure.media_type),
                    "length": str(enclosure.length),
                }
            )
    fe.published(post.date)
    fe.updated(post.last_modified)
    fe.content(item.body_html, type="html")
    fe.summary(item.summary)
    if post.category:
        # One name for a category in every format: its label (RSS and JSON Feed have no
        # room for a second one), with the categories' scheme beside it.
        label = site.category_label(post.category)
        fe.category(term=label, label=label, scheme=site.url("categories/"))
    for tag in post.tags:
        fe.category(term=tag, label=tag, scheme=site.url("tags/"))
    if rss:
        # RSS <author> must be an e-mail address: an author who has one goes there (with
        # the name), one who has not goes in dc:creator; never both for one item.
        with_email = [_author(a) for a in post.authors if a.email]
        if with_email:
            fe.author(with_email)
        else:
            for author in post.authors:
                fe.dc.dc_creator(author.name)
    else:
        fe.author([_author(a) for a in post.authors])
    if rss and image:
        content = {"url": image.url, "medium": "image"}
        if image.media_type:
            content["type"] = image.media_type
        if image.length is not None:
            content["fileSize"] = str(image.length)
        # One picture: media:content and media:thumbnail directly in the item (a
        # media:group must hold several media:content, says the W3C validator).
        fe.media.content(content, group=None)
        fe.media.thumbnail({"url": image.url}, group=None)


def _author(author: Author) -> dict[str, str]:
    fields = {"name": author.name, "email": author.email, "uri": author.uri}
    return {key: value for key, value in fields.items() if value}
