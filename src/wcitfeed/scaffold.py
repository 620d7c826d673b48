"""Starting a site: ``wcitfeed init`` writes settings, a first post and a .gitignore.

Nothing here overwrites a file: an existing one is kept and reported, so running ``init``
again in a site only adds what is missing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wcitfeed.config import DEFAULT_CONFIG, is_web_url
from wcitfeed.content import new_post_text
from wcitfeed.errors import ConfigError, Problems, WcitfeedError
from wcitfeed.render import THEME, theme_files

_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")

FIRST_POST = """\
This is the first update of “{title}”. Edit it, or write the next one with

    wcitfeed new "A title for the next update"

then run `wcitfeed build`: the feeds and pages are in `output/`.
"""


@dataclass(frozen=True)
class Answers:
    """What a new site needs to know about itself."""

    title: str = "Updates"
    base_url: str = "https://example.org/"
    language: str = "en"
    timezone: str = "UTC"
    author: str = ""


@dataclass(frozen=True)
class Created:
    """One file ``init`` wrote, or found there already and kept."""

    path: Path
    kept: bool


def check_answers(answers: Answers) -> None:
    """Raise ``Problems`` naming each answer a site could not be built with."""
    problems: list[WcitfeedError] = []

    def fail(field: str, message: str) -> None:
        problems.append(ConfigError(message, field=field))

    for field, value in (("title", answers.title), ("author", answers.author)):
        if _CONTROL_RE.search(value):
            fail(field, "must be one line of text")
    if not answers.title.strip():
        fail("title", 'must not be empty (write --title "Our updates")')
    if not is_web_url(answers.base_url):
        fail("base_url", "must be an absolute http(s) URL (write --base-url https://example.org/)")
    if not _LANGUAGE_RE.match(answers.language):
        fail("language", "must be a language tag (write --language en, or fr-CA)")
    try:
        ZoneInfo(answers.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        fail("timezone", f"'{answers.timezone}' is not an IANA zone (write --timezone Asia/Dubai)")
    if problems:
        raise Problems(problems)


def settings_text(answers: Answers) -> str:
    """Return a commented ``wcitfeed.toml`` for the answers."""

    def quoted(value: str) -> str:
        # A JSON string is a valid TOML basic string: quotes, backslashes and non-ASCII
        # letters come out right without a TOML writer (which would drop the comments).
        return json.dumps(value, ensure_ascii=False)

    base_url = answers.base_url if answers.base_url.endswith("/") else answers.base_url + "/"
    lines = [
        "# Settings of this wcitfeed site. Every key is described in wcitfeed's README,",
        '# "Settings". Paths are relative to this file.',
        "",
        f"title = {quoted(answers.title.strip())}",
        'subtitle = ""',
        "# Where output/ is published: feed ids and links are made from it.",
        f"base_url = {quoted(base_url)}",
        f"language = {quoted(answers.language)}",
        "# Dates written without an offset are in this zone.",
        f"timezone = {quoted(answers.timezone)}",
        "feed_limit = 50",
        '# Feed formats: add "json" for JSON Feed as well.',
        'formats = ["atom", "rss"]',
    ]
    if answers.author.strip():
        lines += ["", "[[authors]]", f"name = {quoted(' '.join(answers.author.split()))}"]
    return "\n".join(lines) + "\n"


GITIGNORE = """\
# Built by `wcitfeed build`; publish it, don't commit it.
/output/
# The build cache: safe to delete.
/.wcitfeed-cache/
# Commit wcitfeed-ledger.json: it remembers when each post was published and edited.
"""


def init_site(folder: Path, answers: Answers, now: datetime, *, templates: bool) -> list[Created]:
    """Write a new site into ``folder``; keep every file that is there already."""
    check_answers(answers)
    folder.mkdir(parents=True, exist_ok=True)
    when = now.astimezone(ZoneInfo(answers.timezone)).replace(microsecond=0)
    post = new_post_text(
        "Hello, world", when, None, [], False, FIRST_POST.format(title=answers.title.strip())
    )
    files: dict[Path, bytes] = {
        folder / DEFAULT_CONFIG: settings_text(answers).encode("utf-8"),
        folder / ".gitignore": GITIGNORE.encode("utf-8"),
    }
    content = folder / "content"
    if not (content.is_dir() and any(content.rglob("*.md"))):
        files[content / "hello-world.md"] = post.encode("utf-8")
    if templates:
        for source in theme_files():
            files[folder / "templates" / source.relative_to(THEME)] = source.read_bytes()
    created = []
    for path, data in files.items():
        created.append(Created(path, _write_new(path, data)))
    return created


def _write_new(path: Path, data: bytes) -> bool:
    """Write a file that does not exist yet; say True when one was there (and is kept)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("xb") as handle:
            handle.write(data)
    except FileExistsError:
        return True
    return False
