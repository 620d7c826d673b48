"""Hugo content (``content/<section>/slug.md`` and page bundles) and Hugo's built-in RSS.

A post's address follows Hugo's rules: ``url`` wins, then the section's ``[permalinks]``
pattern, else ``/<sections>/<slug or file name>/``, in lower case. Hugo's RSS ``<guid>`` is
the permalink, so that is the id. ``ref`` and ``relref`` shortcodes link to the post they
name; other shortcodes are not run.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from wcitfeed.model import Post, Ref, Site
from wcitfeed.sources.base import (
    DATE_PLACEHOLDERS,
    Address,
    Links,
    Mapped,
    Markup,
    Tool,
    aliases,
    clean_path,
    date_values,
    fill,
    link_to,
    list_items,
    replace_tags,
    unknown_placeholder,
)

# {{</* x */>}} is Hugo's way to show a shortcode as text; then {{< name args >}},
# {{% name args %}} and their closing forms.
# An inline shortcode ({{< name.inline >}}…{{< /name.inline >}}) holds a Go template:
# wcitfeed cannot run it, so it goes whole.
SHORTCODE = re.compile(
    r"\{\{(?P<open>[<%])/\*(?P<escaped>.*?)\*/(?P=open)?[>%]\}\}"
    r"|\{\{[<%]\s*(?P<inline>[\w-]+\.inline)\s*[>%]\}\}.*?\{\{[<%]\s*/\s*(?P=inline)\s*[>%]\}\}"
    r"|\{\{(?P<delim>[<%])\s*(?P<close>/)?\s*(?P<name>[\w./-]+)(?P<args>.*?)[>%]\}\}",
    re.DOTALL,
)
PLACEHOLDERS = (
    *DATE_PLACEHOLDERS,
    "monthname",
    "weekday",
    "weekdayname",
    "yearday",
    "section",
    "sections",
    "title",
    "slug",
    "filename",
    "contentbasename",
)
_FIRST_ARG = re.compile(r"""^\s*(?:path\s*=\s*)?(["']?)([^"'\s]+)\1""")
_PATH_CHARS = "./\\_-#+~%"


class Hugo(Tool):
    """Hugo with its default RSS template."""

    name: ClassVar[str] = "hugo"
    label: ClassVar[str] = "Hugo"
    feed_format: ClassVar[Literal["atom", "rss"]] = "rss"
    feed_limit: ClassVar[int | None] = None  # services.rss.limit: -1, every page
    signs: ClassVar[str] = "TOML front matter between '+++' lines, or Hugo shortcodes"

    def address(self, mapped: Mapped, post: Post, site: Site) -> Address:
        meta = mapped.meta
        section = mapped.folders[0] if mapped.folders else ""
        patterns = dict(site.permalinks)
        pattern = patterns.get(section) or site.permalink
        slug = str(meta.get("slug") or "")
        if meta.get("url"):
            url = str(meta["url"])
        elif pattern:
            values = {
                **date_values(post.date),
                "monthname": post.date.strftime("%B"),
                "weekday": str(post.date.isoweekday() % 7),
                "weekdayname": post.date.strftime("%A"),
                "yearday": str(post.date.timetuple().tm_yday),
                "section": section,
                "sections": "/".join(mapped.folders),
                "title": urlize(post.title),
                "slug": slug or urlize(post.title),
                "filename": mapped.name,
                "contentbasename": mapped.name,
            }
            url = fill(pattern, values)
        else:
            url = "/".join([*mapped.folders, slug or mapped.name]) + "/"
        path = clean_path(make_path(url))
        feeds = ["index.xml"]
        if section:
            feeds.append(f"{make_path(section)}/index.xml")
        for taxonomy in ("tags", "categories"):
            for term in list_items(meta.get(taxonomy)):
                feeds.append(f"{taxonomy}/{urlize(str(term))}/index.xml")
        # A relative alias is relative to the folder of the page's address, as Hugo places it.
        folder = posixpath.dirname(path.rstrip("/"))
        moved = [
            str(a) if str(a).startswith("/") or not folder else f"{folder}/{a}"
            for a in list_items(meta.get("aliases"))
        ]
        return Address(
            path, site.url(path), aliases({"aliases": moved}), tuple(dict.fromkeys(feeds))
        )

    def markup(self, body: str, site: Site, links: Links | None = None) -> Markup:
        refs: list[Ref] = []

        def handle(match: re.Match[str], line: int) -> str | None:
            if match.group("escaped") is not None:
                delim = match.group("open")
                close = ">" if delim == "<" else "%"
                return "{{" + delim + match.group("escaped") + close + "}}"
            if match.group("inline") is not None:
                return None
            name, args = match.group("name"), match.group("args")
            if name in ("ref", "relref") and not match.group("close"):
                target = _FIRST_ARG.match(args)
                if target is None:
                    return None
                query = target.group(2)
                return link_to(Ref(query, line), refs, links)
            if name == "highlight":
                return "\n```\n" if match.group("close") else f"```{args.split()[0]}\n"
            return None

        text, unknown = replace_tags(body, SHORTCODE, handle)
        return Markup(text, tuple(refs), tuple(unknown))

    def pattern_problem(self, pattern: str) -> str | None:
        return unknown_placeholder(pattern, PLACEHOLDERS)

    def looks_like(self, meta: Mapping[str, Any], rel: str, kind: str) -> bool:
        return kind == "toml" or "aliases" in meta


def make_path(text: str) -> str:
    """Hugo's path cleaning: spaces become '-', characters other than letters, digits and
    ``./\\_-#+~%`` go, and the path is lower-cased (disablePathToLower is false)."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        if char.isalnum() or char in _PATH_CHARS or unicodedata.category(char).startswith("M"):
            out.append(char)
        elif char.isspace():
            out.append("-")
    return "".join(out).lower()


def urlize(text: str) -> str:
    """Hugo's ``urlize`` of a title or taxonomy term."""
    return make_path(text.strip())
