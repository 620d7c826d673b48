"""A site with everything real content throws at feeds: pictures present and missing, titles
that look like markup, a backdated post, a tag whose last post goes away, and 300 posts of
archives. Every feed must pass every checker with no warning, and subscribers must see each
post once, through all of its history."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from PIL import Image

from tests.helpers import SHARED, feed_files, mark_all_read, newsboat_reload

WCITFEED = [sys.executable, "-m", "wcitfeed"]
START = datetime(2012, 1, 1, 9, tzinfo=UTC)
# The one W3C message a title that looks like HTML keeps (README, "Titles and plain text").
KEPT_WARNING = "title should not contain HTML"


def make_hostile_site(root: Path) -> Path:
    """Write the fixture site below ``root``; return its folder."""
    content = root / "content"
    (content / "pics").mkdir(parents=True)
    (root / "wcitfeed.toml").write_text(
        'title = "Hostile & <Friends>"\nbase_url = "https://hostile.example.org/"\n'
        'formats = ["atom", "rss", "json"]\n'
        '[[authors]]\nname = "Desk"\nemail = "desk@hostile.example.org"\n'
        '[categories]\nnews = "News"\nnotes = "Notes"\n',
        encoding="utf-8",
    )
    Image.new("RGB", (40, 20), (10, 20, 30)).save(content / "pics/icon.png")
    for number in range(1, 301):
        extra = ""
        if number % 50 == 0:
            extra += "\n![icon](pics/icon.png)\n"
        if number % 75 == 0:
            extra += "\n![map](pics/map.png) and [the report](files/report.pdf)\n"
        title = {299: "<script>alert(1)</script> & friends", 300: "About the <blink> tag"}.get(
            number, f"Post {number}"
        )
        when = START + timedelta(days=number)
        (content / f"p{number:04d}.md").write_text(
            f"---\nid: tag:hostile.example.org,2012:{number}\ntitle: '{title}'\n"
            f"date: {when.isoformat()}\ncategory: {'news' if number % 3 else 'notes'}\n"
            f"tags: [t{number % 7}]\n---\nBody of post {number} & <b>more</b>.{extra}\n",
            encoding="utf-8",
        )
    (content / "lonely.md").write_text(
        "---\nid: tag:hostile.example.org,2012:lonely\ntitle: Lonely\n"
        "date: 2012-06-01T10:00:00+00:00\ncategory: notes\ntags: [lonely]\n---\n"
        "The only post of its tag.\n",
        encoding="utf-8",
    )
    return root


def build(site: Path, now: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*WCITFEED, "build", "--now", now], cwd=site, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    site = make_hostile_site(tmp_path_factory.mktemp("hostile") / "site")
    return site, build(site, "2013-06-01T00:00:00+00:00").stderr


def checker(files: list[Path], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SHARED / "tools/check_feed.py"), "--strict", *extra, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=1200,
    )


def test_missing_files_are_warned_with_post_and_line(hostile: tuple[Path, str]) -> None:
    _, said = hostile
    assert (
        "Warning: content/p0075.md:9: the picture 'pics/map.png' is not in content/ (add it "
        "there, or fix the path): readers would get a 404"
    ) in said
    assert "the linked file 'files/report.pdf' is not in content/" in said
    assert "icon.png" not in said  # present, so copied, not warned about
    site, _ = hostile
    assert (site / "output/pics/icon.png").read_bytes() == (
        site / "content/pics/icon.png"
    ).read_bytes()


def test_every_feed_passes_every_checker_with_no_warning(hostile: tuple[Path, str]) -> None:
    site, _ = hostile
    files = feed_files(site / "output")
    assert len(files) > 60  # site, categories, tags, archives, in three formats
    done = checker(files, "-q", "--allow-empty", "--skip", "w3c-feedvalidator")
    assert done.returncode == 0, done.stdout[-4000:]


@pytest.mark.skipif(
    not os.environ.get("WCITFEED_FEEDVALIDATOR"),
    reason="set WCITFEED_FEEDVALIDATOR to a checkout of w3c/feedvalidator (README, Development)",
)
def test_the_w3c_validator_has_nothing_but_the_documented_title_warning(
    hostile: tuple[Path, str],
) -> None:
    site, _ = hostile
    files = feed_files(site / "output")
    folder = os.environ["WCITFEED_FEEDVALIDATOR"]
    python = os.environ.get("WCITFEED_W3C_PYTHON", sys.executable)  # one with its packages
    done = checker(
        files, "-v", "--only", "w3c-feedvalidator", "--feedvalidator-dir", folder,
        "--w3c-python", python,
    )  # fmt: skip
    skipped = [line for line in done.stdout.splitlines() if line.startswith("SKIP")]
    # A folder that is not the checkout's root (say its src/) runs nothing, silently.
    assert not skipped, f"the W3C validator did not run from {folder}: {skipped[0]}"
    messages = [line.strip() for line in done.stdout.splitlines() if "- warning:" in line]
    errors = [line for line in done.stdout.splitlines() if "- error:" in line]
    assert errors == []
    assert messages and all(KEPT_WARNING in m for m in messages), messages


def entry_ids(path: Path) -> list[str]:
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, parsed.bozo_exception
    return [e.id for e in parsed.entries]


def test_subscribers_see_a_backdated_post_once_and_a_tag_end_without_errors(
    tmp_path: Path,
) -> None:
    site = make_hostile_site(tmp_path / "site")
    build(site, "2013-06-01T00:00:00+00:00")
    out = site / "output"
    feeds = ["atom.xml", "rss.xml", "categories/notes/atom.xml", "tags/lonely/atom.xml"]
    urls = [(out / f).as_uri() for f in feeds]
    reader = tmp_path / "newsboat"
    reader.mkdir()
    first = newsboat_reload(reader, urls)
    assert first, "newsboat read nothing"
    mark_all_read(reader)
    seen = {f: set(entry_ids(out / f)) for f in feeds}
    archives = {p: entry_ids(p) for p in sorted(out.glob("archive/*/atom.xml"))}
    assert len(archives) == 6  # 301 posts, 50 a page

    # A post dated in February arrives in June.
    backdated = "tag:hostile.example.org,2012:backdated"
    (site / "content/late.md").write_text(
        f"---\nid: {backdated}\ntitle: Found in a drawer\ndate: 2012-02-14T12:00:00+00:00\n"
        "category: notes\ntags: [t1]\n---\nA note written in February.\n",
        encoding="utf-8",
    )
    build(site, "2013-06-02T00:00:00+00:00")
    for feed in ("atom.xml", "rss.xml", "categories/notes/atom.xml"):
        new = set(entry_ids(out / feed)) - seen[feed]
        assert new == {backdated}, feed  # in the live feed, where subscribers look
    # No archive page a reader already fetched gained or lost an entry.
    assert {p: entry_ids(p) for p in archives} == archives
    items = newsboat_reload(reader, urls)
    unread = [(feed, guid) for feed, guid, flag in items if flag]
    # newsboat keeps one item per guid across feeds: the post is one unread item.
    assert [guid for _, guid in unread] == [backdated], unread
    assert len(items) == len(set(items)), "newsboat stored an entry twice"
    mark_all_read(reader)

    # The lonely tag's only post goes: its feed stays, empty and valid.
    (site / "content/lonely.md").unlink()
    build(site, "2013-06-03T00:00:00+00:00")
    assert entry_ids(out / "tags/lonely/atom.xml") == []
    done = checker(
        [out / "tags/lonely" / name for name in ("atom.xml", "rss.xml", "feed.json")],
        "-q", "--allow-empty", "--skip", "w3c-feedvalidator",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Ended feeds" in (out / "feeds.html").read_text("utf-8")
    items = newsboat_reload(reader, urls)
    assert [guid for _, guid, flag in items if flag] == []
    guids = [(feed, guid) for feed, guid, _ in items]
    assert len(guids) == len(set(guids))
