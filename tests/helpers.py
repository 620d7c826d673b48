"""What many tests share: sites made on the fly, snapshots, front matter read independently,
and the shared feed checker."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
# The bundled theme: the templates a site without its own templates/ folder builds with.
THEME = REPO / "src" / "wcitfeed" / "templates"
SHARED = REPO.parent / "shared"
NEWSBOAT = shutil.which("newsboat") or "/usr/bin/newsboat"


def full_post() -> Any:
    """A post with every field set, each with a default set to something else: a field a
    test forgets to read cannot pass unnoticed."""
    from wcitfeed.model import Author, Post, Ref

    when = datetime(2012, 12, 7, 19, tzinfo=UTC)
    return Post(
        source=Path("/site/content/_posts/2012-12-07-a.md"),
        id="https://t.example.org/2012/12/07/a",
        title="A",
        slug="a",
        date=when,
        updated=when,
        category="news",
        tags=("one", "two"),
        summary="S",
        authors=(Author("N", "n@example.org", "https://n.example.org/"),),
        draft=True,
        minor=True,
        image="a.png",
        digest="0" * 64,
        assets=("_posts/a.png",),
        timed=False,
        arrived=when,
        path="2012/12/07/a.html",
        aliases=("old/a/",),
        derived_id=True,
        refs=(Ref("2012-12-01-b", 3),),
        old_feeds=("feed.xml",),
    )


# Test sites build every format; the default (Atom and RSS) has tests of its own.
ALL_FORMATS = 'formats = ["atom", "rss", "json"]\n'


def make_generated_site(root: Path, count: int, *, settings: str = "") -> Path:
    """Write a site of ``count`` posts, one a day from 2012-01-01, and return its settings file.

    Its feeds are in every format unless ``settings`` name the formats."""
    content = root / "content"
    content.mkdir(parents=True)
    formats = "" if "formats =" in settings else ALL_FORMATS
    (root / "wcitfeed.toml").write_text(
        'title = "Generated"\nbase_url = "https://gen.example.org/"\n'
        f'templates = "{THEME}"\n' + formats + settings,
        encoding="utf-8",
    )
    start = datetime(2012, 1, 1, 9, 0, tzinfo=UTC)
    for number in range(1, count + 1):
        write_generated_post(content, number, start + timedelta(days=number - 1))
    return root / "wcitfeed.toml"


def write_generated_post(content: Path, number: int, when: datetime, text: str = "") -> Path:
    """Write post ``number`` dated ``when``; its id depends on the number alone."""
    tags = "[even]" if number % 2 == 0 else "[odd]"
    path = content / f"post-{number:04d}.md"
    path.write_text(
        f"---\nid: tag:gen.example.org,2012:{number}\ntitle: Post {number}\n"
        f"date: {when.isoformat()}\ntags: {tags}\n---\n"
        f"Body of post {number} with [brackets] and a [link](https://example.org/{number}).\n"
        + text,
        encoding="utf-8",
    )
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` (or the one file ``root``) by relative path, with its bytes."""
    if root.is_file():
        return {root.name: root.read_bytes()}
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def published_state(site: Path) -> dict[str, bytes]:
    """What a build publishes and remembers: the output folder and the ledger, byte for byte."""
    state = {f"output/{k}": v for k, v in snapshot(site / "output").items()}
    state.update(snapshot(site / "wcitfeed-ledger.json"))
    return state


SETTINGS = """\
title = "T"
base_url = "https://example.org/"
formats = ["atom", "rss", "json"]
timezone = "Asia/Dubai"
templates = "templates"
[categories]
periodic = "Periodic Updates"
"""
# Raw HTML a hostile or careless author might write in a post body.
HOSTILE = """\
Before.

<script>alert('x')</script>
<img src="pics/cat.png" onerror="alert(1)">
<a href="javascript:alert(2)">click me</a>
<iframe src="https://evil.example/"></iframe>
<form action="https://evil.example/"><input name="q"></form>
<p style="position:fixed" onclick="steal()">Styled by the author.</p>
<img src="https://cdn.example.net/huge.jpg" width="2000" alt="Huge">

After.
"""

GOOD = "---\nid: urn:uuid:good\ntitle: Good\ndate: 2012-12-07T19:00:00+04:00\n---\nBody.\n"


def make_site(root: Path, posts: dict[str, bytes | str]) -> Path:
    (root / "content").mkdir(parents=True)
    (root / "wcitfeed.toml").write_text(SETTINGS, encoding="utf-8")
    templates = THEME
    (root / "templates").mkdir()
    for template in templates.iterdir():
        (root / "templates" / template.name).write_bytes(template.read_bytes())
    for name, text in posts.items():
        path = root / "content" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return root / "wcitfeed.toml"


def feed_files(root: Path) -> list[Path]:
    names = {"atom.xml", "rss.xml", "feed.json"}
    return sorted(p for p in root.rglob("*") if p.name in names)


def check_feeds(files: list[Path], *extra: str) -> subprocess.CompletedProcess[str]:
    """Run the shared checker (xmllint, jing, feedparser, newsboat, sfeed, JSON schema)."""
    return subprocess.run(
        [
            sys.executable,
            str(SHARED / "tools" / "check_feed.py"),
            "-q",
            "--skip",
            "w3c-feedvalidator",
            *extra,
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )


def front_matter(path: Path) -> dict[str, Any]:
    """Read front matter with plain PyYAML or tomllib, independently of wcitfeed."""
    text = path.read_text(encoding="utf-8").lstrip("\n")
    if text.startswith("+++"):
        return tomllib.loads(text.split("+++", 2)[1])
    if text.startswith("---js"):
        return {"js": True}
    return yaml.safe_load(text.split("---", 2)[1]) or {}


def snapshot_with_times(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below ``root`` with its bytes and modification time in nanoseconds."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def with_own_templates(config: Path) -> Path:
    """Give a generated site a copy of the repository's templates to edit; return the folder."""
    templates = config.parent / "templates"
    shutil.copytree(THEME, templates)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace(str(THEME), "templates"), encoding="utf-8")
    return templates


def newsboat_reload(folder: Path, urls: list[str]) -> list[tuple[str, str, int]]:
    """Reload newsboat's cache for ``urls``; return (feed, guid, unread) for every item."""
    (folder / "urls").write_text("\n".join(urls) + "\n", encoding="utf-8")
    (folder / "config").write_text("", encoding="utf-8")
    subprocess.run(
        [NEWSBOAT, "-u", str(folder / "urls"), "-c", str(folder / "cache.db"), "-C",
         str(folder / "config"), "-x", "reload"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    with sqlite3.connect(folder / "cache.db") as db:
        return list(db.execute("SELECT feedurl, guid, unread FROM rss_item"))


def mark_all_read(folder: Path) -> None:
    """Mark every item newsboat holds as read, as a subscriber who caught up would."""
    with sqlite3.connect(folder / "cache.db") as db:
        db.execute("UPDATE rss_item SET unread = 0")
