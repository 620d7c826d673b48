"""What a post's HTML becomes: absolute links, images for readers, no forbidden characters."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import feedparser
from click.testing import Result

from tests.helpers import GOOD, check_feeds, feed_files, make_site

BODY = """\
[Sibling](other.html), [part](#aims), [root](/about/), [outside](https://example.org/x).

![Local picture](pic.png)

<img src="img/a.jpg" srcset="img/a.jpg 1x, /img/a@2x.jpg 2x" alt="A">
"""


def test_relative_links_become_absolute_everywhere(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    post = GOOD.replace("Body.\n", BODY)
    config = make_site(tmp_path, {"periodic/p.md": post, "periodic/pic.png": b"\x89PNG fake"})
    assert run_cli("build", "--config", config).exit_code == 0
    out = tmp_path / "output"
    expected = [
        'href="https://example.org/periodic/other.html"',
        'href="https://example.org/posts/p/#aims"',
        'href="https://example.org/about/"',
        'href="https://example.org/x"',
        'src="https://example.org/periodic/pic.png"',
        'srcset="https://example.org/periodic/img/a.jpg 1x, https://example.org/img/a@2x.jpg 2x"',
    ]
    # Raw documents, as a reader receives them (feedparser itself drops srcset).
    atom = (out / "atom.xml").read_text()
    rss = (out / "rss.xml").read_text()
    json_html = json.loads((out / "feed.json").read_text())["items"][0]["content_html"]
    fragment = (out / "fragments/p.html").read_text()
    for html in (atom, rss, json_html, fragment):
        for attribute in expected:
            assert attribute in html
        assert 'href="other.html"' not in html
    # The picture beside the post is published at the URL the HTML uses.
    assert (out / "periodic/pic.png").read_bytes() == b"\x89PNG fake"


def test_post_image_reaches_every_format(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    post = GOOD.replace("Body.\n", BODY)
    config = make_site(tmp_path, {"periodic/p.md": post, "periodic/pic.png": b"\x89PNG fake"})
    assert run_cli("build", "--config", config).exit_code == 0
    out = tmp_path / "output"
    url = "https://example.org/periodic/pic.png"
    rss = feedparser.parse((out / "rss.xml").read_bytes()).entries[0]
    assert rss.media_content[0]["url"] == url
    assert rss.media_thumbnail[0]["url"] == url
    assert rss.enclosures[0].href == url
    assert rss.enclosures[0].length == "9"
    assert rss.enclosures[0].type == "image/png"
    atom = feedparser.parse((out / "atom.xml").read_bytes()).entries[0]
    assert atom.link == "https://example.org/posts/p/"
    assert atom.enclosures[0].href == url
    item = json.loads((out / "feed.json").read_text())["items"][0]
    assert item["image"] == url
    assert item["attachments"] == [{"url": url, "mime_type": "image/png", "size_in_bytes": 9}]


def test_front_matter_image_wins_and_remote_images_have_no_enclosure(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    post = GOOD.replace("title: Good", "title: Good\nimage: https://cdn.example.net/c.jpg")
    config = make_site(tmp_path, {"p.md": post.replace("Body.", BODY)})
    assert run_cli("build", "--config", config).exit_code == 0
    rss = feedparser.parse((tmp_path / "output/rss.xml").read_bytes()).entries[0]
    assert rss.media_content[0]["url"] == "https://cdn.example.net/c.jpg"
    assert not rss.get("enclosures")


def test_forbidden_characters_are_removed_and_reported(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    post = (
        '---\nid: urn:uuid:bad-chars\ntitle: "Bell\\a and \\e escape"\n'
        "date: 2012-12-07T19:00:00+04:00\n---\nLine one.\nNull \x00 and escape \x1b here.\n"
    )
    config = make_site(tmp_path, {"chars.md": post})
    result = run_cli("build", "--config", config)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(
        line.endswith("chars.md:7: removed 2 characters XML forbids (U+0000, U+001B) on line 7")
        for line in lines
    ), lines
    assert any(
        line.endswith(
            "chars.md:3: 'title' had characters XML forbids (written as escapes); they were removed"
        )
        for line in lines
    ), lines
    out = tmp_path / "output"
    entry = feedparser.parse((out / "atom.xml").read_bytes()).entries[0]
    assert entry.title == "Bell and  escape"
    assert "Null  and escape  here." in entry.content[0].value
    proc = check_feeds(feed_files(out))
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_a_body_full_of_forbidden_characters_gives_one_warning(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    # 1.96 MB: before, one warning per line (19,406) and time that grew with the square.
    body = ("x\x01" * 50 + "\n") * 19400
    post = "---\nid: urn:uuid:ctl\ntitle: Controls\ndate: 2012-12-07T19:00:00+04:00\n---\n" + body
    config = make_site(tmp_path, {"ctl.md": post})
    result = run_cli("build", "--config", config)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if "XML forbids" in line]
    assert len(warnings) == 1
    assert warnings[0].endswith(
        "ctl.md:6: removed 970,000 characters XML forbids (U+0001) "
        "on lines 6, 7, 8, 9, 10 and 19,395 more"
    )
    text = (tmp_path / "output/fragments/ctl.html").read_text()
    assert "\x01" not in text
    assert "x" * 50 in text
