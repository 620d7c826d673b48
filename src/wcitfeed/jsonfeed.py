"""JSON Feed 1.1 documents from feed plans (feedgen does not write JSON Feed)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from wcitfeed.model import Author, FeedDoc, RenderedPost, Site

VERSION = "https://jsonfeed.org/version/1.1"


def json_document(site: Site, doc: FeedDoc, next_url: str | None) -> bytes:
    """Serialise one feed document as JSON Feed 1.1; ``next_url`` leads to older entries."""
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": doc.title,
        "home_page_url": doc.home_url,
        # The feed's identifier (JSON Feed 1.1): an archive page names its live feed and is
        # reached through next_url, never by its own address.
        "feed_url": (doc.current or doc.self_urls)["json"],
        "description": doc.subtitle or doc.title,
        "language": site.language,
        "authors": [_author(a) for a in site.authors],
    }
    if site.icon:
        feed["icon"] = site.icon if "://" in site.icon else site.url(site.icon)
        feed["favicon"] = feed["icon"]
    if next_url:
        feed["next_url"] = next_url
    if site.hub:
        feed["hubs"] = [{"type": "WebSub", "url": site.hub}]
    feed["items"] = [_item(site, item) for item in doc.entries]
    # Compact, so the C encoder does the work: indented output is several times slower.
    text = json.dumps(feed, ensure_ascii=False, separators=(",", ":"))
    return (text + "\n").encode("utf-8")


def json_entry(site: Site, item: RenderedPost) -> bytes:
    """Serialise one item as ``json_document`` writes it."""
    return json.dumps(_item(site, item), ensure_ascii=False, separators=(",", ":")).encode()


def json_frame(site: Site, doc: FeedDoc, next_url: str | None) -> tuple[bytes, bytes]:
    """Return a document's bytes before and after its items (joined by commas)."""
    whole = json_document(site, replace(doc, entries=()), next_url)
    cut = whole.rindex(b"[]}")
    return whole[: cut + 1], whole[cut + 1 :]


def _item(site: Site, item: RenderedPost) -> dict[str, Any]:
    post = item.post
    entry: dict[str, Any] = {
        "id": post.id,
        "url": item.url,
        "title": post.title,
        "content_html": item.body_html,
        "summary": item.summary,
        "date_published": post.date.isoformat(),
        "date_modified": post.last_modified.isoformat(),
        "authors": [_author(a) for a in post.authors],
        "language": site.language,
    }
    tags = ([site.category_label(post.category)] if post.category else []) + list(post.tags)
    if tags:
        entry["tags"] = list(dict.fromkeys(tags))
    if item.image:
        entry["image"] = item.image.url
        if item.image.length is not None and item.image.media_type:
            entry["attachments"] = [
                {
                    "url": item.image.url,
                    "mime_type": item.image.media_type,
                    "size_in_bytes": item.image.length,
                }
            ]
    return entry


def _author(author: Author) -> dict[str, str]:
    fields = {"name": author.name, "url": author.uri}
    return {key: value for key, value in fields.items() if value}
