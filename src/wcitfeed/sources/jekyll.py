"""Jekyll posts (``_posts/2013-05-06-slug.md``) and the feed jekyll-feed made of them.

Addresses follow Jekyll's ``permalink`` (the site's setting, or a post's own key); the id
is jekyll-feed's ``<id>``: the post's URL without its extension (Jekyll's ``post.id``).
Liquid is not run, but the tags that link, escape and highlight are resolved.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from wcitfeed.model import Post, Ref, Site
from wcitfeed.sources.base import (
    DATE_PLACEHOLDERS,
    DATED_NAME,
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
    site_path,
    unknown_placeholder,
)

STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
PLACEHOLDERS = (
    *DATE_PLACEHOLDERS,
    "categories",
    "title",
    "slug",
    "output_ext",
    "week",
    "short_day",
    "long_month",
    "short_month",
    "long_day",
)
# {% raw %}…{% endraw %} first, so nothing inside it is read as a tag.
LIQUID = re.compile(
    r"\{%-?\s*raw\s*-?%\}(?P<raw>.*?)\{%-?\s*endraw\s*-?%\}"
    r"|\{%-?\s*(?P<tag>\w+)(?P<args>.*?)-?%\}"
    r"|\{\{-?(?P<output>.*?)-?\}\}",
    re.DOTALL,
)
_QUOTED = re.compile(r"""^\s*(['"])(.*?)\1\s*(?:\|\s*(\w+)\s*)?$""")
_NOT_PRETTY = re.compile(r"[^\w._~!$&'()+,;=@]+")


class Jekyll(Tool):
    """Jekyll 3 and 4 with jekyll-feed."""

    name: ClassVar[str] = "jekyll"
    label: ClassVar[str] = "Jekyll"
    feed_format: ClassVar[Literal["atom", "rss"]] = "atom"
    feed_limit: ClassVar[int | None] = 10  # jekyll-feed's posts_limit
    signs: ClassVar[str] = "file names like 2013-05-06-title.md, 'layout' or Liquid tags"

    def address(self, mapped: Mapped, post: Post, site: Site) -> Address:
        meta = mapped.meta
        slug = str(meta.get("slug") or mapped.name)
        categories = [str(c).lower() for c in [*_folder_categories(mapped), *_categories(meta)]]
        when = post.date.astimezone(site.timezone)
        values = {
            **date_values(when),
            "categories": "/".join(dict.fromkeys(categories)),
            "title": _NOT_PRETTY.sub("-", slug).strip("-"),
            "slug": _NOT_PRETTY.sub("-", slug.lower()).strip("-"),
            "output_ext": ".html",
            "week": when.strftime("%V"),
            "short_day": when.strftime("%a"),
            "long_month": when.strftime("%B"),
            "short_month": when.strftime("%b"),
            "long_day": when.strftime("%A"),
        }
        pattern = str(meta.get("permalink") or site.permalink or "date")
        url = fill(STYLES.get(pattern, pattern), values)
        url = "/" + clean_path(url)
        # jekyll-feed's <id> is Jekyll's post.id: the URL's folder and the post's slug.
        entry_id = site.url(posixpath.join(posixpath.dirname(url), slug))
        return Address(clean_path(url), entry_id, aliases(meta), ("feed.xml",))

    def markup(self, body: str, site: Site, links: Links | None = None) -> Markup:
        refs: list[Ref] = []
        variables = dict(site.variables)

        def handle(match: re.Match[str], line: int) -> str | None:
            if match.group("raw") is not None:
                return match.group("raw")
            if match.group("output") is not None:
                return _output(match.group("output"), site, variables)
            tag, args = match.group("tag"), match.group("args").strip()
            if tag == "highlight":
                return f"```{args.split()[0] if args else ''}\n"
            if tag == "endhighlight":
                return "\n```"
            if tag in ("link", "post_url") and args:
                query = args.split()[0]
                return link_to(Ref(query, line), refs, links)
            return None

        text, unknown = replace_tags(body, LIQUID, handle)
        return Markup(text, tuple(refs), tuple(unknown))

    def pattern_problem(self, pattern: str) -> str | None:
        return unknown_placeholder(pattern, PLACEHOLDERS)

    def looks_like(self, meta: Mapping[str, Any], rel: str, kind: str) -> bool:
        name = rel.rsplit("/", 1)[-1]
        return kind == "yaml" and (
            bool(DATED_NAME.match(name))
            or "layout" in meta
            or "permalink" in meta
            or "redirect_from" in meta
        )


def _categories(meta: Mapping[str, Any]) -> list[Any]:
    return [*list_items(meta.get("category")), *list_items(meta.get("categories"))]


def _folder_categories(mapped: Mapped) -> tuple[str, ...]:
    """Folders above ``_posts`` are categories in Jekyll (``news/_posts/…``)."""
    folders = mapped.folders
    if "_posts" in folders:
        return folders[: folders.index("_posts")]
    return ()


def _output(expression: str, site: Site, variables: Mapping[str, str]) -> str | None:
    """Evaluate the Liquid outputs a post can mean without a Liquid engine: site.baseurl,
    site.url, site.KEY from ``variables``, and a quoted path through relative_url or
    absolute_url. None for anything else."""
    text = expression.strip()
    if text == "site.baseurl":
        return site_path(site)
    if text == "site.url":
        return site.base_url[: len(site.base_url) - len(site_path(site)) - 1]
    if text.startswith("site.") and text[5:] in variables:
        return variables[text[5:]]
    quoted = _QUOTED.match(text)
    if quoted:
        value, filter_name = quoted.group(2), quoted.group(3)
        if filter_name == "relative_url":
            return site_path(site) + "/" + value.lstrip("/")
        if filter_name == "absolute_url":
            return site.url(value)
        if filter_name is None:
            return value
    return None
