"""Behaviour the golden files alone used to guard, each checked on its own here by an
independent reader (feedparser, lxml, json), so a change to one is caught by name."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import feedparser
import lxml.etree
import lxml.html
import pytest
from click.testing import Result

from tests.helpers import GOOD, HOSTILE, make_generated_site, make_site
from tests.test_robustness import unsafe_markup
from tests.test_websub import Hub


def test_the_sanitiser_guards_every_feed_format_and_fragment(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    config = make_site(tmp_path, {"periodic/bad.md": GOOD.replace("Body.\n", HOSTILE)})
    assert run_cli("build", "--config", config).exit_code == 0
    out = tmp_path / "output"
    atom = feedparser.parse((out / "atom.xml").read_bytes()).entries[0].content[0].value
    rss = feedparser.parse((out / "rss.xml").read_bytes()).entries[0].content[0].value
    item = json.loads((out / "feed.json").read_text())["items"][0]["content_html"]
    fragment = (out / "fragments/bad.html").read_text()
    for html in (atom, rss, item, fragment):
        assert "Before." in html and "After." in html
        assert unsafe_markup(html) == []
        assert "alert(" not in html


def test_templates_escape_what_posts_say(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    title = "<b>Bold</b> & <script>x()</script>"
    post = GOOD.replace("title: Good", f"title: '{title}'")
    config = make_site(tmp_path, {"periodic/esc.md": post})
    assert run_cli("build", "--config", config).exit_code == 0
    page = lxml.html.fromstring((tmp_path / "output/posts/esc/index.html").read_bytes())
    # The title is text on the page, not markup: a browser shows it as written.
    assert page.xpath("string(//article//h1)").strip() == title
    assert page.xpath("string(//title)").startswith(title)
    assert page.xpath("//article//h2//b | //script") == []
    fragment = lxml.html.fragment_fromstring(
        (tmp_path / "output/fragments/esc.html").read_text(), create_parent="div"
    )
    assert title in fragment.text_content()
    assert fragment.xpath(".//script") == []


def test_json_feed_dates_and_ids(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    config = make_generated_site(tmp_path, 2)
    post = tmp_path / "content/post-0002.md"
    assert run_cli("build", "--config", config, "--now", "2013-01-01").exit_code == 0
    post.write_text(post.read_text() + "An edit.\n")
    assert run_cli("build", "--config", config, "--now", "2013-02-01T10:00:00+00:00").exit_code == 0
    items = {i["id"]: i for i in json.loads((tmp_path / "output/feed.json").read_text())["items"]}
    assert set(items) == {"tag:gen.example.org,2012:1", "tag:gen.example.org,2012:2"}
    edited, plain = items["tag:gen.example.org,2012:2"], items["tag:gen.example.org,2012:1"]
    assert edited["date_published"] == "2012-01-02T09:00:00+00:00"
    assert edited["date_modified"] == "2013-02-01T10:00:00+00:00"
    assert plain["date_published"] == "2012-01-01T09:00:00+00:00"
    assert plain.get("date_modified", plain["date_published"]) == plain["date_published"]


@pytest.mark.parametrize("limit", [40, 120])
def test_summary_length_cuts_at_a_word(
    tmp_path: Path, run_cli: Callable[..., Result], limit: int
) -> None:
    words = " ".join(f"word{n}" for n in range(60))
    settings = f"summary_length = {limit}\n"
    config = make_generated_site(tmp_path, 1, settings=settings)
    post = tmp_path / "content/post-0001.md"
    post.write_text(
        post.read_text().split("---\n")[0]
        + "---\n"
        + post.read_text().split("---\n")[1]
        + "---\n"
        + words
        + "\n"
    )
    assert run_cli("build", "--config", config, "--now", "2013-01-01").exit_code == 0
    summary = feedparser.parse((tmp_path / "output/atom.xml").read_bytes()).entries[0].summary
    assert len(summary) <= limit
    assert summary.endswith("…")
    assert words.startswith(summary.removesuffix("…"))
    assert summary.removesuffix("…").split()[-1] in words.split()


def test_links_from_the_root_keep_a_base_url_path(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    config = make_generated_site(tmp_path, 1)
    config.write_text(
        config.read_text().replace("https://gen.example.org/", "https://gen.example.org/news")
    )
    post = tmp_path / "content/post-0001.md"
    post.write_text(post.read_text() + "\n[About](/about/) and [here](#part) and ![x](pic.png)\n")
    assert run_cli("build", "--config", config, "--now", "2013-01-01").exit_code == 0
    entry = feedparser.parse((tmp_path / "output/atom.xml").read_bytes()).entries[0]
    links = lxml.html.fragment_fromstring(entry.content[0].value, create_parent="div")
    hrefs = [a.get("href") for a in links.iter("a")] + [i.get("src") for i in links.iter("img")]
    assert "https://gen.example.org/news/about/" in hrefs
    assert "https://gen.example.org/news/posts/post-0001/#part" in hrefs
    assert "https://gen.example.org/news/pic.png" in hrefs
    assert entry.link == "https://gen.example.org/news/posts/post-0001/"


def test_duplicate_slugs_are_refused_naming_both_files(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    other = GOOD.replace("urn:uuid:good", "urn:uuid:other").replace("title: Good", "title: Other")
    config = make_site(tmp_path, {"periodic/same.md": GOOD, "periodic/old/Same.md": other})
    result = run_cli("build", "--config", config)
    assert result.exit_code == 1
    assert "'slug' 'same' is already used by" in result.output
    assert not (tmp_path / "output").exists()


def test_the_users_own_files_in_the_output_folder_are_kept(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    config = make_generated_site(tmp_path, 3)
    out = tmp_path / "output"
    out.mkdir()
    (out / "CNAME").write_text("updates.example.org\n")
    (out / "assets").mkdir()
    (out / "assets/site.css").write_text("body { color: black }\n")
    assert run_cli("build", "--config", config, "--now", "2013-01-01").exit_code == 0
    (tmp_path / "content/post-0003.md").unlink()
    assert run_cli("build", "--config", config, "--now", "2013-02-01").exit_code == 0
    assert (out / "CNAME").read_text() == "updates.example.org\n"
    assert (out / "assets/site.css").read_text() == "body { color: black }\n"
    assert not (out / "fragments/post-0003.html").exists()


def test_archive_pages_are_never_announced_to_the_hub(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    hub = Hub()
    try:
        config = make_generated_site(
            tmp_path, 4, settings=f'hub = "{hub.url}"\nfeed_limit = 2\nfeeds = ["site"]\n'
        )
        assert run_cli("build", "--config", config, "--now", "2013-01-01").exit_code == 0
        assert (tmp_path / "output/archive/1/atom.xml").is_file()
        hub.take()
        # Two more posts fill a second archive page: it is written, but only live feeds ping.
        from datetime import UTC, datetime

        from tests.helpers import write_generated_post

        for number in (5, 6):
            write_generated_post(
                tmp_path / "content", number, datetime(2012, 2, number, tzinfo=UTC)
            )
        result = run_cli("build", "--config", config, "--now", "2013-02-01", "--json")
        written = json.loads(result.output)["written"]
        assert "archive/2/atom.xml" in written
        assert hub.take() == sorted(
            f"https://gen.example.org/{name}" for name in ("atom.xml", "rss.xml", "feed.json")
        )
    finally:
        hub.server.shutdown()


def test_one_picture_is_media_content_in_the_item_not_a_group(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    post = GOOD.replace("Body.\n", "![Map](pics/map.png)\n\nBody.\n")
    config = make_site(tmp_path, {"periodic/pic.md": post, "periodic/pics/map.png": b"\x89PNG"})
    assert run_cli("build", "--config", config).exit_code == 0
    media = "{http://search.yahoo.com/mrss/}"
    item = lxml.etree.parse(str(tmp_path / "output/rss.xml")).find("channel/item")
    assert item is not None
    # W3C: "media:group must have multiple media:content children".
    assert item.find(f"{media}group") is None
    content = item.find(f"{media}content")
    assert content is not None
    assert content.get("url") == "https://example.org/periodic/pics/map.png"
    assert item.find(f"{media}thumbnail") is not None
