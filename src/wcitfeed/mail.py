"""E-mail: fragments and digests that survive mail clients, as HTML, plain text or MIME.

Mail clients drop <style> blocks, ignore relative URLs and distrust scripts and forms, so
CSS is inlined into style attributes (css-inline), every URL is already absolute, images get
a width and alt text, and a final nh3 pass keeps only plain, safe markup.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

import css_inline
import html2text
import jinja2
import lxml.html
import nh3

from wcitfeed.model import RenderedPost, Site
from wcitfeed.render import render_template

MAX_IMAGE_WIDTH = 600
# What may reach a mail client: nh3's defaults less what mail clients reject or flag.
_EMAIL_TAGS = set(nh3.ALLOWED_TAGS) - {
    "form",
    "input",
    "button",
    "iframe",
    "object",
    "embed",
    "script",
    "style",
    "textarea",
    "select",
}
_EMAIL_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
# style on every tag: only css-inline's output has any, since the bodies were cleaned first.
_EMAIL_ATTRIBUTES["*"] = {"style"}
for _tag, _extra in {
    "table": {"width", "cellpadding", "cellspacing", "border", "role", "align"},
    "td": {"width", "align", "valign"},
    "img": {"width", "height", "alt"},
    "time": {"datetime"},
}.items():
    _EMAIL_ATTRIBUTES[_tag] = _EMAIL_ATTRIBUTES.get(_tag, set()) | _extra
_INLINER = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def email_safe(html: str, css: str) -> str:
    """Inline ``css`` into a fragment, size its images, and keep only mail-safe markup."""
    inlined = _INLINER.inline_fragment(html, css)
    return nh3.clean(
        _size_images(inlined),
        tags=_EMAIL_TAGS,
        attributes=_EMAIL_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
    )


def _size_images(html: str) -> str:
    """Give every image a width of at most 600 px, fluid below that, and alt text."""
    if "<img" not in html:
        return html
    parts = lxml.html.fragments_fromstring(html)
    for part in parts:
        if isinstance(part, str):
            continue
        for img in part.iter("img"):
            width = img.get("width", "")
            if not width.isdigit() or int(width) > MAX_IMAGE_WIDTH:
                img.set("width", str(MAX_IMAGE_WIDTH))
            img.attrib.pop("height", None)
            img.set("style", (img.get("style", "") + ";max-width:100%;height:auto").lstrip(";"))
            if not img.get("alt"):
                name = urlsplit(img.get("src", "")).path.rsplit("/", 1)[-1]
                img.set("alt", img.get("title") or name or "image")
    return "".join(
        part if isinstance(part, str) else lxml.html.tostring(part, encoding="unicode")
        for part in parts
    )


def email_css(site: Site, templates: Mapping[str, jinja2.Template]) -> str:
    """Render the stylesheet that e-mail fragments and digests get inlined."""
    return render_template(templates["email.css"], site.templates_dir, site=site)


def email_fragment(fragment: str, css: str) -> str:
    """Make a post's fragment e-mail-safe (output/email/<slug>.html)."""
    return email_safe(fragment, css) + "\n"


def digest_html(
    site: Site,
    items: Sequence[RenderedPost],
    templates: Mapping[str, jinja2.Template],
    *,
    full: bool,
    subject: str,
) -> str:
    """Render a digest of posts as one e-mail-safe HTML document."""
    css = email_css(site, templates)
    bodies = [email_safe(item.body_html, css) if full else "" for item in items]
    page = render_template(
        templates["digest.html"],
        site.templates_dir,
        site=site,
        items=list(zip(items, bodies, strict=True)),
        full=full,
        subject=subject,
    )
    head, _, rest = page.partition("<body>")
    body = email_safe(rest.rsplit("</body>", 1)[0], css)
    return f'{head}<body style="margin:0;padding:0;background:#ffffff">{body}</body>\n</html>\n'


def digest_text(html: str) -> str:
    """Turn a digest's HTML into readable plain text: lists kept, links as footnotes."""
    converter = html2text.HTML2Text()
    converter.inline_links = False
    converter.wrap_links = False
    converter.body_width = 72
    converter.ignore_emphasis = True
    converter.ignore_tables = True  # layout tables: their cells are paragraphs
    return converter.handle(html).strip() + "\n"


def digest_message(
    html: str,
    text: str,
    *,
    subject: str,
    sender: str,
    to: Sequence[str],
    when: datetime,
    domain: str,
) -> bytes:
    """Build a multipart/alternative message (text, then HTML) ready for `sendmail -t`."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = format_datetime(when)
    digest = hashlib.sha256(html.encode("utf-8")).hexdigest()[:24]
    message["Message-ID"] = make_msgid(idstring=digest, domain=domain)
    message["MIME-Version"] = "1.0"
    message.set_content(text, charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message.as_bytes()
