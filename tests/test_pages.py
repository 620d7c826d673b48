"""The updates page, the preview server and the authoring command, seen through Chromium."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest
from click.testing import Result

from tests.browser import dom, screenshot
from tests.conftest import Serving

ORDER = [
    ("periodic", ["2012-12-14", "2012-12-09", "2012-12-07"]),
    (
        "issues",
        [
            "wcit-wsis-and-internet-governance",
            "national-control-of-internet-resources",
            "security-cybersecurity",
        ],
    ),
]


def fetch(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def test_page_in_chromium_sections_order_links_and_screenshots(
    serving: Serving,
) -> None:
    url = serving.url
    page = dom(url)
    # One h1, then the seed's two sections in its order, each post as a summary.
    assert re.findall(r"<h1>([^<]+)</h1>", page) == ["Updates from WCIT"]
    headings = re.findall(r'<h2 id="[a-z]+-heading">([^<]+)</h2>', page)
    assert headings == ["Periodic Updates", "Issue-specific Updates"]
    for section, slugs in ORDER:
        block = page.split(f'<section id="{section}"', 1)[1].split("</section>", 1)[0]
        assert re.findall(r'<h3><a href="[^"]+/posts/([^/]+)/">', block) == slugs
    assert "Security needs the whole multistakeholder community" in page  # a summary
    assert "Security [Cybersecurity] is a complex issue" not in page  # not the full text
    # Subscribe links are at the top of the page, before the first heading.
    top = page.split("<h1>", 1)[0]
    assert re.findall(r'<nav class="subscribe".*?</nav>', top, re.DOTALL)
    assert 'href="http://127.0.0.1' in top.split('class="subscribe"', 1)[1]

    links = re.findall(r'<link rel="alternate" type="([^"]+)" href="([^"]+)"', page)
    assert {t for t, _ in links} == {
        "application/atom+xml",
        "application/rss+xml",
        "application/feed+json",
    }
    for media_type, href in links:
        status, content_type, body = fetch(href)
        assert status == 200
        assert content_type.split(";")[0] == media_type
        if media_type != "application/feed+json":
            assert len(feedparser.parse(body).entries) == 6

    # Conditional requests: a reader polling an unchanged feed gets 304 Not Modified.
    with urllib.request.urlopen(url + "atom.xml", timeout=10) as response:
        etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
    assert etag and modified
    request = urllib.request.Request(url + "atom.xml", headers={"If-None-Match": etag})
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("expected 304")
    except urllib.error.HTTPError as answer:
        assert answer.code == 304

    # Each post's page, where the feeds' entry links point, has the full text.
    post = dom(url + "posts/2012-12-09/")
    assert re.findall(r"<h1>([^<]+)</h1>", post) == ["Sunday December 9th"]
    assert "Ad hoc groups met all weekend" in post
    assert "[bracketed]" in dom(url + "posts/2012-12-07/")

    screenshot(url, "updates-phone.png", 390, 844)
    screenshot(url, "updates-desktop.png", 1280, 900)


def test_serve_shows_edits_and_errors_then_recovers(serving: Serving) -> None:
    site, url = serving.site, serving.url
    post = site / "content/periodic/2012-12-09.md"
    original = post.read_text(encoding="utf-8")
    post.write_text(
        original.replace("The weekend was spent", "The long weekend was spent"), encoding="utf-8"
    )
    assert " rebuilt: " in serving.next_build()
    assert "The long weekend was spent" in fetch(url + "posts/2012-12-09/")[2]
    assert "The long weekend was spent" in dom(url + "posts/2012-12-09/")

    post.write_text(
        original.replace("title: Sunday December 9th", "title: [unclosed"), encoding="utf-8"
    )
    assert serving.next_build().startswith("Error: ")
    status, _, error_page = fetch(url)
    assert status == 500
    assert "The build failed" in error_page
    assert re.search(
        r"content/periodic/2012-12-09\.md:\d+: front matter is not valid YAML", error_page
    )
    assert "content/periodic/2012-12-09.md" in dom(url)

    post.write_text(original, encoding="utf-8")
    assert " rebuilt: " in serving.next_build()
    status, _, body = fetch(url + "posts/2012-12-09/")
    assert status == 200
    assert "The weekend was spent" in body
    # The preview never touched the published output.
    assert not (site / "output").exists()


def test_new_then_build_shows_the_post_in_every_feed(
    site_copy: Path, run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(site_copy)
    result = run_cli(
        "new",
        "Monday December 10th",
        "--category",
        "periodic",
        "--tag",
        "plenary",
        "--now",
        "2012-12-10T21:00:00+0400",
    )
    assert result.exit_code == 0, result.output
    path = site_copy / result.output.strip()
    assert path == site_copy / "content/periodic/monday-december-10th.md"
    assert run_cli("new", "Monday December 10th", "--category", "periodic").exit_code == 1

    assert run_cli("build", "--now", "2012-12-15T00:00:00+0400").exit_code == 0
    out = site_copy / "output"
    for feed in (
        "atom.xml",
        "rss.xml",
        "feed.json",
        "categories/periodic/atom.xml",
        "tags/plenary/rss.xml",
    ):
        parsed = feedparser.parse((out / feed).read_bytes())
        titles = [e.title for e in parsed.entries] if parsed.entries else []
        if feed.endswith(".json"):
            titles = re.findall(r'"title":"([^"]+)"', (out / feed).read_text())
        assert "Monday December 10th" in titles, feed
    assert "2012-12-10T21:00:00+04:00" in path.read_text()
