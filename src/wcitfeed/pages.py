"""The site's HTML pages around the posts: a post's page, the updates page, the category
and tag listings, the feeds page, the 404 page, the stylesheet, sitemap.xml and robots.txt.

Each page is made from typed plans (``Section``, ``Listing``, ``Neighbours``) that name
posts; what a page shows of a post (its title, date and summary) comes through a
``Listed`` record, so a page of fifty summaries needs no post rendered again.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any, Literal

import jinja2
from markupsafe import Markup

from wcitfeed import i18n
from wcitfeed.feedset import Group
from wcitfeed.model import (
    FeedLink,
    Post,
    RenderedPost,
    Site,
    category_prefix,
    post_path,
    tag_prefix,
)
from wcitfeed.render import render_template

# Listing pages and sitemaps are cut at these sizes; 50,000 URLs is the sitemap protocol's
# limit per file.
SITEMAP_URLS = 50_000
# A page of the sitemap: its URL and when it last changed (ISO 8601), if known.
SitemapPage = tuple[str, str | None]
# Every post, newest first, in pages: the updates page links here when it shows fewer.
ALL_PREFIX = "updates/"
_CODE_RE = re.compile(r'<pre><code class="language-([\w+#.-]+)">(.*?)</code></pre>', re.DOTALL)
_ENTITY = {"&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&amp;": "&"}
_ENTITY_RE = re.compile("|".join(_ENTITY))


@dataclass(frozen=True)
class PageMeta:
    """What a page says about itself to browsers, search engines and link previews."""

    title: str
    heading: str
    url: str
    description: str = ""
    kind: str = "website"
    image: str | None = None
    noindex: bool = False


@dataclass(frozen=True, slots=True)
class Listed:
    """A post as a list of summaries shows it."""

    title: str
    url: str
    date: str
    date_text: str
    summary: str
    draft: bool


@dataclass(frozen=True, slots=True)
class PostLink:
    """A link to another post: its title and page URL."""

    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Neighbours:
    """The posts published just before and just after one post, site-wide."""

    newer: PostLink | None = None
    older: PostLink | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """One section of the updates page: a category's newest posts and its listing's URL."""

    key: str
    label: str
    url: str | None
    total: int
    posts: tuple[Post, ...]


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of a category's or tag's posts, newest first."""

    kind: Literal["all", "category", "tag"]
    key: str
    label: str
    prefix: str
    number: int
    pages: int
    posts: tuple[Post, ...]

    @property
    def path(self) -> str:
        """Return the page's file below the output folder."""
        return page_folder(self.prefix, self.number) + "index.html"

    @property
    def folder(self) -> str:
        """Return the page's address below the base URL."""
        return page_folder(self.prefix, self.number)

    @property
    def feed_prefix(self) -> str:
        """Return the prefix of the feeds that carry these posts ("" for the site's)."""
        return "" if self.kind == "all" else self.prefix


def page_folder(prefix: str, number: int) -> str:
    """Return the folder of page ``number`` of a listing: page 1 is the listing's own."""
    return prefix if number == 1 else f"{prefix}page/{number}/"


def link_to(site: Site, post: Post) -> PostLink:
    """Return the link a neighbouring page shows for a post."""
    return PostLink(post.title, site.url(post_path(post)))


def with_neighbours(site: Site, ordered: Sequence[Post]) -> Iterator[tuple[Post, Neighbours]]:
    """Yield each post of ``ordered`` (newest first) with its newer and older neighbours,
    made as they are needed: a site's worth of them is never held."""
    newer: PostLink | None = None
    # One link per post, shared by the pages on either side of it.
    current = link_to(site, ordered[0]) if ordered else None
    for index, post in enumerate(ordered):
        older = link_to(site, ordered[index + 1]) if index + 1 < len(ordered) else None
        yield post, Neighbours(newer, older)
        newer, current = current, older


def sections(
    site: Site, groups: Sequence[Group], everything: Sequence[Post], page_size: int
) -> list[Section]:
    """Plan the updates page: each category's newest ``page_size`` posts, with a link to
    its listing when there are more; then the posts of no category (``key`` "updates"),
    linking to the listing of every post."""
    found = [
        Section(g.key, g.label, site.listing_url(g.prefix), len(g.posts), g.posts[:page_size])
        for g in groups
        if g.kind == "categories"
    ]
    loose = tuple(p for p in everything if p.category is None)
    if loose:
        label = i18n.translations(site.language).gettext("Other updates") if found else ""
        url = site.listing_url(ALL_PREFIX)
        found.append(Section("updates", label, url, len(everything), loose[:page_size]))
    return found


def listings(
    groups: Sequence[Group], everything: Sequence[Post], page_size: int, all_label: str
) -> list[Listing]:
    """Cut every post, and each category's and tag's posts, into pages of ``page_size``,
    newest first."""
    kinds: dict[str, Literal["category", "tag"]] = {"categories": "category", "tags": "tag"}
    cut: list[tuple[Literal["all", "category", "tag"], str, str, str, tuple[Post, ...]]]
    cut = [("all", "", all_label, ALL_PREFIX, tuple(everything))]
    cut += [(kinds[g.kind], g.key, g.label, g.prefix, g.posts) for g in groups]
    found = []
    for kind, key, label, prefix, posts in cut:
        pages = max(1, math.ceil(len(posts) / page_size))
        for number in range(1, pages + 1):
            chosen = posts[(number - 1) * page_size : number * page_size]
            found.append(Listing(kind, key, label, prefix, number, pages, chosen))
    return found


def highlight_code(body_html: str) -> str:
    """Colour the code blocks that name their language, with Pygments, for pages.

    Feeds and e-mail keep the plain ``<code class="language-…">`` (readers style it
    themselves); a language Pygments does not know stays plain.
    """
    if "<pre><code class=" not in body_html:
        return body_html
    # Imported here: Pygments (and its plugin lookup) took ~20 ms to import, which an edit
    # of a post without code never needs.
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    def colour(match: re.Match[str]) -> str:
        try:
            lexer = get_lexer_by_name(match.group(1))
        except ClassNotFound:
            return match.group(0)
        code = _ENTITY_RE.sub(lambda m: _ENTITY[m.group(0)], match.group(2))
        coloured = str(highlight(code, lexer, HtmlFormatter(wrapcode=True)))
        # Pygments before 2.20 escaped quotes in text too; the same page either way.
        return coloured.replace("&quot;", '"').replace("&#39;", "'")

    return _CODE_RE.sub(colour, body_html)


def code_css() -> str:
    """Return Pygments' rules for highlighted code: a light style, and a dark one for
    readers whose system asks for dark pages."""
    from pygments.formatters import HtmlFormatter  # here, as in highlight_code

    light = HtmlFormatter(style="default").get_style_defs(".highlight")  # type: ignore[no-untyped-call]
    dark = HtmlFormatter(style="github-dark").get_style_defs(".highlight")  # type: ignore[no-untyped-call]
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"


class PageMaker:
    """Renders the site's pages with one set of templates and the site's feed links."""

    def __init__(
        self,
        site: Site,
        templates: Mapping[str, jinja2.Template],
        site_links: Sequence[FeedLink],
        links_by_prefix: Mapping[str, Sequence[FeedLink]],
    ) -> None:
        self.site = site
        self.templates = templates
        self.site_links = tuple(site_links)
        self.links_by_prefix = links_by_prefix

    def listed(self, post: Post, summary: str) -> Listed:
        """Return how a list shows a post, given its summary."""
        date_text = i18n.long_date(post.date, self.site.language, timed=post.timed)
        url = self.site.url(post_path(post))
        date = i18n.machine_date(post.date, timed=post.timed)
        return Listed(post.title, url, date, date_text, summary, post.draft)

    def _render(
        self, name: str, page: PageMeta, feed_links: Sequence[FeedLink] = (), **context: Any
    ) -> bytes:
        own = tuple(feed_links)
        text = render_template(
            self.templates[name],
            self.site.templates_dir,
            site=self.site,
            page=page,
            site_links=self.site_links,
            feed_links=own + tuple(f for f in self.site_links if f not in own),
            **context,
        )
        return text.encode("utf-8")

    def post_page(self, item: RenderedPost, around: Neighbours) -> bytes:
        """Render a post's own page."""
        site, post = self.site, item.post
        category = None
        if post.category is not None:
            label = site.category_label(post.category)
            category = {"label": label, "url": site.listing_url(category_prefix(post.category))}
        tags = [(tag, site.listing_url(tag_prefix(tag))) for tag in dict.fromkeys(post.tags)]
        updated = post.updated if post.updated and post.updated != post.date else None
        page = PageMeta(
            title=f"{post.title} · {site.title}",
            heading=post.title,
            url=item.url,
            description=item.summary,
            kind="article",
            image=item.image.url if item.image else None,
        )
        return self._render(
            "post.html",
            page,
            post=post,
            body_html=Markup(highlight_code(item.body_html)),  # noqa: S704 - cleaned by nh3
            date=i18n.machine_date(post.date, timed=post.timed),
            date_text=i18n.long_date(post.date, site.language, timed=post.timed),
            updated_text=i18n.long_date(updated, site.language) if updated else "",
            category=category,
            tags=tags,
            newer=around.newer,
            older=around.older,
        )

    def index(self, planned: Sequence[Section], summary: Callable[[Post], str]) -> bytes:
        """Render the updates page: each section's newest posts as summaries."""
        shown = [
            {
                "key": s.key,
                "label": s.label,
                "url": s.url,
                "total": s.total,
                "posts": [self.listed(p, summary(p)) for p in s.posts],
            }
            for s in planned
        ]
        site = self.site
        page = PageMeta(site.title, site.title, site.base_url, site.subtitle)
        return self._render("index.html", page, sections=shown)

    def listing(self, plan: Listing, summary: Callable[[Post], str]) -> bytes:
        """Render one page of a category's or tag's posts."""
        site = self.site
        url = site.url(plan.folder)
        newer = page_folder(plan.prefix, plan.number - 1) if plan.number > 1 else None
        older = page_folder(plan.prefix, plan.number + 1) if plan.number < plan.pages else None
        feeds = tuple(self.links_by_prefix.get(plan.feed_prefix, ()))
        title = plan.label if plan.number == 1 else f"{plan.label} ({plan.number}/{plan.pages})"
        page = PageMeta(f"{title} · {site.title}", plan.label, url)
        shown = {
            "kind": plan.kind,
            "label": plan.label,
            "number": plan.number,
            "pages": plan.pages,
            "posts": [self.listed(p, summary(p)) for p in plan.posts],
            "newer_url": site.url(newer) if newer else None,
            "older_url": site.url(older) if older else None,
            "feeds": feeds,
        }
        return self._render("listing.html", page, feeds, listing=shown)

    def feeds_page(self, links: Sequence[FeedLink]) -> bytes:
        """Render the list of every feed."""
        grouped: dict[str, list[FeedLink]] = {}
        for feed in links:
            grouped.setdefault(feed.group, []).append(feed)
        site = self.site
        page = PageMeta(f"Feeds · {site.title}", "Feeds", site.url("feeds.html"))
        return self._render("feeds.html", page, groups=list(grouped.items()))

    def feed_links_snippet(self) -> bytes:
        """Render the autodiscovery snippet for pasting into other pages."""
        text = render_template(
            self.templates["feed_links.html"],
            self.site.templates_dir,
            site=self.site,
            feed_links=self.site_links,
        )
        return text.encode("utf-8")

    def not_found(self) -> bytes:
        """Render the page servers show for an address that does not exist."""
        site = self.site
        page = PageMeta(f"404 · {site.title}", site.title, site.url("404.html"), noindex=True)
        return self._render("404.html", page)

    def redirect(self, target: str, title: str) -> bytes:
        """Render the page at a post's old address, which sends readers on to ``target``."""
        text = render_template(
            self.templates["redirect.html"],
            self.site.templates_dir,
            site=self.site,
            target=target,
            title=title,
        )
        return text.encode("utf-8")

    def stylesheet(self) -> bytes:
        """Render the theme's stylesheet, with the rules for highlighted code."""
        text = render_template(
            self.templates["style.css"],
            self.site.templates_dir,
            site=self.site,
            code_css=Markup(code_css()),  # noqa: S704 - Pygments' own CSS
        )
        return text.encode("utf-8")


def sitemap(site: Site, pages: Sequence[SitemapPage]) -> dict[str, bytes]:
    """Return sitemap.xml for (URL, last change in ISO 8601) pairs: one file, or an index
    of files of at most 50,000 URLs each."""
    return {
        name: b"".join(sitemap_file(site, name, iter(pages), len(pages)))
        for name in sitemap_names(len(pages))
    }


def sitemap_names(urls: int) -> list[str]:
    """Name the files of a sitemap of ``urls`` pages: sitemap.xml alone, or an index
    (sitemap.xml) and its parts of at most SITEMAP_URLS pages each."""
    parts = math.ceil(urls / SITEMAP_URLS)
    if parts <= 1:
        return ["sitemap.xml"]
    return ["sitemap.xml", *(f"sitemap-{number}.xml" for number in range(1, parts + 1))]


# Sitemap rows encoded at once: a part of 50,000 pages goes out in a few dozen pieces.
SITEMAP_PIECE = 2000


def sitemap_file(site: Site, name: str, pages: Iterator[SitemapPage], urls: int) -> Iterator[bytes]:
    """Yield the bytes of the sitemap file ``name`` (see ``sitemap_names``) of a sitemap
    of ``urls`` pages, reading ``pages`` (all of them, in order) only as far as that file
    needs: a sitemap of 100,000 pages is never held whole."""
    names = sitemap_names(urls)
    if len(names) > 1 and name == "sitemap.xml":
        listed = [
            f"<sitemap><loc>{escape(site.url(part), quote=False)}</loc></sitemap>\n"
            for part in sorted(names[1:])
        ]
        yield (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "".join(listed)
            + "</sitemapindex>\n"
        ).encode()
        return
    part = 0 if len(names) == 1 else names.index(name) - 1
    mine = itertools.islice(pages, part * SITEMAP_URLS, (part + 1) * SITEMAP_URLS)
    yield b'<?xml version="1.0" encoding="UTF-8"?>\n'
    yield b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    while piece := list(itertools.islice(mine, SITEMAP_PIECE)):
        rows = []
        for url, changed in piece:
            lastmod = f"<lastmod>{changed}</lastmod>" if changed else ""
            rows.append(f"<url><loc>{escape(url, quote=False)}</loc>{lastmod}</url>\n")
        yield "".join(rows).encode()
    yield b"</urlset>\n"


def robots(site: Site) -> bytes:
    """Return robots.txt: everything may be crawled, and where the sitemap is."""
    return f"User-agent: *\nAllow: /\nSitemap: {site.url('sitemap.xml')}\n".encode()
