"""Rendering: Markdown bodies to safe HTML, and Jinja2 templates to fragments and pages."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import cmarkgfm
import jinja2
import nh3
from cmarkgfm.cmark import Options
from markupsafe import Markup

from wcitfeed.errors import Problems, TemplateError, WcitfeedError
from wcitfeed.model import Post, RenderedPost, Site

# Raw HTML is let through the Markdown renderer and then cleaned by nh3, so authors keep
# <figure> or <sup> while scripts, event handlers and javascript: URLs never reach a reader.
# GitHub's "tagfilter" extension is left out: it would show a <script> as visible text,
# where nh3 removes it whole.
_MARKDOWN_OPTIONS = Options.CMARK_OPT_UNSAFE
_MARKDOWN_EXTENSIONS = ["table", "strikethrough", "autolink", "tasklist"]
_TAG_RE = re.compile(r"<[^>]+>")
_SPACE_RE = re.compile(r"\s+")
_FIRST_PARAGRAPH_RE = re.compile(r"<p>(.*?)</p>", re.DOTALL)

TEMPLATES = ("fragment.html", "entry.html", "post.html", "index.html")


def markdown_to_html(markdown: str) -> str:
    """Render CommonMark (with GitHub's tables and strikethrough) to sanitised HTML."""
    rendered = cmarkgfm.markdown_to_html_with_extensions(
        markdown, options=_MARKDOWN_OPTIONS, extensions=_MARKDOWN_EXTENSIONS
    )
    return nh3.clean(rendered)


def plain_summary(body_html: str, limit: int) -> str:
    """Make a plain-text summary from the first paragraph, cut at a word under ``limit``."""
    match = _FIRST_PARAGRAPH_RE.search(body_html)
    source = match.group(1) if match else body_html
    text = _SPACE_RE.sub(" ", html.unescape(_TAG_RE.sub("", source))).strip()
    if limit == 0 or len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def long_date(moment: datetime) -> str:
    """Format a date for people, in its own offset: 'Friday 7 December 2012, 19:00 (UTC+04:00)'."""
    offset = moment.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else ""
    return f"{moment:%A} {moment.day} {moment:%B %Y, %H:%M} (UTC{offset})"


def make_environment(templates_dir: Path) -> jinja2.Environment:
    """Create the Jinja2 environment: strict about undefined names, escaping on."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["long_date"] = long_date
    return env


def load_templates(templates_dir: Path) -> dict[str, jinja2.Template]:
    """Parse every template the build uses; raise ``Problems`` naming each broken one."""
    env = make_environment(templates_dir)
    templates: dict[str, jinja2.Template] = {}
    problems: list[WcitfeedError] = []
    for name in TEMPLATES:
        try:
            templates[name] = env.get_template(name)
        except jinja2.TemplateNotFound:
            problems.append(
                TemplateError(
                    "template not found (restore it from wcitfeed's templates/ folder)",
                    path=templates_dir / name,
                )
            )
        except jinja2.TemplateSyntaxError as exc:
            problems.append(
                TemplateError(
                    f"template syntax error: {exc.message}",
                    path=templates_dir / (exc.name or name),
                    line=exc.lineno,
                )
            )
    if problems:
        raise Problems(problems)
    return templates


def render_template(template: jinja2.Template, templates_dir: Path, **context: Any) -> str:
    """Render one template, turning Jinja2's errors into one located message."""
    try:
        return template.render(**context)
    except jinja2.UndefinedError as exc:
        path = templates_dir / (template.name or "?")
        raise TemplateError(
            f"{exc.message} (check the spelling, or wrap it in {{% if … is defined %}})",
            path=path,
            line=_template_line(exc, template),
        ) from None
    except jinja2.TemplateError as exc:
        path = templates_dir / (template.name or "?")
        raise TemplateError(
            f"template error: {exc}", path=path, line=_template_line(exc, template)
        ) from None


def _template_line(exc: Exception, template: jinja2.Template) -> int | None:
    """Find the template line from the traceback Jinja2 rewrites to point into templates."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == template.filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def post_path(post: Post) -> str:
    """Return the path of a post's page below the base URL."""
    return f"posts/{post.slug}/"


def render_posts(
    site: Site, posts: Sequence[Post], templates: Mapping[str, jinja2.Template]
) -> list[RenderedPost]:
    """Render each post's body, summary and fragment."""
    rendered: list[RenderedPost] = []
    for post in posts:
        body_html = markdown_to_html(post.body)
        url = site.url(post_path(post))
        summary = post.summary or plain_summary(body_html, site.summary_length)
        context = {
            "site": site,
            "post": post,
            "url": url,
            "summary": summary,
            "category_label": site.category_label(post.category),
            "body_html": Markup(body_html),  # noqa: S704 - cleaned by nh3 above
        }
        fragment = render_template(templates["fragment.html"], site.templates_dir, **context)
        rendered.append(
            RenderedPost(
                post=post,
                url=url,
                body_html=render_template(
                    templates["entry.html"], site.templates_dir, **context
                ).strip(),
                summary=summary,
                fragment_html=fragment,
            )
        )
    return rendered


def render_pages(
    site: Site,
    posts: Sequence[RenderedPost],
    templates: Mapping[str, jinja2.Template],
    feed_links: Sequence[tuple[str, str, str]],
) -> dict[str, bytes]:
    """Render the index page and one page per post; return them by output path."""
    pages: dict[str, bytes] = {}
    sections = [
        (key, label, [p for p in posts if p.post.category == key]) for key, label in site.categories
    ]
    known = {key for key, _ in site.categories}
    others = [p for p in posts if p.post.category not in known]
    if others:
        sections.append(("other", "Other updates", others))
    common = {"site": site, "feed_links": feed_links}
    index = render_template(
        templates["index.html"],
        site.templates_dir,
        sections=[s for s in sections if s[2]],
        **common,
    )
    pages["index.html"] = index.encode("utf-8")
    for item in posts:
        page = render_template(templates["post.html"], site.templates_dir, item=item, **common)
        pages[f"{post_path(item.post)}index.html"] = page.encode("utf-8")
        pages[f"fragments/{item.post.slug}.html"] = item.fragment_html.encode("utf-8")
    return pages
