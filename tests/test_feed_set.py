"""All three formats for the site, each category and each tag, checked by real readers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest
from click.testing import Result

from tests.conftest import REPO
from tests.helpers import check_feeds, feed_files, front_matter
from wcitfeed.model import slugify

BASE = "https://wcit-updates.example.org/"
FORMAT_FILES = ("atom.xml", "rss.xml", "feed.json")


def test_every_feed_file_passes_every_checker(built_repo: Path) -> None:
    files = feed_files(built_repo)
    # site + 2 categories + every tag the posts name, three formats each; read from the
    # content itself, not from what the build happened to write.
    tags = {slugify(t) for p in (REPO / "content").rglob("*.md") for t in front_matter(p)["tags"]}
    folders = ["", "categories/periodic/", "categories/issues/", *(f"tags/{t}/" for t in tags)]
    expected = {built_repo / f"{f}{name}" for f in folders for name in FORMAT_FILES}
    assert set(files) == expected
    proc = check_feeds(files)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1].removeprefix("SUMMARY "))
    assert summary["fail"] == summary["skip"] == summary["error"] == 0
    assert summary["files"] == len(files)


def test_category_feeds_hold_their_posts(built_repo: Path) -> None:
    periodic = feedparser.parse((built_repo / "categories/periodic/atom.xml").read_bytes())
    issues = feedparser.parse((built_repo / "categories/issues/rss.xml").read_bytes())
    assert [e.title for e in periodic.entries] == [
        "Friday December 14th | Final update from WCIT",
        "Sunday December 9th",
        "Friday, December 7th",
    ]
    assert len(issues.entries) == 3
    assert periodic.feed.title == "Updates from WCIT: Periodic Updates"
    square = feedparser.parse((built_repo / "tags/square-brackets/rss.xml").read_bytes())
    data = json.loads((built_repo / "tags/square-brackets/feed.json").read_text())
    both = {"Friday, December 7th", "Sunday December 9th"}
    assert {i["title"] for i in data["items"]} == both
    assert {e.title for e in square.entries} == both


def test_json_feed_fields(built_repo: Path) -> None:
    data = json.loads((built_repo / "feed.json").read_text(encoding="utf-8"))
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert data["language"] == "en"
    assert data["authors"] == [
        {"name": "Internet Society", "url": "https://www.internetsociety.org/"}
    ]
    assert data["feed_url"] == BASE + "feed.json"
    assert len(data["items"]) == 6
    for item in data["items"]:
        assert set(item) >= {
            "id",
            "url",
            "title",
            "content_html",
            "summary",
            "date_published",
            "date_modified",
            "authors",
        }
        assert item["date_published"].endswith("+04:00")
    assert "next_url" not in data


def test_feed_level_author_and_updated_come_from_content(built_repo: Path) -> None:
    for name in ("atom.xml", "rss.xml"):
        feed = feedparser.parse((built_repo / name).read_bytes())
        assert feed.feed.author == "Internet Society"
        assert feed.feed.updated_parsed[:6] == (2012, 12, 14, 18, 0, 0)
    atom = (built_repo / "atom.xml").read_text(encoding="utf-8")
    assert "<fh:complete/>" in atom


def test_rss_guid_and_dates_follow_the_profile(built_repo: Path) -> None:
    rss = (built_repo / "rss.xml").read_text(encoding="utf-8")
    assert '<atom:link href="https://wcit-updates.example.org/rss.xml" rel="self"' in rss
    assert rss.count('<guid isPermaLink="false">urn:uuid:') == 6
    dates = re.findall(r"<pubDate>(.*?)</pubDate>", rss)
    assert dates[0] == "Fri, 14 Dec 2012 22:00:00 +0400"


def test_discovery_links_and_feed_listing(built_repo: Path) -> None:
    index = (built_repo / "index.html").read_text(encoding="utf-8")
    for path, media_type in (
        ("atom.xml", "application/atom+xml"),
        ("rss.xml", "application/rss+xml"),
        ("feed.json", "application/feed+json"),
    ):
        assert (f'<link rel="alternate" type="{media_type}" href="{BASE}{path}"') in index
    listing = (built_repo / "feeds.html").read_text(encoding="utf-8")
    urls = set(re.findall(r'value="([^"]+)"', listing))
    expected = {
        BASE + p.relative_to(built_repo).as_posix()
        for p in feed_files(built_repo)
        if "archive" not in p.parts
    }
    assert urls == expected
    snippet = (built_repo / "feed-links.html").read_text(encoding="utf-8")
    assert snippet.count('<link rel="alternate"') == 3


def test_ids_survive_edits_of_title_text_slug_category_and_file_name(
    site_copy: Path, run_cli: Callable[..., Result]
) -> None:
    config = site_copy / "wcitfeed.toml"
    assert run_cli("build", "--config", config).exit_code == 0
    before = feedparser.parse((site_copy / "output/atom.xml").read_bytes())
    before_ids = {e.title: e.id for e in before.entries}

    old = site_copy / "content/periodic/2012-12-09.md"
    text = old.read_text(encoding="utf-8")
    text = text.replace("title: Sunday December 9th", "title: Sunday 9 December (revised)")
    text = text.replace("The weekend was spent", "The whole weekend was spent")
    text = text.replace("category: periodic", "category: issues")
    (site_copy / "content/issues/weekend-report.md").write_text(text, encoding="utf-8")
    old.unlink()
    result = run_cli("build", "--config", config)
    assert result.exit_code == 0, result.output

    after = feedparser.parse((site_copy / "output/atom.xml").read_bytes())
    after_ids = {e.title: e.id for e in after.entries}
    assert sorted(after_ids.values()) == sorted(before_ids.values())
    assert after_ids["Sunday 9 December (revised)"] == before_ids["Sunday December 9th"]
    # The old page and fragment are gone, the new ones are there.
    assert not (site_copy / "output/fragments/2012-12-09.html").exists()
    assert (site_copy / "output/fragments/weekend-report.html").exists()


@pytest.mark.parametrize("kinds", [["site"], ["site", "categories"]])
def test_which_feeds_are_built_is_a_setting(
    kinds: list[str], site_copy: Path, run_cli: Callable[..., Result]
) -> None:
    config = site_copy / "wcitfeed.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(f'feeds = {json.dumps(kinds)}\nformats = ["atom"]\n' + text, encoding="utf-8")
    assert run_cli("build", "--config", config).exit_code == 0
    built = {
        p.relative_to(site_copy / "output").as_posix() for p in feed_files(site_copy / "output")
    }
    expected = {"atom.xml"}
    if "categories" in kinds:
        expected |= {"categories/periodic/atom.xml", "categories/issues/atom.xml"}
    assert built == expected
