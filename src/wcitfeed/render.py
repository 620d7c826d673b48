"""Rendering: Markdown bodies to safe HTML, and Jinja2 templates to fragments and pages."""

from __future__ import annotations

import html
import mimetypes
import re
import threading
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin

import comrak
import jinja2
import nh3
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from wcitfeed import i18n
from wcitfeed.errors import ContentError, Problems, TemplateError, WcitfeedError
from wcitfeed.model import Image, Post, RenderedPost, Site, post_path

# comrak (cmark-gfm's rules, in Rust) renders the Markdown: its HTML matched cmark-gfm's on
# 944 of the 946 shared-corpus posts, and unlike the cmarkgfm binding it frees what it
# parses (see bench/renderers.py). Raw HTML is let through and then cleaned by nh3, so
# authors keep <figure> or <sup> while scripts, event handlers and javascript: URLs never
# reach a reader. GitHub's "tagfilter" extension is left out: it would show a <script> as
# visible text, where nh3 removes it whole.
_EXTENSIONS = comrak.ExtensionOptions()
_EXTENSIONS.table = True
_EXTENSIONS.strikethrough = True
_EXTENSIONS.autolink = True
_EXTENSIONS.tasklist = True
_EXTENSIONS.footnotes = True
_RENDER = comrak.RenderOptions()
_RENDER.unsafe_ = True
_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "img": {*nh3.ALLOWED_ATTRIBUTES.get("img", set()), "srcset", "sizes", "loading"},
    # Footnotes link to each other by id; code blocks name their language in a class.
    "a": {*nh3.ALLOWED_ATTRIBUTES.get("a", set()), "id", "class", "aria-label"},
    "li": {*nh3.ALLOWED_ATTRIBUTES.get("li", set()), "id"},
    "sup": {"class"},
    "section": {"class"},
    "code": {"class"},
}
_TAGS = {*nh3.ALLOWED_TAGS, "section"}
# The only ids and classes a post's HTML keeps: comrak's footnote marks and code languages,
# so an author's HTML cannot take over the page's ids or styles.
_KEPT_VALUES = {
    "id": re.compile(r"^fn(ref)?-[\w-]{1,64}$"),
    "class": re.compile(r"^(footnote-ref|footnote-backref|footnotes|language-[\w+#.-]{1,40})$"),
}
Resolver = Callable[[str], str]
_TAG_RE = re.compile(r"<[^>]+>")
_SPACE_RE = re.compile(r"\s+")
_FIRST_PARAGRAPH_RE = re.compile(r"<p>(.*?)</p>", re.DOTALL)

# The bundled theme ships inside the package, beside this module.
THEME = Path(__file__).resolve().parent / "templates"
TEMPLATES = (
    "fragment.html",
    "entry.html",
    "post.html",
    "index.html",
    "listing.html",
    "feeds.html",
    "feed_links.html",
    "404.html",
    "redirect.html",
    "style.css",
    "email.css",
    "digest.html",
)


def markdown_to_html(markdown: str, resolve: Resolver) -> str:
    """Render CommonMark (with GitHub's tables and strikethrough) to clean, absolute HTML."""
    rendered: str = comrak.render_markdown(
        markdown, extension_options=_EXTENSIONS, render_options=_RENDER
    )
    return clean_html(rendered, resolve)


def clean_html(html_text: str, resolve: Resolver) -> str:
    """Sanitise HTML with nh3 and make every link and image URL absolute.

    Feed readers and e-mail clients ignore xml:base and <base>, so relative URLs would
    point nowhere once the HTML leaves the site.
    """
    cleaner: _PostCleaner | None = getattr(_CLEANERS, "cleaner", None)
    if cleaner is None:
        cleaner = _CLEANERS.cleaner = _PostCleaner()
    return cleaner.clean(html_text, resolve)


class _PostCleaner:
    """nh3's sanitiser, set up once and given each post's URL resolver as it cleans it.

    ``nh3.clean`` builds its settings at every call: ~70 µs of the 260 µs it took for a
    post of the benchmark's corpus, against 171 µs for a ``nh3.Cleaner`` made once (timeit).
    """

    def __init__(self) -> None:
        self._resolve: Resolver | None = None
        self._nh3 = nh3.Cleaner(
            tags=_TAGS,
            attributes=_ATTRIBUTES,
            url_relative=self._relative,
            attribute_filter=self._filter,
        )

    def clean(self, html_text: str, resolve: Resolver) -> str:
        self._resolve = resolve
        try:
            return self._nh3.clean(html_text)
        finally:
            self._resolve = None

    def _relative(self, url: str) -> str:
        assert self._resolve is not None
        return self._resolve(url)

    def _filter(self, tag: str, attribute: str, value: str) -> str | None:
        if attribute == "srcset":
            assert self._resolve is not None
            return _resolve_srcset(value, self._resolve)
        kept = _KEPT_VALUES.get(attribute)
        if kept is not None and not kept.match(value):
            return None
        return value


# One sanitiser per thread: each holds the resolver of the post it is cleaning.
_CLEANERS = threading.local()


def url_resolver(site: Site, post: Post) -> Resolver:
    """Return how a URL written in a post becomes absolute.

    ``#part`` points into the post's page, ``/path`` is below the base URL (at the host's
    root for a site that came from another tool, as there), and any other
    relative URL is relative to the post's folder below ``content/`` (where its images are
    published).
    """
    folder = post.source.parent.relative_to(site.content_dir).as_posix()
    folder_url = site.base_url if folder == "." else site.url(folder + "/")
    page_url = site.url(post_path(post))

    def resolve(url: str) -> str:
        if url.startswith("#"):
            return page_url + url
        if url.startswith("/") and not url.startswith("//"):
            # A site that came from another tool meant what that tool published: '/x' at
            # the root of the host, as browsers read it.
            return urljoin(site.base_url, url) if site.from_tool else site.url(url)
        return urljoin(folder_url, url)

    return resolve


def _resolve_srcset(value: str, resolve: Resolver) -> str | None:
    candidates = []
    for candidate in value.split(","):
        parts = candidate.split()
        if not parts:
            continue
        url = parts[0] if _has_scheme(parts[0]) else resolve(parts[0])
        if not url.startswith(("http://", "https://")):
            continue
        candidates.append(" ".join([url, *parts[1:]]))
    return ", ".join(candidates) or None


def _has_scheme(url: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", url))


class _FirstImage(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.src: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img" and self.src is None:
            self.src = dict(attrs).get("src")


def post_image(
    post: Post, body_html: str, resolve: Resolver, site: Site, asset_sizes: Mapping[str, int]
) -> Image | None:
    """Pick a post's image: front matter ``image``, else the body's first picture."""
    if post.image:
        url = post.image if _has_scheme(post.image) else resolve(post.image)
    elif "<img" not in body_html:
        return None
    else:
        finder = _FirstImage()
        finder.feed(body_html)
        if finder.src is None:
            return None
        url = finder.src
    if not url.startswith(("http://", "https://")):
        return None
    if url.startswith(site.base_url):
        rel = unquote(url[len(site.base_url) :].split("#")[0].split("?")[0])
        if rel in asset_sizes:
            media_type = mimetypes.guess_type(rel)[0] or "application/octet-stream"
            return Image(url, asset_sizes[rel], media_type)
    return Image(url)


_LOCAL_RE = re.compile(r'(src|href)="([^"]+)"')
# Links to these are pages and feeds the build makes, not files an author must provide.
_MADE_SUFFIXES = ("/", ".html", ".xml", ".json", ".txt")


def missing_files(
    site: Site, post: Post, body_html: str, asset_sizes: Mapping[str, int]
) -> list[WcitfeedError]:
    """Warn about each picture or file the post shows or links below the site that is not
    in the content folder: published as is, every reader would get a 404 for it."""
    found: list[WcitfeedError] = []
    if site.base_url not in body_html:
        return found  # no address below the site, so nothing to look for (most posts)
    for attribute, url in _LOCAL_RE.findall(body_html):
        if not url.startswith(site.base_url):
            continue
        rel = unquote(url[len(site.base_url) :].split("#")[0].split("?")[0])
        if not rel or rel in asset_sizes:
            continue
        if attribute == "href" and (rel.endswith(_MADE_SUFFIXES) or "." not in rel.rsplit("/")[-1]):
            continue
        name = rel.rsplit("/", 1)[-1]
        what = "picture" if attribute == "src" else "linked file"
        found.append(
            ContentError(
                f"the {what} '{rel}' is not in {site.content_dir}/ (add it there, or fix the "
                "path): readers would get a 404",
                path=post.source,
                line=_line_of(post.source, name),
            )
        )
    return found


def _line_of(path: Path, needle: str) -> int | None:
    """Return the first line of a file that mentions ``needle``, for a message."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return next((n for n, line in enumerate(lines, start=1) if needle in line), None)


def plain_summary(body_html: str, limit: int) -> str:
    """Make a plain-text summary from the first paragraph, cut at a word under ``limit``."""
    match = _FIRST_PARAGRAPH_RE.search(body_html)
    source = match.group(1) if match else body_html
    text = _SPACE_RE.sub(" ", html.unescape(_TAG_RE.sub("", source))).strip()
    if limit == 0 or len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def own_templates(templates_dir: Path) -> bool:
    """Say whether the site's templates folder holds any file (of any name: one template
    may include another), unless it is the bundled theme's own folder."""
    if not templates_dir.is_dir() or templates_dir.resolve() == THEME:
        return False
    return any(p.is_file() for p in templates_dir.rglob("*"))


def theme_files() -> list[Path]:
    """List the bundled theme's files: the templates a site without its own uses."""
    return sorted(p for p in THEME.rglob("*") if p.is_file())


def flat_globals(
    env: jinja2.Environment, own: MutableMapping[str, Any] | None
) -> MutableMapping[str, Any]:
    """Return a template's globals as one dict: the environment's, then its own.

    Jinja2 gives each template a ChainMap over the environment's globals, and copies it into
    every page's context (and every included template's): from a ChainMap that copy took
    21 µs, from a dict 4.3 (timeit, post.html). The environment's globals are all set before
    a template is loaded (``make_environment``), so the copy misses nothing.
    """
    return {**env.globals, **(own or {})}


class Theme(jinja2.Environment):
    """Jinja2's environment, for the bundled theme alone: globals kept as one dict."""

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return flat_globals(self, d)


class Sandbox(SandboxedEnvironment):
    """Jinja2's sandbox, quicker with wcitfeed's own objects (posts, links, the site).

    They are plain instances, never functions, types, frames or generators, so for them
    Jinja2's check comes down to the name alone: nothing starting with "_". Deciding that
    from the name straight away gives the same answer without the sandbox's ten type
    tests, which pages ask for about a hundred times a post (a tenth of rendering time).
    """

    def is_safe_attribute(self, obj: object, attr: str, value: object) -> bool:
        if type(obj).__module__.startswith("wcitfeed."):
            return not attr.startswith("_")
        return super().is_safe_attribute(obj, attr, value)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return flat_globals(self, d)


def make_environment(
    templates_dir: Path, language: str = "en", cache_dir: Path | None = None
) -> jinja2.Environment:
    """Create the Jinja2 environment: strict about undefined names, escaping on.

    A template in the site's own folder wins over the bundled theme's of the same name,
    file by file, so a site overrides only what it changes. Any template of the site's own
    is rendered in Jinja2's sandbox, which keeps it from reaching Python's internals
    (``__class__``, ``os.popen`` through globals): a theme copied from somewhere can format
    pages, not run commands on the machine that builds them. A site with no templates of
    its own gets the bundled theme alone, which is wcitfeed's code, without the sandbox's
    check on every attribute (about a quarter of a page's rendering time).

    With a ``cache_dir``, templates once compiled are kept there (``compiled_templates``).
    """
    own = own_templates(templates_dir)
    loader: jinja2.BaseLoader = jinja2.FileSystemLoader(THEME)
    if own:
        # Only then is the site's folder looked in: a file that appears mid-build never
        # reaches the environment without the sandbox.
        loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(templates_dir), loader])
    kind: type[jinja2.Environment] = Sandbox if own else Theme
    env = kind(
        extensions=["jinja2.ext.i18n"],
        loader=loader,
        autoescape=jinja2.select_autoescape(default=True, disabled_extensions=("css", "txt")),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # An environment lives for one build, which reads each template once: no stat of
        # every included template at every page (6,400 at 2,000 posts) to see if it changed.
        auto_reload=False,
        bytecode_cache=compiled_templates(cache_dir, sandboxed=bool(own)) if cache_dir else None,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    gettext = env.globals["_"]
    assert callable(gettext)
    env.globals["_"] = _remembered(gettext)

    def long_date(moment: datetime, timed: bool = True) -> str:
        return i18n.long_date(moment, language, timed=timed)

    env.filters["long_date"] = long_date
    return env


def compiled_templates(cache_dir: Path, *, sandboxed: bool) -> jinja2.BytecodeCache | None:
    """Return where templates once compiled are kept, below the build cache; None when that
    folder cannot be made (the templates are then compiled each time).

    Compiling the theme took 50-85 ms in every process of a build (the main one and each
    worker), and most of an edit's; loading it compiled, ~9 ms. Jinja2 checks each kept
    template against its source, Jinja2's version and Python's. The sandbox compiles calls
    differently, so its templates are kept apart from the theme-only environment's.
    """
    folder = cache_dir / "templates" / ("sandboxed" if sandboxed else "theme")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


def _remembered(gettext: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap the theme's ``_()`` so that a string without variables is translated once per
    environment (and escaping mode), not at every page: Jinja2's own goes through three
    calls and a string format each time, a quarter of a post page's rendering."""
    remembered: dict[tuple[str, bool], Any] = {}

    @jinja2.pass_context
    def translated(context: jinja2.runtime.Context, string: str, **variables: Any) -> Any:
        if variables:
            return gettext(context, string, **variables)
        key = (string, context.eval_ctx.autoescape)
        found = remembered.get(key)
        if found is None:
            found = remembered[key] = gettext(context, string)
        return found

    return translated


def load_templates(site: Site) -> dict[str, jinja2.Template]:
    """Parse every template the build uses; raise ``Problems`` naming each broken one."""
    templates_dir = site.templates_dir
    env = make_environment(templates_dir, site.language, site.cache_dir)
    templates: dict[str, jinja2.Template] = {}
    problems: list[WcitfeedError] = []
    for name in TEMPLATES:
        try:
            templates[name] = env.get_template(name)
        except jinja2.TemplateNotFound as exc:
            problems.append(_not_found(exc, templates_dir, name))
        except jinja2.TemplateSyntaxError as exc:
            problems.append(
                TemplateError(
                    f"template syntax error: {exc.message}",
                    path=Path(exc.filename) if exc.filename else templates_dir / name,
                    line=exc.lineno,
                )
            )
    if problems:
        raise Problems(problems)
    return templates


class LazyTemplates(Mapping[str, jinja2.Template]):
    """The templates of a site whose templates the last build parsed already (the cache
    says none changed since): each is parsed when first asked for. A build that makes a
    few files (``edits``) needs a few of the fourteen; parsing them all took 0.1 s."""

    def __init__(self, site: Site) -> None:
        self._env = make_environment(site.templates_dir, site.language, site.cache_dir)

    def __getitem__(self, name: str) -> jinja2.Template:
        if name not in TEMPLATES:
            raise KeyError(name)
        return self._env.get_template(name)  # Jinja2 keeps each once parsed

    def __iter__(self) -> Iterator[str]:
        return iter(TEMPLATES)

    def __len__(self) -> int:
        return len(TEMPLATES)


def _not_found(exc: jinja2.TemplateNotFound, templates_dir: Path, asked_by: str) -> TemplateError:
    """Say which template was missing, who asked for it and where it was looked for."""
    return TemplateError(
        f"asks for template '{exc.name}', which is in neither {templates_dir}/ nor "
        "wcitfeed's bundled theme (check the name, or add the file to the site's templates)",
        path=_template_file(templates_dir, asked_by),
    )


def _template_file(templates_dir: Path, name: str) -> Path:
    """Return the file a template name is read from: the site's own, else the bundled one."""
    own = templates_dir / name
    return own if own.is_file() or not (THEME / name).is_file() else THEME / name


def render_template(template: jinja2.Template, templates_dir: Path, **context: Any) -> str:
    """Render one template, turning Jinja2's errors into one located message."""
    try:
        return template.render(**context)
    except jinja2.TemplateNotFound as exc:
        raise _not_found(exc, templates_dir, template.name or "?") from None
    except jinja2.UndefinedError as exc:
        path = _template_path(template, templates_dir)
        raise TemplateError(
            f"uses {_undefined_name(exc.message or '')}, which is not defined there (check the "
            "spelling, or wrap it in {% if … is defined %})",
            path=path,
            line=_template_line(exc, template),
        ) from None
    except jinja2.TemplateError as exc:
        path = _template_path(template, templates_dir)
        raise TemplateError(
            f"template error: {exc}", path=path, line=_template_line(exc, template)
        ) from None
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
        # An expression in the template failed as it ran ({{ 1 // 0 }}, a bad index).
        path = _template_path(template, templates_dir)
        raise TemplateError(
            f"template error: {type(exc).__name__}: {exc}",
            path=path,
            line=_template_line(exc, template),
        ) from None


def _template_path(template: jinja2.Template, templates_dir: Path) -> Path:
    return Path(template.filename) if template.filename else templates_dir / "?"


def _undefined_name(message: str) -> str:
    """Name what a template asked for, from Jinja2's message ('x' is undefined, or 'a
    wcitfeed.model.Post object' has no attribute 'y')."""
    match = re.search(r"has no attribute '([^']+)'", message) or re.search(
        r"'([^']+)' is undefined", message
    )
    return f"'{match.group(1)}'" if match else "a name"


def _template_line(exc: Exception, template: jinja2.Template) -> int | None:
    """Find the template line from the traceback Jinja2 rewrites to point into templates."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == template.filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_post(
    site: Site,
    post: Post,
    body: str,
    templates: Mapping[str, jinja2.Template],
    asset_sizes: Mapping[str, int],
) -> RenderedPost:
    """Render a post's Markdown body to the HTML feeds carry, with its summary and image."""
    resolve = url_resolver(site, post)
    body_html = markdown_to_html(body, resolve)
    url = site.url(post_path(post))
    image = post_image(post, body_html, resolve, site, asset_sizes)
    summary = post.summary or plain_summary(body_html, site.summary_length)
    context = _post_context(site, post, url, summary, body_html, image)
    entry = render_template(templates["entry.html"], site.templates_dir, **context)
    return RenderedPost(post=post, url=url, body_html=entry.strip(), summary=summary, image=image)


def render_fragment(
    site: Site, item: RenderedPost, templates: Mapping[str, jinja2.Template]
) -> str:
    """Render a post as an embeddable HTML fragment."""
    context = _post_context(site, item.post, item.url, item.summary, item.body_html, item.image)
    return render_template(templates["fragment.html"], site.templates_dir, **context)


def _post_context(
    site: Site, post: Post, url: str, summary: str, body_html: str, image: Image | None
) -> dict[str, Any]:
    return {
        "site": site,
        "post": post,
        "date": i18n.machine_date(post.date, timed=post.timed),
        "date_text": i18n.long_date(post.date, site.language, timed=post.timed),
        "url": url,
        "summary": summary,
        "category_label": site.category_label(post.category),
        "body_html": Markup(body_html),  # noqa: S704 - cleaned by nh3
        "image": image,
    }
