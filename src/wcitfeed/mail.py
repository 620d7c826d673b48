"""E-mail: fragments and digests that survive mail clients, as HTML, plain text or MIME.

Mail clients drop <style> blocks, ignore relative URLs and distrust scripts and forms, so
CSS is inlined into style attributes (css-inline), every URL is already absolute, images get
a width and alt text, and a final nh3 pass keeps only plain, safe markup.
"""

from __future__ import annotations

import email.policy
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
# Set up once: nh3.clean builds its settings at every call.
_EMAIL_CLEANER = nh3.Cleaner(
    tags=_EMAIL_TAGS,
    attributes=_EMAIL_ATTRIBUTES,
    url_schemes={"http", "https", "mailto"},
    link_rel=None,
)


def email_safe(html: str, css: str) -> str:
    """Inline ``css`` into a fragment, size its images, and keep only mail-safe markup."""
    inlined = _INLINER.inline_fragment(html, css)
    return _EMAIL_CLEANER.clean(_size_images(inlined))


def _size_images(html: str) -> str:
    """Keep every image at its own size up to the 600 px column, never larger, and give it
    alt text.

    A width the author wrote is kept when it fits and lowered to 600 when it does not; an
    image without one gets none (a 40 px icon stays 40 px); ``max-width:100%`` lets each
    shrink with a phone's screen.
    """
    if "<img" not in html:
        return html
    parts = lxml.html.fragments_fromstring(html)
    for part in parts:
        if isinstance(part, str):
            continue
        for img in part.iter("img"):
            width = img.get("width", "")
            if width and not (width.isdigit() and int(width) <= MAX_IMAGE_WIDTH):
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
    preheader = " · ".join(item.post.title for item in items)
    page = render_template(
        templates["digest.html"],
        site.templates_dir,
        site=site,
        items=list(zip(items, bodies, strict=True)),
        full=full,
        subject=subject,
        preheader=preheader[:150],
        footer=site.mail.footer,
        unsubscribe_url=site.mail.unsubscribe_url,
    )
    head, _, rest = page.partition("<body>")
    body = email_safe(rest.rsplit("</body>", 1)[0], css)
    return f'{head}<body style="margin:0;padding:0;background:#ffffff">{body}</body>\n</html>\n'


_REFERENCE_RE = re.compile(r"\[([^\]\n]+)\]\[(\d+)\]")
_DEFINITION_RE = re.compile(r"^ *\[(\d+)\]: (\S+)$", re.MULTILINE)
_HEADING_RE = re.compile(r"^(#{1,6}) (.+)$", re.MULTILINE)
_PREHEADER_RE = re.compile(r'<div style="display:none[^"]*">.*?</div>', re.DOTALL)


def digest_text(html: str) -> str:
    """Turn a digest's HTML into plain text that reads as text: headings underlined,
    lists kept, and links numbered like footnotes ("the plenary [1]" … "[1] https://…")."""
    converter = html2text.HTML2Text()
    converter.inline_links = False
    converter.wrap_links = False
    converter.body_width = 72
    converter.ignore_emphasis = True
    converter.ignore_tables = True  # layout tables: their cells are paragraphs
    converter.ul_item_mark = "-"
    converter.wrap_list_items = True
    # The preheader is for the inbox's preview line only, not for readers of the text.
    text = converter.handle(_PREHEADER_RE.sub("", html, count=1))
    text = _REFERENCE_RE.sub(r"\1 [\2]", text)
    text = _DEFINITION_RE.sub(r"[\1] \2", text)

    def underline(match: re.Match[str]) -> str:
        title = match.group(2).strip()
        return f"{title}\n{('=' if len(match.group(1)) == 1 else '-') * min(len(title), 72)}"

    return _HEADING_RE.sub(underline, text).strip() + "\n"


@dataclass(frozen=True)
class Envelope:
    """Who a digest goes to and how a list is named in it."""

    sender: str
    to: tuple[str, ...]
    # Recipients only in the envelope: To: shows the list (or no one), never the others.
    bcc: bool = False
    list_id: str | None = None
    list_name: str = ""
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None


def digest_message(
    html: str, text: str, *, subject: str, envelope: Envelope, when: datetime, domain: str
) -> EmailMessage:
    """Build a multipart/alternative message (text, then HTML) with a list's headers.

    Subjects and names are encoded per RFC 2047 by the standard library's default policy;
    ``List-Unsubscribe-Post`` (RFC 8058 one-click) goes with an https unsubscribe URL only,
    and a mail service's merge tag stays out of the headers (the service adds its own).
    """
    message = EmailMessage(policy=email.policy.default)
    message["Subject"] = subject
    message["From"] = envelope.sender
    message["To"] = "undisclosed-recipients:;" if envelope.bcc else ", ".join(envelope.to)
    message["Date"] = format_datetime(when)
    digest = hashlib.sha256(html.encode("utf-8")).hexdigest()[:24]
    message["Message-ID"] = make_msgid(idstring=digest, domain=domain)
    if envelope.list_id:
        message["List-Id"] = f"{envelope.list_name} <{envelope.list_id}>"
    targets = []
    url = envelope.unsubscribe_url
    one_click = url is not None and url.startswith("https://")
    if envelope.unsubscribe_mailto:
        targets.append(f"<mailto:{envelope.unsubscribe_mailto}?subject=unsubscribe>")
    if one_click:
        targets.append(f"<{url}>")
    if targets:
        message["List-Unsubscribe"] = ", ".join(targets)
    if one_click:
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text, charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message
