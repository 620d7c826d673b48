"""Reading and checking the site settings file (``wcitfeed.toml``)."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wcitfeed.errors import ConfigError, Problems, WcitfeedError, quote
from wcitfeed.model import Author, Mail, Site

DEFAULT_CONFIG = Path("wcitfeed.toml")
CONFIG_VARIABLE = "WCITFEED_CONFIG"
FORMATS = ("atom", "rss", "json")
# Every feed reader takes Atom or RSS; JSON Feed is written where a site asks for it (or has
# published it before: see ledger.settled_formats).
DEFAULT_FORMATS = ("atom", "rss")
FEED_KINDS = ("site", "categories", "tags")
SOURCE_TOOLS = ("jekyll", "hugo", "pelican", "zola", "eleventy")


@dataclass(frozen=True)
class Setting:
    """One key of the settings file: its expected type, default and meaning."""

    kind: str
    default: Any
    doc: str


# The single description of every key; README's "Settings" table follows it and a test
# checks that each key is documented there.
SETTINGS: dict[str, Setting] = {
    "title": Setting("string", None, "Feed and page title. Required."),
    "subtitle": Setting("string", "", "One sentence under the title; the RSS description."),
    "base_url": Setting(
        "string", None, "Absolute http(s) URL where output/ is published, ending in '/'. Required."
    ),
    "language": Setting("string", "en", "Language tag of the content, e.g. 'en' or 'fr-CA'."),
    "timezone": Setting(
        "string", "UTC", "IANA zone for dates written without an offset, e.g. 'Asia/Dubai'."
    ),
    "authors": Setting(
        "list of tables", [], "Default authors: [[authors]] with name, and optional email, uri."
    ),
    "feed_limit": Setting(
        "integer", 50, "Newest entries in each live feed; older ones go to archives. 0: no limit."
    ),
    "feed_max_bytes": Setting(
        "integer", 1_000_000, "Byte budget of a live feed; it carries fewer entries to stay under."
    ),
    "formats": Setting(
        "list of strings",
        list(DEFAULT_FORMATS),
        "Feed formats to build: atom, rss, json. Unset: atom and rss, or what the site published.",
    ),
    "feeds": Setting(
        "list of strings", list(FEED_KINDS), "Feeds to build: site, categories, tags."
    ),
    "archives": Setting(
        "list of strings",
        ["site", "categories"],
        "Feeds whose older entries get RFC 5005 archive pages; the others keep a window.",
    ),
    "hub": Setting("string", None, "WebSub hub URL: advertised in feeds and pinged on change."),
    "icon": Setting("string", None, "Square icon for readers: URL or path below base_url."),
    "logo": Setting("string", None, "Wide logo for readers: URL or path below base_url."),
    "page_size": Setting(
        "integer",
        10,
        "Posts the updates page shows per section, and each page of a listing shows.",
    ),
    "summary_length": Setting(
        "integer", 300, "Characters of a summary made from the body when a post has none."
    ),
    "categories": Setting(
        "table", {}, "Category key = label. When set, a post's category must be one of the keys."
    ),
    "rights": Setting("string", None, "Copyright or licence line for the feeds."),
    "feed_id": Setting("string", None, "Permanent id of the feeds; defaults to base_url."),
    "content": Setting("string", "content", "Folder of posts."),
    "templates": Setting("string", "templates", "Folder of Jinja2 templates."),
    "output": Setting("string", "output", "Folder the build writes."),
    "from": Setting(
        "string",
        None,
        'The tool the site moves from: "jekyll", "hugo", "pelican", "zola" or "eleventy". '
        "Its posts are read as written, and keep their addresses, entry ids and feeds "
        '(see "Switching from another tool").',
    ),
    "permalink": Setting(
        "string",
        None,
        "With from: the old tool's permalink pattern for posts, in its own syntax "
        '("/:year/:month/:day/:title/", "{date:%Y}/{slug}.html").',
    ),
    "permalinks": Setting(
        "table",
        {},
        'With from: the pattern per section (Hugo\'s [permalinks]): post = "/:year/:title/".',
    ),
    "old_feed_limit": Setting(
        "integer",
        None,
        "With from: entries in the old tool's feeds (jekyll-feed's posts_limit, Pelican's "
        "FEED_MAX_ITEMS); 0 for all. Defaults to that tool's default.",
    ),
    "variables": Setting(
        "table",
        {},
        "With from: values for {{ site.KEY }} (Jekyll) and .Site.Params.KEY (Hugo) in posts.",
    ),
    "lenient": Setting(
        "boolean",
        False,
        "Accept Jekyll, Hugo, Zola and Eleventy front matter, with wcitfeed's own addresses "
        '(see "Posts from other tools"); from = "…" also keeps the old addresses.',
    ),
    "template_tags": Setting(
        "string",
        "keep",
        'Liquid tags and Hugo shortcodes in bodies: "keep" them as text or "strip" them.',
    ),
    "max_post_bytes": Setting("integer", 2_000_000, "Largest post file accepted, in bytes."),
    "removal_limit": Setting(
        "integer",
        50,
        "Percent of published posts one build may withdraw; more (or all) needs --allow-removals.",
    ),
    "cache": Setting("string", ".wcitfeed-cache", "Folder for the build cache; safe to delete."),
    "ledger": Setting(
        "string", "wcitfeed-ledger.json", 'File that remembers edits (commit it); "" for none.'
    ),
    "fragments": Setting(
        "boolean", True, "Write fragments/<slug>.html: each post as an HTML fragment to embed."
    ),
    "listings": Setting(
        "boolean",
        True,
        "Write the listing pages (each category's and tag's, and all updates); false: the "
        "updates page and each post's page only, with no links to listings.",
    ),
    "email_fragments": Setting(
        "boolean",
        False,
        "Write email/<slug>.html: each post made e-mail-safe, to paste into a mail tool. "
        "Unset: false, or what the site wrote.",
    ),
    "email_feed": Setting(
        "boolean",
        False,
        "Also write email/rss.xml, whose items carry the e-mail-safe HTML, for RSS-to-e-mail "
        "services (Buttondown, Mailchimp).",
    ),
    "mail_from": Setting(
        "string", None, "Sender of digests: 'WCIT updates <updates@example.org>'; --from wins."
    ),
    "list_id": Setting(
        "string", None, "List-Id of digests (RFC 2919), a domain-like label: updates.example.org."
    ),
    "unsubscribe_url": Setting(
        "string",
        None,
        "Unsubscribe link of digests: an https URL (one-click, RFC 8058) or a mail service's "
        "merge tag such as *|UNSUB|*.",
    ),
    "unsubscribe_mailto": Setting(
        "string", None, "Address that unsubscribes by e-mail (List-Unsubscribe: mailto)."
    ),
    "mail_footer": Setting(
        "string", None, "The digest's footer line, instead of the theme's; merge tags kept."
    ),
    "smtp_host": Setting(
        "string", None, "SMTP server for digest --send; without it, the local sendmail."
    ),
    "smtp_port": Setting("integer", 587, "SMTP port: 587 for STARTTLS, 465 for TLS."),
    "smtp_security": Setting("string", "starttls", 'SMTP security: "starttls", "tls" or "none".'),
    "smtp_user": Setting(
        "string",
        None,
        "SMTP user; the password comes from $WCITFEED_SMTP_PASSWORD or smtp_password_file.",
    ),
    "smtp_password_file": Setting(
        "string", None, "File holding the SMTP password (never the password itself here)."
    ),
}

_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "table": lambda v: isinstance(v, dict),
    "list of tables": lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
    "list of strings": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
}

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL_RE = re.compile(
    r"^[^@\s<>\"(),;:\x00-\x1f]+@[^@\s<>\"(),;:\x00-\x1f]+\.[^@\s<>\"(),;:\x00-\x1f]+$"
)
_WEB_URL_RE = re.compile(r"^https?://[^/\s?#]+", re.IGNORECASE)
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")

_EXAMPLES = {
    "string": 'key = "text"',
    "integer": "key = 20",
    "boolean": "key = true",
    "table": '[key] with lines like periodic = "Periodic Updates"',
    "list of tables": '[[key]] with name = "..."',
    "list of strings": 'key = ["a", "b"]',
}


def find_config(given: Path | None = None, start: Path | None = None) -> Path:
    """Find the settings file as git finds its repository.

    ``--config`` wins, then the ``WCITFEED_CONFIG`` variable; otherwise the first
    ``wcitfeed.toml`` in the current folder or one of its parents. A folder given as the
    settings file means the ``wcitfeed.toml`` inside it.
    """
    chosen = given or (
        Path(os.environ[CONFIG_VARIABLE]) if os.environ.get(CONFIG_VARIABLE) else None
    )
    if chosen is not None:
        return chosen / DEFAULT_CONFIG if chosen.is_dir() else chosen
    here = (start or Path.cwd()).absolute()
    for folder in (here, *here.parents):
        candidate = folder / DEFAULT_CONFIG
        if candidate.is_file():
            # Relative to where the user stands, so messages name files as they see them.
            return Path(os.path.relpath(candidate))
    raise ConfigError(
        f"no {DEFAULT_CONFIG} in {here} or any folder above it (run 'wcitfeed init' to "
        f"start a site there, or pass --config PATH, or set {CONFIG_VARIABLE})"
    )


def load_site(
    config_path: Path | None = None,
    *,
    content_dir: Path | None = None,
    templates_dir: Path | None = None,
    output_dir: Path | None = None,
) -> Site:
    """Read the settings file and return the checked site settings.

    Folders given as arguments win over those in the file; folders in the file are
    relative to the file. Without ``config_path`` the file is found by ``find_config``.
    """
    path = find_config(config_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            "settings file not found (create it, or pass --config PATH)", path=path
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot be read: {exc}", path=path) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise ConfigError(f"is not valid TOML: {exc}", path=path, line=line) from None

    problems: list[WcitfeedError] = []

    def fail(key: str, message: str) -> None:
        problems.append(ConfigError(message, path=path, line=_key_line(text, key), field=key))

    for key in raw:
        if key not in SETTINGS:
            import difflib  # here: only a misspelt key needs it

            close = difflib.get_close_matches(key, SETTINGS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "known keys: " + ", ".join(SETTINGS)
            fail(key, f"is not a setting ({hint})")
    values: dict[str, Any] = {}
    for key, setting in SETTINGS.items():
        value = raw.get(key, setting.default)
        if value is None:
            if setting.default is None and key in ("title", "base_url"):
                fail(key, f"is required (write {_EXAMPLES[setting.kind].replace('key', key)})")
            values[key] = None
            continue
        if not _TYPES[setting.kind](value):
            example = _EXAMPLES[setting.kind].replace("key", key)
            fail(key, f"must be a {setting.kind}, not {type(value).__name__} (write {example})")
            continue
        values[key] = value

    for key in ("title", "subtitle"):
        if isinstance(values.get(key), str) and _CONTROL_RE.search(values[key]):
            fail(key, "must be one line of text (no line breaks or control characters)")
    base_url = values.get("base_url")
    if isinstance(base_url, str):
        if not re.match(r"^https?://[^/\s]+", base_url):
            fail("base_url", "must be an absolute http(s) URL (write https://example.org/)")
        elif not base_url.endswith("/"):
            base_url += "/"
    zone = ZoneInfo("UTC")
    if isinstance(values.get("timezone"), str):
        try:
            zone = ZoneInfo(values["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            fail("timezone", f"'{values['timezone']}' is not an IANA zone (write 'Asia/Dubai')")
    if isinstance(values.get("page_size"), int) and values["page_size"] < 1:
        fail("page_size", "must be 1 or more (write page_size = 10)")
    for key in ("feed_limit", "summary_length", "feed_max_bytes"):
        if isinstance(values.get(key), int) and values[key] < 0:
            fail(key, "must be 0 or more")
    if isinstance(values.get("max_post_bytes"), int) and values["max_post_bytes"] < 1:
        fail("max_post_bytes", "must be 1 or more (write max_post_bytes = 2000000)")
    limit = values.get("removal_limit")
    if isinstance(limit, int) and not 0 <= limit <= 100:
        fail("removal_limit", "must be a percentage from 0 to 100 (write removal_limit = 50)")
    for key, allowed in (("formats", FORMATS), ("feeds", FEED_KINDS), ("archives", FEED_KINDS)):
        for item in values.get(key) or []:
            if item not in allowed:
                fail(key, f"has '{item}', which is not one of {', '.join(allowed)}")
    tool = values.get("from")
    if isinstance(tool, str) and tool not in SOURCE_TOOLS:
        names = ", ".join(SOURCE_TOOLS)
        fail("from", f"'{tool}' is not a tool wcitfeed reads (write one of {names})")
    for key in ("permalinks", "variables"):
        for name, value in (values.get(key) or {}).items():
            if not isinstance(value, str):
                fail(key, f"'{name}' must map to a string (write {name} = \"…\")")
    if isinstance(values.get("old_feed_limit"), int) and values["old_feed_limit"] < 0:
        fail("old_feed_limit", "must be 0 (all entries) or more")
    if values.get("template_tags") not in (None, "keep", "strip"):
        fail("template_tags", 'must be "keep" or "strip"')
    hub = values.get("hub")
    if isinstance(hub, str) and not re.match(r"^https?://[^/\s]+", hub):
        fail("hub", 'must be an absolute http(s) URL (write hub = "https://hub.example/")')
    for key in ("icon", "logo"):
        value = values.get(key)
        if isinstance(value, str) and _SCHEME_RE.match(value) and not is_web_url(value):
            fail(key, f'must be an http(s) URL or a path below base_url (write {key} = "icon.png")')
    feed_id = values.get("feed_id")
    if isinstance(feed_id, str) and (_CONTROL_RE.search(feed_id) or not _SCHEME_RE.match(feed_id)):
        fail(
            "feed_id", 'must be a URI on one line (write feed_id = "tag:example.org,2012:updates")'
        )
    authors = _authors(values.get("authors") or [], lambda m: fail("authors", m))
    if not authors and isinstance(values.get("title"), str):
        # Atom needs an author for every entry; the site itself is the fallback.
        authors = (Author(name=values["title"]),)
    mail = _mail(values, fail, path.parent)
    categories = values.get("categories") or {}
    for key, label in categories.items():
        if not isinstance(label, str):
            fail("categories", f"'{key}' must map to a label string (write {key} = \"Label\")")

    if problems:
        raise Problems(problems)

    root = path.parent
    return Site(
        title=values["title"],
        subtitle=values["subtitle"],
        base_url=base_url or "",
        language=values["language"],
        timezone=zone,
        authors=authors,
        feed_limit=values["feed_limit"],
        summary_length=values["summary_length"],
        page_size=values["page_size"],
        categories=tuple((k, str(v)) for k, v in categories.items()),
        rights=values["rights"],
        feed_id=values["feed_id"],
        feed_max_bytes=values["feed_max_bytes"],
        formats=tuple(dict.fromkeys(values["formats"])),
        formats_given="formats" in raw,
        feeds=tuple(dict.fromkeys(values["feeds"])),
        archives=tuple(dict.fromkeys(values["archives"])),
        hub=hub,
        icon=values["icon"],
        logo=values["logo"],
        content_dir=content_dir or root / values["content"],
        templates_dir=templates_dir or root / values["templates"],
        output_dir=output_dir or root / values["output"],
        cache_dir=root / values["cache"],
        ledger=root / values["ledger"] if values["ledger"] else None,
        lenient=values["lenient"] or tool is not None,
        from_tool=tool,
        permalink=values["permalink"],
        permalinks=tuple((str(k), str(v)) for k, v in (values["permalinks"] or {}).items()),
        old_feed_limit=values["old_feed_limit"],
        variables=tuple((str(k), str(v)) for k, v in (values["variables"] or {}).items()),
        template_tags=values["template_tags"],
        max_post_bytes=values["max_post_bytes"],
        removal_limit=values["removal_limit"],
        mail=mail,
        email_feed=values["email_feed"],
        fragments=values["fragments"],
        listings=values["listings"],
        email_fragments=values["email_fragments"],
        email_fragments_given="email_fragments" in raw,
        source=path,
    )


_LIST_ID_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9-]+)+$")


def _mail(values: Mapping[str, Any], fail: Callable[[str, str], None], root: Path) -> Mail:
    """Check the digest settings: every one may end up in a mail header."""
    for key in ("mail_from", "list_id", "unsubscribe_url", "unsubscribe_mailto", "mail_footer"):
        value = values.get(key)
        if isinstance(value, str) and _CONTROL_RE.search(value):
            fail(key, "must be one line (no line breaks or control characters)")
    sender = values.get("mail_from")
    if isinstance(sender, str):
        from email.utils import parseaddr  # here: only a site that sends digests needs it

        if not _EMAIL_RE.match(parseaddr(sender)[1]):
            fail("mail_from", 'must be an address (write mail_from = "News <news@example.org>")')
    list_id = values.get("list_id")
    if isinstance(list_id, str) and not _LIST_ID_RE.match(list_id):
        fail("list_id", 'must be a domain-like label (write list_id = "updates.example.org")')
    mailto = values.get("unsubscribe_mailto")
    if isinstance(mailto, str) and not _EMAIL_RE.match(mailto):
        fail("unsubscribe_mailto", 'must be an address (write "leave@example.org")')
    security = values.get("smtp_security")
    if security not in (None, "starttls", "tls", "none"):
        fail("smtp_security", 'must be "starttls", "tls" or "none"')
    port = values.get("smtp_port")
    if isinstance(port, int) and not 0 < port < 65536:
        fail("smtp_port", "must be a port from 1 to 65535 (write smtp_port = 587)")
    secret = values.get("smtp_password_file")
    return Mail(
        sender=sender,
        list_id=list_id,
        unsubscribe_url=values.get("unsubscribe_url"),
        unsubscribe_mailto=mailto,
        footer=values.get("mail_footer"),
        smtp_host=values.get("smtp_host"),
        smtp_port=port if isinstance(port, int) else 587,
        smtp_security=security if isinstance(security, str) else "starttls",
        smtp_user=values.get("smtp_user"),
        smtp_password_file=root / secret if isinstance(secret, str) else None,
    )


def parse_authors(value: object, fail: Callable[[str], None]) -> tuple[Author, ...]:
    """Turn a name, a {name, email, uri} table or a list of either into authors."""
    items = value if isinstance(value, list) else [value]
    return _authors(items, fail)


def _authors(items: list[Any], fail: Callable[[str], None]) -> tuple[Author, ...]:
    authors: list[Author] = []
    for item in items:
        if isinstance(item, str) and item.strip() and not _CONTROL_RE.search(_one_line(item)):
            authors.append(Author(name=_one_line(item)))
        elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
            unknown = set(item) - {"name", "email", "uri"}
            if unknown:
                listed = quote(sorted(map(str, unknown)))
                fail(f"has unknown author field(s) {listed} (use name, email, uri)")
                continue
            author = _author(item, fail)
            if author is not None:
                authors.append(author)
        else:
            fail(f'entry {quote(item)} needs a name (write name = "Jane Doe")')
    return tuple(authors)


def _author(item: Mapping[str, Any], fail: Callable[[str], None]) -> Author | None:
    """Check one {name, email, uri} table: feeds publish these as they are."""
    name, email, uri = _one_line(item["name"]), item.get("email"), item.get("uri")
    ok = True
    if not name or _CONTROL_RE.search(name):
        fail(f"name {quote(name)} must be one line of text")
        ok = False
    if email is not None and not (isinstance(email, str) and _EMAIL_RE.match(email)):
        fail(f'email {quote(email)} is not an e-mail address (write email = "jane@example.org")')
        ok = False
    if uri is not None and not (isinstance(uri, str) and is_web_url(uri)):
        fail(f'uri {quote(uri)} must be an http(s) URL (write uri = "https://example.org/")')
        ok = False
    return Author(name=name, email=email, uri=uri) if ok else None


def _one_line(name: str) -> str:
    """Join a name written over several lines into one, as feeds and headers need."""
    return " ".join(name.split())


def is_web_url(value: str) -> bool:
    """Say whether ``value`` is an absolute http(s) URL on one line, fit to publish."""
    return bool(_WEB_URL_RE.match(value)) and not _CONTROL_RE.search(value)


def _key_line(text: str, key: str) -> int | None:
    """Find the line of a key in TOML text (tomllib keeps no positions)."""
    pattern = re.compile(rf"^\s*(\[\[?\s*)?{re.escape(key)}\s*(=|\]\]?)")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def _toml_error_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None
