"""Posts written for other static site generators, read the way those tools read them.

Each tool has a module with the same interface (``base.Tool``): front matter to wcitfeed's
fields, the post's old address, entry id and feeds, and its template tags resolved. The
``from`` setting picks one; ``lenient = true`` alone maps front matter but keeps
wcitfeed's own addresses.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from typing import Any

from wcitfeed.errors import ContentError, WcitfeedError
from wcitfeed.model import Post, Site, post_path
from wcitfeed.sources.base import Address, Mapped, Markup, Tool
from wcitfeed.sources.eleventy import Eleventy
from wcitfeed.sources.hugo import Hugo
from wcitfeed.sources.jekyll import Jekyll
from wcitfeed.sources.pelican import Pelican
from wcitfeed.sources.zola import Zola

__all__ = [
    "TOOLS",
    "Address",
    "Mapped",
    "Markup",
    "Tool",
    "final_body",
    "recognise",
    "resolve_links",
    "tool_for",
]

# Liquid tags and output, Hugo shortcodes: removed by template_tags = "strip".
TEMPLATE_TAG_RE = re.compile(r"\{%.*?%\}|\{\{<.*?>\}\}|\{\{%.*?%\}\}|\{\{.*?\}\}", re.DOTALL)
TOOLS: dict[str, Tool] = {t.name: t for t in (Jekyll(), Hugo(), Pelican(), Zola(), Eleventy())}
_GENERIC = Tool()
# The order a file is tested in: the most specific signs first.
_RECOGNISED = ("eleventy", "zola", "hugo", "jekyll", "pelican")


def tool_for(site: Site) -> Tool | None:
    """Return the rules posts are read by: the ``from`` tool, the generic mapping of
    ``lenient``, or None for wcitfeed's own front matter."""
    if site.from_tool:
        return TOOLS[site.from_tool]
    return _GENERIC if site.lenient else None


def recognise(meta: Mapping[str, Any], rel: str, kind: str) -> Tool | None:
    """Return the tool a file was written for, judged by its front matter and name."""
    for name in _RECOGNISED:
        if TOOLS[name].looks_like(meta, rel, kind):
            return TOOLS[name]
    return None


def final_body(site: Site, body: str, links: Mapping[str, str] | None = None) -> str:
    """Return the Markdown a post renders from: under ``from``, its template tags
    resolved, with ``links`` for the posts it names; otherwise with every template tag
    removed when ``template_tags = "strip"``, or as written."""
    if site.from_tool is not None:
        return TOOLS[site.from_tool].markup(body, site, links).body
    if site.template_tags == "strip":
        return TEMPLATE_TAG_RE.sub("", body)
    return body


def resolve_links(site: Site, posts: Sequence[Post]) -> tuple[dict[str, str], list[WcitfeedError]]:
    """Find the post each post's links by file name (``refs``) point to: by its path
    below the content folder (or the site's source folder above it, as Jekyll's
    ``_posts/…`` says), or its file name with or without extension. Return each query's
    absolute URL, and a warning for each that names no post."""
    if not any(post.refs for post in posts):
        return {}, []
    known: dict[str, Post] = {}
    for post in posts:
        rel = site.rel(post.source)
        stem = posixpath.splitext(rel)[0]
        for key in (rel, stem, posixpath.basename(rel), posixpath.basename(stem)):
            known.setdefault(key, post)
        if posixpath.basename(stem) in ("index", "_index"):
            known.setdefault(posixpath.dirname(rel), post)
            known.setdefault(posixpath.basename(posixpath.dirname(rel)), post)
    links: dict[str, str] = {}
    warnings: list[WcitfeedError] = []
    for post in posts:
        for ref in post.refs:
            if ref.query in links:
                continue
            target, _, anchor = ref.query.partition("#")
            name = target.lstrip("./").lstrip("/")
            found = known.get(name) or known.get(name.partition("/")[2])
            if found is None:
                links[ref.query] = site.url(name) + (f"#{anchor}" if anchor else "")
                warnings.append(
                    ContentError(
                        f"links to {name}, which is not a post in the content folder: the "
                        "link leads to that path below the site (write the page's address)",
                        path=post.source,
                        line=ref.line,
                    )
                )
                continue
            links[ref.query] = site.url(post_path(found)) + (f"#{anchor}" if anchor else "")
    return links, warnings
