"""RFC 5005 archives: the live feed is limited, every entry stays reachable, pages never change."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from click.testing import Result

from tests.helpers import (
    check_feeds,
    feed_files,
    make_generated_site,
    snapshot,
    snapshot_with_times,
    write_generated_post,
)


def follow_archives(out: Path, name: str) -> list[str]:
    """Walk from the live feed through prev-archive links as a consumer would; return ids."""
    base = "https://gen.example.org/"
    ids: list[str] = []
    url: str | None = base + name
    visited = 0
    while url:
        document = feedparser.parse((out / url.removeprefix(base)).read_bytes())
        assert document.bozo == 0
        ids.extend(e.id for e in document.entries)
        links = {link.rel: link.href for link in document.feed.get("links", [])}
        url = links.get("prev-archive")
        visited += 1
        assert visited < 100
    return ids


def test_250_posts_limited_live_feed_and_stable_archives(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    config = make_generated_site(tmp_path, 250, settings="feed_limit = 20\n")
    out = tmp_path / "output"
    assert run_cli("build", "--config", config).exit_code == 0

    live = feedparser.parse((out / "atom.xml").read_bytes())
    assert len(live.entries) == 20
    assert live.entries[0].title == "Post 250"
    assert "fh:complete" not in (out / "atom.xml").read_text()
    # 12 full pages of 20 hold posts 1-240; the live feed overlaps page 12 by ten.
    pages = sorted(int(p.parent.name) for p in (out / "archive").glob("*/atom.xml"))
    assert pages == list(range(1, 13))
    page1 = feedparser.parse((out / "archive/1/atom.xml").read_bytes())
    assert [e.title for e in page1.entries] == [f"Post {n}" for n in range(20, 0, -1)]
    assert "<fh:archive/>" in (out / "archive/1/rss.xml").read_text()
    assert {link.rel for link in page1.feed.links} >= {"self", "current"}

    for name in ("atom.xml", "rss.xml"):
        ids = follow_archives(out, name)
        assert set(ids) == {f"tag:gen.example.org,2012:{n}" for n in range(1, 251)}

    # JSON Feed pages chain through next_url.
    url, seen = json.loads((out / "feed.json").read_text())["next_url"], 0
    while url:
        page = json.loads((out / url.removeprefix("https://gen.example.org/")).read_text())
        seen += len(page["items"])
        # Every page names the feed itself (its identifier), not the page.
        assert page["feed_url"] == "https://gen.example.org/feed.json"
        url = page.get("next_url")
    assert seen == 240

    # Archive pages are byte-identical across a rebuild, and across a new post.
    before = snapshot_with_times(out / "archive")
    assert run_cli("build", "--config", config).output == ""
    assert snapshot_with_times(out / "archive") == before
    write_generated_post(tmp_path / "content", 251, datetime(2013, 1, 1, tzinfo=UTC))
    assert run_cli("build", "--config", config).exit_code == 0
    assert snapshot_with_times(out / "archive") == before
    assert feedparser.parse((out / "atom.xml").read_bytes()).entries[0].title == "Post 251"

    # Every document, archives included, passes jing, newsboat, sfeed and the JSON checks.
    live_files = [out / "atom.xml", out / "rss.xml", out / "feed.json"]
    proc = check_feeds(live_files, "--expect-entries", "20")
    assert proc.returncode == 0, proc.stdout[-3000:]
    archives = [p for p in feed_files(out) if "archive" in p.parts]
    proc = check_feeds(
        archives,
        "--only",
        "xml-wellformed,atom-rnc,feedparser,json-wellformed,jsonfeed-schema,jsonfeed-spec",
    )
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_small_feed_is_complete(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    config = make_generated_site(tmp_path, 5, settings="feed_limit = 20\n")
    assert run_cli("build", "--config", config).exit_code == 0
    atom = (tmp_path / "output/atom.xml").read_text()
    assert "<fh:complete/>" in atom
    assert "prev-archive" not in atom
    assert not (tmp_path / "output/archive").exists()


def test_byte_budget_trims_only_entries_an_archive_holds(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    config = make_generated_site(
        tmp_path, 45, settings='feed_limit = 20\nfeed_max_bytes = 9000\nformats = ["atom"]\n'
    )
    result = run_cli("build", "--config", config)
    assert result.exit_code == 0
    data = (tmp_path / "output/atom.xml").read_bytes()
    assert len(data) <= 9000
    entries = feedparser.parse(data).entries
    # 40 posts sit in two archive pages; posts 41-45 are only in the live feed.
    assert 5 <= len(entries) < 20
    assert {e.title for e in entries} >= {f"Post {n}" for n in range(41, 46)}
    assert set(follow_archives(tmp_path / "output", "atom.xml")) == {
        f"tag:gen.example.org,2012:{n}" for n in range(1, 46)
    }


def test_byte_budget_that_cannot_be_met_warns(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    config = make_generated_site(
        tmp_path, 3, settings='feed_max_bytes = 500\nformats = ["atom"]\nfeeds = ["site"]\n'
    )
    result = run_cli("build", "--config", config)
    assert result.exit_code == 0
    assert re.search(r"Warning: .*atom.xml: is \d+ bytes, over feed_max_bytes = 500", result.output)
    assert len(feedparser.parse((tmp_path / "output/atom.xml").read_bytes()).entries) == 3


def test_tag_feeds_are_windows_unless_archived(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    config = make_generated_site(tmp_path, 12, settings="feed_limit = 4\n")
    assert run_cli("build", "--config", config, "--now", "2013-01-01").exit_code == 0
    out = tmp_path / "output"
    even = feedparser.parse((out / "tags/even/atom.xml").read_bytes())
    assert [e.title for e in even.entries] == ["Post 12", "Post 10", "Post 8", "Post 6"]
    assert not any(link.rel == "prev-archive" for link in even.feed.links)
    assert not (out / "tags/even/archive").exists()
    assert (out / "archive/2/atom.xml").is_file()  # the site feed keeps its history

    config.write_text(config.read_text() + 'archives = ["site", "categories", "tags"]\n')
    assert run_cli("build", "--config", config, "--now", "2013-01-01").exit_code == 0
    even = feedparser.parse((out / "tags/even/atom.xml").read_bytes())
    assert any(link.rel == "prev-archive" for link in even.feed.links)
    assert (out / "tags/even/archive/1/atom.xml").is_file()


def test_large_documents_are_streamed_to_the_same_bytes(
    tmp_path: Path, run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document of more than STREAMED_ENTRIES entries is written chunk by chunk; its
    bytes are those of the same document assembled whole, and an unchanged one is kept."""
    settings = 'feed_limit = 0\nfeed_max_bytes = 0\nfeeds = ["site", "tags"]\n'
    whole = make_generated_site(tmp_path / "whole", 30, settings=settings)
    streamed = make_generated_site(tmp_path / "streamed", 30, settings=settings)
    assert run_cli("build", "--config", whole, "--now", "2013-01-01").exit_code == 0
    monkeypatch.setattr("wcitfeed.plan.STREAMED_ENTRIES", 5)
    assert run_cli("build", "--config", streamed, "--now", "2013-01-01").exit_code == 0
    assert snapshot(tmp_path / "streamed/output") == snapshot(tmp_path / "whole/output")
    items = json.loads((tmp_path / "streamed/output/feed.json").read_text())["items"]
    assert len(items) == 30

    # Made again by streaming, unchanged: not rewritten, so its mtime stays.
    atom = tmp_path / "streamed/output/atom.xml"
    before = atom.stat().st_mtime_ns
    shutil.rmtree(tmp_path / "streamed/.wcitfeed-cache")
    assert run_cli("build", "--config", streamed, "--now", "2013-01-01").exit_code == 0
    assert atom.stat().st_mtime_ns == before
    post = tmp_path / "streamed/content/post-0003.md"
    post.write_text(post.read_text().replace("Body of post 3", "Edited body of post 3"))
    assert run_cli("build", "--config", streamed, "--now", "2013-02-01").exit_code == 0
    assert b"Edited body of post 3" in atom.read_bytes()
    assert len(feedparser.parse(atom.read_bytes()).entries) == 30
