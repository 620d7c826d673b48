"""Real posts written for Jekyll, Hugo, Zola and Eleventy build with lenient = true."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import feedparser
import pytest
from click.testing import Result
from slugify import slugify

from tests.conftest import SHARED
from tests.helpers import THEME, front_matter

CORPORA = SHARED / "corpora"


def expected_day(path: Path, meta: dict) -> date | None:
    """The publication day a reader should see, from the front matter, path or file name."""
    value = meta.get("date")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    found = re.search(r"(\d{4})/(\d{2})/(\d{2})", str(meta.get("path", "")))
    if found:
        return date(*map(int, found.groups()))
    named = re.match(r"(\d{4})-(\d{2})-(\d{2})-", path.stem)
    return date(*map(int, named.groups())) if named else None


@pytest.mark.parametrize("corpus", ["jekyll", "hugo", "other"])
def test_every_real_post_is_in_the_feed_with_its_title_and_date(
    corpus: str, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    (tmp_path / "wcitfeed.toml").write_text(
        f'title = "{corpus}"\nbase_url = "https://{corpus}.example.org/"\nlenient = true\n'
        f'content = "{CORPORA / corpus}"\ntemplates = "{THEME}"\n'
        'feed_limit = 0\nfeed_max_bytes = 0\nformats = ["atom"]\nfeeds = ["site"]\n',
        encoding="utf-8",
    )
    result = run_cli("build", "--config", tmp_path / "wcitfeed.toml", "--skip-invalid")
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    # The one post with no date anywhere is refused, saying where to add one: never "now".
    undated = [e for e in errors if "'date' is missing from the front matter" in e]
    assert errors == undated, errors
    assert len(undated) == {"jekyll": 0, "hugo": 1, "other": 0}[corpus], errors
    assert result.exit_code == (4 if undated else 0), result.output
    feed = feedparser.parse((tmp_path / "output/atom.xml").read_bytes())
    assert feed.bozo == 0
    by_title: dict[str, list[date]] = {}
    for entry in feed.entries:
        by_title.setdefault(entry.title, []).append(
            datetime.fromtimestamp(calendar.timegm(entry.published_parsed), UTC).date()
        )
    files = sorted(p for p in (CORPORA / corpus).rglob("*") if p.suffix in (".md", ".markdown"))
    present = 0
    for path in files:
        meta = front_matter(path)
        if meta.get("js") or meta.get("draft") is True or meta.get("published") is False:
            continue
        if not meta.get("title") and path.name == "latest.md":
            assert "latest.md: is not a post" in result.output
            continue
        if meta.get("date") is None and expected_day(path, meta) is None:
            assert any(path.name in e for e in undated), path
            continue
        title = str(meta["title"]).strip()
        assert title in by_title, f"{path}: {title!r} missing from the feed"
        day = expected_day(path, meta)
        if day is not None:
            # A day either side: the feed gives the instant, the file a local day.
            assert any(abs((seen - day).days) <= 1 for seen in by_title[title]), path
        present += 1
    assert present == len(feed.entries)
    assert present > {"jekyll": 100, "hugo": 170, "other": 750}[corpus]


def test_liquid_and_shortcodes_stay_visible_or_are_stripped(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "2016-07-25-tags.md").write_text(
        '---\ntitle: "Tags"\ndate: 2016-07-25 12:00:00 -0700\ncategories: news release\n'
        "tags: one two\nlayout: post\n---\nIntro {% include note.html %} and "
        "{{< gh 123 >}} here.\n\n<!--more-->\n\nRest.\n",
        encoding="utf-8",
    )
    settings = (
        f'title = "T"\nbase_url = "https://t.example.org/"\nlenient = true\ntemplates = "{THEME}"\n'
    )
    for mode, visible in (("keep", True), ("strip", False)):
        (tmp_path / "wcitfeed.toml").write_text(settings + f'template_tags = "{mode}"\n')
        assert run_cli("build", "--config", tmp_path / "wcitfeed.toml").exit_code == 0
        entry = feedparser.parse((tmp_path / "output/atom.xml").read_bytes()).entries[0]
        assert ("{% include note.html %}" in entry.content[0].value) is visible
        assert (
            "{{&lt; gh 123 &gt;}}" in entry.content[0].value
            or "{{< gh 123 >}}" in entry.content[0].value
        ) is visible
        assert entry.published == "2016-07-25T12:00:00-07:00"
        assert entry.summary.startswith("Intro")
        assert "Rest." not in entry.summary
        assert [t.term for t in entry.tags] == ["news", "release", "one", "two"]


def test_page_bundles_are_posts_not_categories(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    # The Rust blog keeps each post in a folder of its own: slug/index.md.
    blog = CORPORA / "other" / "rust-blog"
    bundles = {p.parent.name for p in blog.glob("*/index.md")}
    assert len(bundles) > 40
    (tmp_path / "wcitfeed.toml").write_text(
        f'title = "blog"\nbase_url = "https://blog.example.org/"\nlenient = true\n'
        f'content = "{blog}"\nformats = ["atom"]\nfeeds = ["site", "categories"]\n',
        encoding="utf-8",
    )
    result = run_cli("build", "--config", tmp_path / "wcitfeed.toml", "--skip-invalid")
    assert result.exit_code in (0, 4), result.output
    folder = tmp_path / "output/categories"
    categories = {p.name for p in folder.iterdir()} if folder.exists() else set()
    assert not categories & {slugify(b) for b in bundles}, sorted(categories)[:10]
    # Each bundle's post is there, under its folder's name.
    posts = {p.name for p in (tmp_path / "output/posts").iterdir()}
    assert {slugify(b) for b in bundles} <= posts
