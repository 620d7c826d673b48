"""Cron builds: edits seen once, scheduled posts, the lock, kills, quiet runs, the cache."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import feedparser
import filelock
import jinja2
import pytest
from click.testing import Result

from tests.helpers import THEME, full_post, make_generated_site, snapshot

WCITFEED = [sys.executable, "-m", "wcitfeed"]


def entry(out: Path, title: str) -> feedparser.FeedParserDict:
    feed = feedparser.parse((out / "atom.xml").read_bytes())
    return next(e for e in feed.entries if e.title == title)


def mtimes(root: Path) -> dict[str, int]:
    return {
        p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()
    }


def test_an_edit_moves_updated_once_and_only_once(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    config = make_generated_site(tmp_path, 3)
    out = tmp_path / "output"
    assert run_cli("build", "--config", config, "--now", "2013-01-01").exit_code == 0
    assert entry(out, "Post 2").updated == entry(out, "Post 2").published

    post = tmp_path / "content/post-0002.md"
    post.write_text(post.read_text().replace("Body of post 2", "Corrected body of post 2"))
    assert run_cli("build", "--config", config, "--now", "2013-02-01T10:00:00+00:00").exit_code == 0
    assert entry(out, "Post 2").updated == "2013-02-01T10:00:00+00:00"
    before = mtimes(out)

    # A later build with no edit keeps that date and rewrites nothing.
    result = run_cli("build", "--config", config, "--now", "2013-03-01T10:00:00+00:00")
    assert result.exit_code == 0
    assert result.output == ""
    assert entry(out, "Post 2").updated == "2013-02-01T10:00:00+00:00"
    assert mtimes(out) == before

    # The ledger kept it, so even without the cache the date holds.
    ledger = json.loads((tmp_path / "wcitfeed-ledger.json").read_text())
    assert ledger["tag:gen.example.org,2012:2"]["updated"] == "2013-02-01T10:00:00+00:00"
    shutil.rmtree(tmp_path / ".wcitfeed-cache")
    assert run_cli("build", "--config", config, "--now", "2013-04-01").output == ""
    assert entry(out, "Post 2").updated == "2013-02-01T10:00:00+00:00"


def test_minor_edits_and_explicit_updated(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    config = make_generated_site(tmp_path, 2)
    out = tmp_path / "output"
    assert run_cli("build", "--config", config, "--now", "2013-01-01").exit_code == 0
    post = tmp_path / "content/post-0001.md"
    text = post.read_text()
    post.write_text(
        text.replace("---\nBody", "minor: true\n---\nBody").replace("Body of", "Body fo")
    )
    assert run_cli("build", "--config", config, "--now", "2013-02-01").exit_code == 0
    assert entry(out, "Post 1").updated == entry(out, "Post 1").published
    post.write_text(text.replace("---\nBody", "updated: 2012-06-01T00:00:00+00:00\n---\nBody"))
    assert run_cli("build", "--config", config, "--now", "2013-03-01").exit_code == 0
    assert entry(out, "Post 1").updated == "2012-06-01T00:00:00+00:00"


def test_scheduled_post_appears_at_its_time_and_drafts_never(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    config = make_generated_site(tmp_path, 1)
    content = tmp_path / "content"
    (content / "future.md").write_text(
        "---\nid: urn:uuid:future\ntitle: Future\ndate: 2013-06-01T09:00:00+00:00\n---\nSoon.\n"
    )
    (content / "draft.md").write_text(
        "---\nid: urn:uuid:draft\ntitle: Draft\ndate: 2012-06-01T09:00:00+00:00\n"
        "draft: true\n---\nNot yet.\n"
    )
    out = tmp_path / "output"

    def titles() -> set[str]:
        return {e.title for e in feedparser.parse((out / "atom.xml").read_bytes()).entries}

    assert run_cli("build", "--config", config, "--now", "2013-06-01T08:59:59+00:00").exit_code == 0
    assert titles() == {"Post 1"}
    assert not (out / "fragments/future.html").exists()
    # Nothing changed on disk, but the clock passed the post's date: the build sees it.
    result = run_cli("build", "--config", config, "--now", "2013-06-01T09:00:00+00:00")
    assert result.output.startswith("Built 2 posts")
    assert titles() == {"Post 1", "Future"}
    assert not (out / "fragments/draft.html").exists()


def test_quiet_json_and_exit_codes(tmp_path: Path) -> None:
    config = make_generated_site(tmp_path, 2)
    first = subprocess.run(
        [*WCITFEED, "build", "--config", str(config), "--json"], capture_output=True, text=True
    )
    report = json.loads(first.stdout)
    assert report["changed"] is True
    assert report["posts"] == 2
    assert "atom.xml" in report["written"]
    again = subprocess.run(
        [*WCITFEED, "build", "--config", str(config), "--exit-unchanged"],
        capture_output=True,
        text=True,
    )
    assert (again.returncode, again.stdout, again.stderr) == (3, "", "")
    post = tmp_path / "content/post-0001.md"
    post.write_text(post.read_text() + "\nMore.\n")
    quiet = subprocess.run(
        [*WCITFEED, "build", "--config", str(config), "-q"], capture_output=True, text=True
    )
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


def test_one_changed_post_rewrites_only_what_shows_it(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    config = make_generated_site(tmp_path, 30, settings="feed_limit = 10\n")
    assert run_cli("build", "--config", config, "--now", "2013-01-01").exit_code == 0
    post = tmp_path / "content/post-0029.md"
    post.write_text(post.read_text().replace("Body of post 29", "New body of post 29"))
    result = run_cli("build", "--config", config, "--now", "2013-01-01", "--json")
    written = set(json.loads(result.output)["written"])
    assert written == {
        "fragments/post-0029.html",
        "posts/post-0029/index.html",
        "index.html",
        "atom.xml",
        "rss.xml",
        "feed.json",
        "tags/odd/atom.xml",
        "tags/odd/rss.xml",
        "tags/odd/feed.json",
        # Its summary on the listings that show it, and its new date in the sitemap.
        "updates/index.html",
        "tags/odd/index.html",
        "sitemap.xml",
    }


def test_output_files_lost_or_changed_by_hand_are_made_again_as_they_were(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    """A post whose entries are stored is not rendered for its feeds; the files of its own
    that went missing or were changed are still made again, byte for byte."""
    config = make_generated_site(tmp_path, 30, settings="email_fragments = true\n")
    assert run_cli("build", "--config", config, "--now", "2013-01-01").exit_code == 0
    out = tmp_path / "output"
    before = snapshot(out)
    (out / "fragments/post-0005.html").unlink()
    (out / "email/post-0006.html").write_text("changed by hand", encoding="utf-8")
    (out / "posts/post-0007/index.html").unlink()
    result = run_cli("build", "--config", config, "--now", "2013-01-01", "--json")
    assert set(json.loads(result.output)["written"]) == {
        "fragments/post-0005.html",
        "email/post-0006.html",
        "posts/post-0007/index.html",
    }
    assert snapshot(out) == before


def test_files_lost_by_hand_during_a_quick_build_are_made_again_by_the_next(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    """A build that only makes again the files that show an edited post (the quick path)
    stats only those; a file of another post lost by hand meanwhile is found, and made
    again, by the next build, which sees a changed output folder."""
    config = make_generated_site(tmp_path, 30)
    assert run_cli("build", "--config", config, "--now", "2013-01-01").exit_code == 0
    out = tmp_path / "output"
    before = snapshot(out)
    (out / "posts/post-0007/index.html").unlink()
    post = tmp_path / "content/post-0020.md"
    post.write_text(post.read_text() + "An edit.\n")
    edited = run_cli("build", "--config", config, "--now", "2013-01-02", "--json")
    written = set(json.loads(edited.output)["written"])
    assert "posts/post-0020/index.html" in written
    assert "posts/post-0007/index.html" not in written
    again = run_cli("build", "--config", config, "--now", "2013-01-02", "--json")
    assert json.loads(again.output)["written"] == ["posts/post-0007/index.html"]
    assert snapshot(out)["posts/post-0007/index.html"] == before["posts/post-0007/index.html"]


def test_cache_is_not_trusted_after_a_template_change(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    config = make_generated_site(tmp_path, 2)
    templates = tmp_path / "templates"
    templates.mkdir()
    for template in (THEME).iterdir():
        (templates / template.name).write_bytes(template.read_bytes())
    text = config.read_text()
    config.write_text(text.replace(str(THEME), "templates"))
    assert run_cli("build", "--config", config).exit_code == 0
    fragment = templates / "fragment.html"
    fragment.write_text(fragment.read_text().replace("<article", '<article data-v="2"'))
    result = run_cli("build", "--config", config, "--json")
    written = json.loads(result.output)["written"]
    assert "fragments/post-0001.html" in written
    assert 'data-v="2"' in (tmp_path / "output/fragments/post-0001.html").read_text()


def test_a_second_build_waits_for_the_lock_or_exits_75(tmp_path: Path) -> None:
    config = make_generated_site(tmp_path, 5)
    assert subprocess.run([*WCITFEED, "build", "--config", str(config)]).returncode == 0
    post = tmp_path / "content/post-0005.md"
    post.write_text(post.read_text() + "Edited while another build held the lock.\n")
    # The test holds the lock itself: no race with a build's timing.
    with filelock.FileLock(tmp_path / ".wcitfeed-cache/build.lock"):
        second = subprocess.run(
            [*WCITFEED, "build", "--config", str(config), "--wait", "0"],
            capture_output=True,
            text=True,
        )
        waiting = subprocess.Popen(
            [*WCITFEED, "build", "-v", "--config", str(config), "--wait", "120"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert waiting.stderr is not None
        # -v says when a build starts to wait: from then on it is blocked on our lock.
        assert waiting.stderr.readline().startswith("Waiting up to 120 s for another build")
        assert waiting.poll() is None
        before = (tmp_path / "output/fragments/post-0005.html").read_text()
        released = time.time_ns()
    _, err = waiting.communicate(timeout=120)
    assert second.returncode == 75
    assert "another build of this site is running" in second.stderr
    assert "Edited while" not in before
    # The waiting build wrote only once the lock was free.
    assert waiting.returncode == 0, err
    fragment = tmp_path / "output/fragments/post-0005.html"
    assert "Edited while another build held the lock." in fragment.read_text()
    assert fragment.stat().st_mtime_ns >= released


def output_keys(root: Path) -> dict[str, str]:
    """Each output file's key, as the cache holds it after a build."""
    with sqlite3.connect(root / ".wcitfeed-cache/cache.sqlite") as db:
        return dict(db.execute("SELECT path, key FROM outputs"))


def test_keys_made_from_the_ledger_match_the_build_that_wrote_it(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    """A first build dates arrivals by its clock, later builds read them from the ledger:
    the same time either way, so a later build remakes only what changed (a time zone
    object that differed once made it re-render every post after a first build)."""
    config = make_generated_site(tmp_path, 30, settings='timezone = "UTC"\n')
    assert run_cli("build", "--config", config).exit_code == 0
    before = output_keys(tmp_path)
    post = tmp_path / "content/post-0015.md"
    post.write_text(post.read_text() + "\nOne more line.\n")
    assert run_cli("build", "--config", config).exit_code == 0
    changed = {path for path, key in output_keys(tmp_path).items() if before.get(path) != key}
    assert "posts/post-0001/index.html" not in changed
    assert "fragments/post-0001.html" not in changed
    assert "fragments/post-0015.html" in changed
    assert len(changed) < 25, sorted(changed)


def test_an_edited_translation_is_a_new_version() -> None:
    """The theme's catalogues change pages as much as its templates: the cache must know."""
    from wcitfeed.cache import fingerprint

    catalogue = THEME.parent / "translations" / "fr.po"
    before = fingerprint(None, THEME)
    info = catalogue.stat()
    try:
        os.utime(catalogue, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
        assert fingerprint(None, THEME) != before
    finally:
        os.utime(catalogue, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert fingerprint(None, THEME) == before


def test_the_cache_keeps_every_field_of_a_post() -> None:
    """A post read back from the cache equals the one written, field by field: a field
    the cache forgot would change a post between a cold build and the next one."""
    from dataclasses import MISSING, fields

    from wcitfeed.cache import post_from_json, post_to_json
    from wcitfeed.model import Post

    post = full_post()
    # Every field with a default differs from it here, so none can pass unread.
    for item in fields(Post):
        assert item.default is MISSING or getattr(post, item.name) != item.default, item.name
    assert post_from_json(post_to_json(post)) == post


SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def test_a_sitemap_over_the_limit_is_an_index_of_parts_with_every_page_once(
    tmp_path: Path, run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sitemap's files are made as they are written (never held whole): cut into
    parts of the protocol's size, every page once and in order, and kept right by a
    quick build after an edit."""
    from wcitfeed import pages

    monkeypatch.setattr(pages, "SITEMAP_URLS", 4)
    config = make_generated_site(tmp_path, 9)
    out = tmp_path / "output"
    assert run_cli("build", "--config", config, "--now", "2013-01-01").exit_code == 0

    def listed() -> list[tuple[str, str | None]]:
        index = ElementTree.parse(out / "sitemap.xml").getroot()
        assert index.tag == f"{SITEMAP}sitemapindex"
        found = []
        for loc in index.iter(f"{SITEMAP}loc"):
            part = ElementTree.parse(out / loc.text.removeprefix("https://gen.example.org/"))
            urls = part.getroot().findall(f"{SITEMAP}url")
            assert 1 <= len(urls) <= 4
            found += [(u.findtext(f"{SITEMAP}loc"), u.findtext(f"{SITEMAP}lastmod")) for u in urls]
        return found

    urls = [url for url, _ in listed()]
    posts = [f"https://gen.example.org/posts/post-{n:04d}/" for n in range(9, 0, -1)]
    assert urls[0] == "https://gen.example.org/"
    assert urls[1:10] == posts  # newest first
    assert urls[-1] == "https://gen.example.org/feeds.html"
    assert len(urls) == len(set(urls)) > 11  # the listing pages too
    assert dict(listed())[posts[4]] == "2012-01-05T09:00:00+00:00"

    # After an edit (the quick path), the post has its new date there, and the parts are
    # byte for byte those a cold build of the same site makes.
    post = tmp_path / "content/post-0005.md"
    post.write_text(post.read_text().replace("Body of post 5", "Corrected body of post 5"))
    assert run_cli("build", "--config", config, "--now", "2013-02-01T10:00:00+00:00").exit_code == 0
    assert dict(listed())[posts[4]] == "2013-02-01T10:00:00+00:00"
    quick = {p.name: p.read_bytes() for p in out.glob("sitemap*.xml")}
    shutil.rmtree(out)
    shutil.rmtree(tmp_path / ".wcitfeed-cache")
    assert run_cli("build", "--config", config, "--now", "2013-03-01").exit_code == 0
    assert {p.name: p.read_bytes() for p in out.glob("sitemap*.xml")} == quick
    assert len(quick) == 5  # the index and four parts


def test_compiled_templates_are_kept_and_compiled_again_once_edited(
    tmp_path: Path, run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build keeps the templates it compiled in its cache folder; the next one loads them
    without compiling, and compiles again only a template whose source changed."""
    config = make_generated_site(tmp_path, 12)
    shutil.copytree(THEME, tmp_path / "templates")
    config.write_text(
        config.read_text().replace(f'templates = "{THEME}"', 'templates = "templates"')
    )
    assert run_cli("build", "--config", config, "--now", "2013-01-01").exit_code == 0
    kept = tmp_path / ".wcitfeed-cache/templates/sandboxed"
    assert len(list(kept.glob("*.cache"))) >= 10

    compiled: list[str | None] = []
    compile_source = jinja2.Environment.compile

    def counted(self: jinja2.Environment, source: str, name: str | None = None, *args: Any) -> Any:
        compiled.append(name)
        return compile_source(self, source, name, *args)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    shutil.rmtree(tmp_path / "output")  # every page is made again
    assert run_cli("build", "--config", config, "--now", "2013-01-01").exit_code == 0
    assert compiled == []
    assert (tmp_path / "output/posts/post-0001/index.html").is_file()

    post = tmp_path / "templates/post.html"
    post.write_text(post.read_text().replace("<article", "<!-- edited -->\n<article", 1))
    assert run_cli("build", "--config", config, "--now", "2013-01-01").exit_code == 0
    assert compiled == ["post.html"]
    assert b"<!-- edited -->" in (tmp_path / "output/posts/post-0001/index.html").read_bytes()
