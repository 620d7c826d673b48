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


# Each corpus under the tool that wrote it. The Rust blog is a Zola site.
TOOL_CORPORA = [
    ("jekyll", CORPORA / "jekyll"),
    ("hugo", CORPORA / "hugo"),
    ("zola", CORPORA / "other" / "rust-blog"),
    ("eleventy", CORPORA / "other" / "eleventy-base-blog"),
]


# Template syntax an author escaped on purpose: shown as text by the old tool too.
def front_matter_text(path: Path) -> str:
    """The front matter of a post as text: up to its second '---' or '+++' line."""
    text = path.read_text("utf-8").lstrip("\n")
    fence = text[:3]
    return text.split("\n" + fence, 1)[0] if fence in ("---", "+++") else ""


DRAFT = re.compile(r"^\s*(?:const\s+)?draft\s*[:=]\s*true", re.M)
LIQUID_OR_SHORTCODE = re.compile(r"\{%.*?%\}|\{\{[<%].*?[>%]\}\}")


@pytest.mark.parametrize(("tool", "folder"), TOOL_CORPORA, ids=[t for t, _ in TOOL_CORPORA])
def test_every_corpus_builds_under_its_tool_with_no_template_syntax_in_feeds(
    tool: str, folder: Path, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    (tmp_path / "wcitfeed.toml").write_text(
        f'title = "{tool}"\nbase_url = "https://{tool}.example.org/"\nfrom = "{tool}"\n'
        f'content = "{folder}"\nfeed_limit = 0\nfeed_max_bytes = 0\nformats = ["atom"]\n',
        encoding="utf-8",
    )
    result = run_cli("build", "--config", tmp_path / "wcitfeed.toml", "--skip-invalid")
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    # Only the one Hugo post with no date anywhere is refused, saying where to add one.
    assert len(errors) == (1 if tool == "hugo" else 0), errors
    assert all("'date' is missing from the front matter, the file name and the path" in e
               for e in errors)  # fmt: skip
    assert result.exit_code == (4 if tool == "hugo" else 0), result.output[-2000:]
    sources = [p for p in folder.rglob("*") if p.suffix in (".md", ".markdown")]
    escaped: set[str] = set()
    for source in sources:
        text = source.read_text("utf-8")
        for raw in re.findall(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", text, re.S):
            escaped |= {" ".join(t.split()) for t in LIQUID_OR_SHORTCODE.findall(raw)}
        for delim, inner in re.findall(r"\{\{([<%])/\*(.*?)\*/[>%]\}\}", text, re.S):
            close = ">" if delim == "<" else "%"
            escaped.add(" ".join(("{{" + delim + inner + close + "}}").split()))
    entries = feedparser.parse((tmp_path / "output/atom.xml").read_bytes()).entries
    drafts = [s for s in sources if DRAFT.search(front_matter_text(s))]
    # The Rust blog's releases/latest.md has neither title nor text: skipped, with a warning.
    stubs = 1 if tool == "zola" else 0
    assert len(entries) == len(sources) - len(errors) - len(drafts) - stubs
    for entry in entries:
        text = re.sub(r"<[^>]+>", "", entry.content[0].value)
        for tag in LIQUID_OR_SHORTCODE.findall(text):
            shown = " ".join(tag.split())
            assert shown in escaped, (entry.id, shown)


def test_zola_addresses_ids_and_aliases_follow_its_documented_rules(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    """Zola is not installable here: its rules (page ``path``, else section folders and the
    slugified name; ``atom.xml`` with the permalink as id, every page; aliases as redirect
    pages) are checked against the Rust blog, which Zola builds."""
    blog = CORPORA / "other" / "rust-blog"
    (tmp_path / "wcitfeed.toml").write_text(
        f'title = "Rust"\nbase_url = "https://blog.rust-lang.org/"\nfrom = "zola"\n'
        f'content = "{blog}"\nfeed_limit = 0\nfeed_max_bytes = 0\n',
        encoding="utf-8",
    )
    result = run_cli("build", "--config", tmp_path / "wcitfeed.toml")
    assert result.exit_code == 0, result.output[-2000:]
    out = tmp_path / "output"
    entries = feedparser.parse((out / "atom.xml").read_bytes()).entries
    assert len(entries) > 700
    assert all(e.id == e.link for e in entries)
    one = blog / "rust-at-one-year" / "index.md"
    assert 'path = "2016/05/16/rust-at-one-year"' in one.read_text("utf-8")
    assert (out / "2016/05/16/rust-at-one-year/index.html").is_file()
    assert "https://blog.rust-lang.org/2016/05/16/rust-at-one-year/" in {e.id for e in entries}
    alias = (out / "2016/05/16/rust-at-one-year.html").read_text("utf-8")
    target = "https://blog.rust-lang.org/2016/05/16/rust-at-one-year/"
    assert f'<link rel="canonical" href="{target}">' in alias
    assert f'content="0; url={target}"' in alias
    # Every Rust post has a path; a page without one is at its section's folders and its
    # file name without the date, slugified.
    site = tmp_path / "zola"
    (site / "content/news").mkdir(parents=True)
    (site / "content/news/2020-01-02_Hello World.md").write_text(
        '+++\ntitle = "Hello"\n[taxonomies]\ntags = ["a"]\n+++\nHi.\n', encoding="utf-8"
    )
    (site / "wcitfeed.toml").write_text(
        'title = "Z"\nbase_url = "https://z.example.org/"\nfrom = "zola"\n', encoding="utf-8"
    )
    assert run_cli("build", "--config", site / "wcitfeed.toml").exit_code == 0
    entry = feedparser.parse((site / "output/atom.xml").read_bytes()).entries[0]
    assert entry.id == entry.link == "https://z.example.org/news/hello-world/"
    assert entry.published.startswith("2020-01-02")


@pytest.mark.parametrize(
    ("folder", "tool"),
    [(CORPORA / "jekyll", "jekyll"), (CORPORA / "hugo" / "hugoBasicExample-post", "hugo")],
)
@pytest.mark.parametrize("on_every_core", [False, True], ids=["read-here", "read-on-every-core"])
def test_other_tools_posts_without_the_setting_get_one_hint(
    folder: Path,
    tool: str,
    tmp_path: Path,
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    on_every_core: bool,
) -> None:
    if on_every_core:
        monkeypatch.setattr("wcitfeed.content.PARALLEL_READ", 1)
    (tmp_path / "wcitfeed.toml").write_text(
        f'title = "T"\nbase_url = "https://t.example.org/"\ncontent = "{folder}"\n',
        encoding="utf-8",
    )
    result = run_cli("build", "--config", tmp_path / "wcitfeed.toml")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 1, lines[:5]
    assert f'add from = "{tool}" to wcitfeed.toml' in lines[0]
    assert not (tmp_path / "output").exists()
