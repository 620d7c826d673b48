"""Zola pages (``content/<section>/slug.md``, ``2019-11-07-slug.md``) and its Atom feed.

A page's address is its ``path`` when it has one, else its section's folders and its slug
(``slug``, else the file name without a date prefix, slugified). Zola's ``atom.xml``
gives each entry the page's permalink as ``<id>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from wcitfeed.model import Post, Site, slugify
from wcitfeed.sources.base import Address, Mapped, Tool, aliases, clean_path


class Zola(Tool):
    """Zola with ``generate_feeds = true`` and its built-in Atom template."""

    name: ClassVar[str] = "zola"
    label: ClassVar[str] = "Zola"
    feed_format: ClassVar[Literal["atom", "rss"]] = "atom"
    feed_limit: ClassVar[int | None] = None  # feed_limit is unset: every page
    signs: ClassVar[str] = "TOML front matter with [extra] or [taxonomies] tables, or 'path'"

    def address(self, mapped: Mapped, post: Post, site: Site) -> Address:
        meta = mapped.meta
        if meta.get("path"):
            path = clean_path(str(meta["path"]).strip("/") + "/")
        else:
            slug = slugify(str(meta.get("slug") or mapped.name))
            path = clean_path("/".join([*mapped.folders, slug]) + "/")
        return Address(path, site.url(path), aliases(meta), ("atom.xml",))

    def looks_like(self, meta: Mapping[str, Any], rel: str, kind: str) -> bool:
        return kind == "toml" and ("taxonomies" in meta or "extra" in meta or "path" in meta)
