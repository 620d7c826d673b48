"""Pelican articles (``Title:``/``Date:`` metadata lines) and Pelican's Atom feeds.

Pelican publishes an article at its ``URL``/``Save_as`` metadata, else at ``ARTICLE_URL``
(``{slug}.html``; the ``permalink`` setting takes its pattern), its slug made from the
title. Its feeds give each entry a tag
URI of the article's host, day and path, in ``feeds/all.atom.xml``, the language's
``feeds/all-en.atom.xml`` and one feed per category, 100 entries each (``FEED_MAX_ITEMS``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from wcitfeed.model import Post, Site
from wcitfeed.sources.base import Address, Mapped, Tool, aliases, clean_path

# Pelican's SLUG_REGEX_SUBSTITUTIONS, applied in its order.
_SLUG_STEPS = ((r"[^\w\s-]", ""), (r"\A\s*", ""), (r"\s*\Z", ""), (r"[-\s]+", "-"))


class Pelican(Tool):
    """Pelican 4 with its default feed settings."""

    name: ClassVar[str] = "pelican"
    label: ClassVar[str] = "Pelican"
    feed_format: ClassVar[Literal["atom", "rss"]] = "atom"
    feed_limit: ClassVar[int | None] = 100
    signs: ClassVar[str] = "metadata lines such as 'Title:' and 'Date:'"

    def map(self, meta: dict[str, Any], rel: str, body: str, site: Site) -> Mapped | None:
        # Pelican's keys are case-insensitive, its tags one comma-separated line, and an
        # article with no category is in its folder's (else "misc").
        meta = {str(k).lower(): v for k, v in meta.items()}
        for key in ("tags", "authors"):
            if isinstance(meta.get(key), str):
                meta[key] = [t.strip() for t in meta[key].split(",") if t.strip()]
        if meta.get("status") == "draft":
            meta["draft"] = True
        meta.pop("status", None)
        if "modified" in meta:
            meta["updated"] = meta.pop("modified")
        mapped = super().map(meta, rel, body, site)
        if mapped is None:
            return None
        folders = mapped.folders
        category = str(meta.get("category") or (folders[-1] if folders else "misc"))
        mapped.meta["category"] = category
        if "slug" not in meta:
            mapped.fields["slug"] = pelican_slug(str(mapped.fields["title"]))
        return mapped

    def address(self, mapped: Mapped, post: Post, site: Site) -> Address:
        category = str(mapped.meta["category"])
        values = {
            "slug": post.slug,
            "category": pelican_slug(category),
            "date": post.date.astimezone(site.timezone),
            "lang": site.language.split("-")[0],
        }
        pattern = site.permalink or "{slug}.html"
        # An article's own URL (or, without one, its Save_as file) wins over the pattern.
        own = mapped.meta.get("url") or mapped.meta.get("save_as")
        path = clean_path(str(own) if own else pattern.format(**values))
        url = site.url(path)
        when = values["date"]
        entry_id = f"tag:{urlsplit(url).hostname},{when:%Y-%m-%d}:{urlsplit(url).path}"
        feeds = (
            "feeds/all.atom.xml",
            f"feeds/all-{values['lang']}.atom.xml",  # TRANSLATION_FEED_ATOM
            f"feeds/{pelican_slug(category)}.atom.xml",
        )
        return Address(path, entry_id, aliases(mapped.meta), feeds)

    def pattern_problem(self, pattern: str) -> str | None:
        try:
            pattern.format(
                slug="s", category="c", date=datetime(2012, 12, 3, tzinfo=UTC), lang="en"
            )
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            return (
                f"cannot be filled ({type(exc).__name__}: {exc}); Pelican's ARTICLE_URL knows "
                '{slug}, {category}, {lang} and {date:%Y} (write "{date:%Y}/{slug}.html")'
            )
        return None

    def looks_like(self, meta: Mapping[str, Any], rel: str, kind: str) -> bool:
        return kind == "pelican" or any(str(k)[:1].isupper() for k in meta)


def pelican_slug(text: str) -> str:
    """Pelican's ``slugify`` with its default substitutions."""
    # Imported here: its table costs every process of a build 5 MiB, and only a site
    # moved from Pelican needs it.
    from text_unidecode import unidecode  # type: ignore[import-untyped]

    value = unidecode(unicodedata.normalize("NFKC", re.sub(r"<[^>]*>", "", text)))
    for pattern, replacement in _SLUG_STEPS:
        value = re.sub(pattern, replacement, value, flags=re.IGNORECASE)
    return str(value).lower().strip()
