"""Eleventy posts (``content/blog/slug.md``) and the feed of eleventy-plugin-rss.

Eleventy publishes a file at its path below the input folder, without the extension and
with a final slash, unless front matter gives a ``permalink``. The base blog's
``/feed/feed.xml`` uses the absolute URL as ``<id>`` and carries the 10 newest posts.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from wcitfeed.model import Post, Site
from wcitfeed.sources.base import Address, Mapped, Tool, aliases, clean_path


class Eleventy(Tool):
    """Eleventy with ``@11ty/eleventy-plugin-rss`` as the base blog sets it up."""

    name: ClassVar[str] = "eleventy"
    label: ClassVar[str] = "Eleventy"
    feed_format: ClassVar[Literal["atom", "rss"]] = "atom"
    feed_limit: ClassVar[int | None] = 10
    signs: ClassVar[str] = "JavaScript front matter ('---js') or Eleventy keys"

    def address(self, mapped: Mapped, post: Post, site: Site) -> Address:
        meta = mapped.meta
        permalink = meta.get("permalink")
        if isinstance(permalink, str) and "{" not in permalink:
            path = clean_path(permalink)
            if path.endswith("index.html"):
                path = path[: -len("index.html")]
        else:
            path = clean_path(posixpath.join(*mapped.folders, mapped.name) + "/")
        return Address(path, site.url(path), aliases(meta), ("feed/feed.xml",))

    def looks_like(self, meta: Mapping[str, Any], rel: str, kind: str) -> bool:
        return (
            kind == "js" or "eleventyNavigation" in meta or "eleventyExcludeFromCollections" in meta
        )
