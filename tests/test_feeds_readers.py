"""The built WCIT feeds as independent clients read them: feedparser, jing, newsboat, sfeed."""

from __future__ import annotations

import calendar
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import feedparser
import pytest

from tests.conftest import REPO, SHARED
from tests.helpers import front_matter

POSTS = {p.stem: front_matter(p) for p in sorted((REPO / "content").rglob("*.md"))}
BASE = "https://wcit-updates.example.org/"


@pytest.mark.parametrize("name", ["atom.xml", "rss.xml"])
def test_feedparser_reads_six_correct_entries(built_repo: Path, name: str) -> None:
    feed = feedparser.parse((built_repo / name).read_bytes())
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == ("atom10" if name == "atom.xml" else "rss20")
    assert feed.feed.title == "Updates from WCIT"
    assert len(feed.entries) == 6

    expected = sorted(POSTS.items(), key=lambda kv: kv[1]["date"], reverse=True)
    for entry, (stem, meta) in zip(feed.entries, expected, strict=True):
        assert entry.title == meta["title"]
        assert entry.id == meta["id"]
        assert entry.link == f"{BASE}posts/{stem}/"
        when: datetime = meta["date"]
        assert when.utcoffset().total_seconds() == 4 * 3600
        assert calendar.timegm(entry.published_parsed) == int(when.timestamp())
        # The offset is written as Dubai's, not converted to UTC.
        raw = entry.published
        assert raw.endswith("+04:00" if name == "atom.xml" else "+0400"), raw
        assert entry.author == "Internet Society"
        assert meta["summary"].split()[0] in entry.summary
        assert entry.content[0].value.startswith("<p>")
    assert [e.title for e in feed.entries][:3] == [
        "Friday December 14th | Final update from WCIT",
        "Sunday December 9th",
        "Friday, December 7th",
    ]


def test_feed_links_and_categories(built_repo: Path) -> None:
    atom = feedparser.parse((built_repo / "atom.xml").read_bytes())
    rels = {link.rel: link.href for link in atom.feed.links}
    assert rels == {"self": f"{BASE}atom.xml", "alternate": BASE}
    rss = feedparser.parse((built_repo / "rss.xml").read_bytes())
    assert {link.rel: link.href for link in rss.feed.links}["self"] == f"{BASE}rss.xml"
    assert rss.feed.link == BASE
    security = next(e for e in atom.entries if e.title == "Security [Cybersecurity]")
    terms = [t.term for t in security.tags]
    # A category has one name in every format: its label.
    assert terms[0] == security.tags[0].label == "Issue-specific Updates"
    rss_security = next(e for e in rss.entries if e.title == "Security [Cybersecurity]")
    assert rss_security.tags[0].term == "Issue-specific Updates"
    json_feed = json.loads((built_repo / "feed.json").read_text("utf-8"))
    json_security = next(i for i in json_feed["items"] if i["title"] == "Security [Cybersecurity]")
    assert json_security["tags"][0] == "Issue-specific Updates"
    assert "cybersecurity" in terms
    # The feed's date is the newest entry's, never the build's.
    assert atom.feed.updated == "2012-12-14T22:00:00+04:00"


def test_rss_summary_in_description_and_full_text_in_content(built_repo: Path) -> None:
    rss = feedparser.parse((built_repo / "rss.xml").read_bytes())
    newest = rss.entries[0]
    assert newest.summary == POSTS["2012-12-14"]["summary"]
    assert newest.content[0].value.count("<li>") == 11
    assert newest.get("guidislink") is False


def test_independent_checkers_pass(built_repo: Path) -> None:
    """jing (RFC 4287 schema), xmllint, feedparser, newsboat and sfeed must all agree."""
    report = built_repo.parent / "check-report.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(SHARED / "tools" / "check_feed.py"),
            "--expect-entries",
            "6",
            "--skip",
            "w3c-feedvalidator",
            "--json-report",
            str(report),
            str(built_repo / "atom.xml"),
            str(built_repo / "rss.xml"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(report.read_text())
    text = json.dumps(results)
    for check in ("atom-rnc", "newsboat", "sfeed", "readers-agree"):
        assert check in text
    assert "SKIP" not in proc.stdout, proc.stdout
