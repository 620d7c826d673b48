"""What a site chooses to write: the feed formats (Atom and RSS by default; the sites that
published JSON Feed before keep it, because their ledger says so, until their settings say
otherwise) and the fragment files (e-mail fragments only when asked for, or when the site
wrote them before)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest
from click.testing import Result

from tests.helpers import ALL_FORMATS, make_generated_site, snapshot

NOW = "2013-02-01T00:00:00+00:00"
LATER = "2013-03-01T00:00:00+00:00"


def build(run_cli: Callable[..., Result], site: Path, now: str = NOW) -> Result:
    return run_cli("build", "--config", site / "wcitfeed.toml", "--now", now)


def without_formats(site: Path) -> None:
    """Take the ``formats`` line out of the settings: the default applies."""
    config = site / "wcitfeed.toml"
    config.write_text(config.read_text().replace(ALL_FORMATS, ""))


def set_formats(site: Path, *formats: str) -> None:
    config = site / "wcitfeed.toml"
    config.write_text(f"formats = {json.dumps(list(formats))}\n" + config.read_text())


def ledger(site: Path) -> dict[str, dict[str, object]]:
    data: dict[str, dict[str, object]] = json.loads((site / "wcitfeed-ledger.json").read_text())
    return data


def json_feeds(site: Path) -> dict[str, bytes]:
    return {p: data for p, data in snapshot(site / "output").items() if p.endswith("feed.json")}


def cold_build(
    run_cli: Callable[..., Result], site: Path, root: Path, now: str
) -> dict[str, bytes]:
    """Build a copy of ``site`` from nothing (no output, no cache) and return its output."""
    shutil.copytree(site, root, ignore=shutil.ignore_patterns("output", ".wcitfeed-cache"))
    assert build(run_cli, root, now).exit_code == 0
    return snapshot(root / "output")


def test_a_new_site_gets_atom_and_rss_and_records_them(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    site = make_generated_site(tmp_path / "site", 60).parent
    without_formats(site)
    result = build(run_cli, site)
    assert result.exit_code == 0
    assert "Warning" not in result.output
    written = snapshot(site / "output")
    assert {"atom.xml", "rss.xml", "archive/1/atom.xml", "archive/1/rss.xml"} <= set(written)
    assert "tags/odd/atom.xml" in written
    assert not json_feeds(site)
    assert not any(b"feed+json" in data or b"feed.json" in data for data in written.values())
    assert ledger(site)[""] == {"formats": ["atom", "rss"], "email_fragments": False}

    # Asked for, JSON Feed comes, for the site, its archives and every tag.
    set_formats(site, "atom", "rss", "json")
    assert build(run_cli, site, LATER).exit_code == 0
    assert {"feed.json", "archive/1/feed.json", "tags/odd/feed.json"} <= set(json_feeds(site))
    assert ledger(site)[""] == {"formats": ["atom", "rss", "json"], "email_fragments": False}


def test_a_site_that_published_json_feed_keeps_it_once_the_default_changes(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    # A site built before the ledger had a site record, when JSON Feed was a default format:
    # the same output and ledger, less the site record.
    site = make_generated_site(tmp_path / "site", 60).parent
    assert build(run_cli, site).exit_code == 0
    without_formats(site)
    old = ledger(site)
    del old[""]
    (site / "wcitfeed-ledger.json").write_text(json.dumps(old, indent=1, sort_keys=True) + "\n")
    published = json_feeds(site)
    assert {"feed.json", "archive/1/feed.json", "tags/odd/feed.json"} <= set(published)

    result = build(run_cli, site, LATER)
    assert result.exit_code == 0
    warnings = [line for line in result.output.splitlines() if line.startswith("Warning")]
    # The site also wrote e-mail fragments, a default then too: it keeps them, said once.
    assert len(warnings) == 2
    assert "keeps its published json feeds" in warnings[0]
    assert 'formats = ["atom", "rss", "json"]' in warnings[0]
    assert "keeps writing them" in warnings[1]
    assert json_feeds(site) == published
    assert ledger(site)[""] == {"formats": ["atom", "rss", "json"], "email_fragments": True}
    assert {k: v for k, v in ledger(site).items() if k} == old
    # Said once: the ledger now holds the formats.
    again = build(run_cli, site, LATER)
    assert "Warning" not in again.output
    assert json_feeds(site) == published

    # Settings that drop JSON Feed win, and the ledger follows them.
    set_formats(site, "atom", "rss")
    assert build(run_cli, site, LATER).exit_code == 0
    assert not json_feeds(site)
    assert ledger(site)[""] == {"formats": ["atom", "rss"], "email_fragments": True}
    # Without the line again, the site goes on with what it published last.
    without_settings = (site / "wcitfeed.toml").read_text().split("\n", 1)[1]
    (site / "wcitfeed.toml").write_text(without_settings)
    assert build(run_cli, site, LATER).exit_code == 0
    assert not json_feeds(site)


def test_formats_settled_by_a_ledger_edit_build_what_a_cold_build_does(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    site = make_generated_site(tmp_path / "site", 60).parent
    without_formats(site)
    assert build(run_cli, site).exit_code == 0
    data = ledger(site)
    data[""] = {"formats": ["atom", "json"]}
    (site / "wcitfeed-ledger.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    assert build(run_cli, site, LATER).exit_code == 0
    incremental = snapshot(site / "output")
    assert "feed.json" in incremental and "rss.xml" not in incremental
    assert incremental == cold_build(run_cli, site, tmp_path / "cold", LATER)


def test_a_damaged_site_record_is_named_and_nothing_is_written(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    site = make_generated_site(tmp_path / "site", 5).parent
    assert build(run_cli, site).exit_code == 0
    data = ledger(site)
    data[""] = {"formats": ["atom", "gopher"]}
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    (site / "wcitfeed-ledger.json").write_text(text)
    before = snapshot(site)

    result = build(run_cli, site, LATER)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    message = result.output.strip()
    assert message.count("\n") == 0
    assert "wcitfeed-ledger.json:2:" in message
    assert "atom, rss, json" in message
    assert snapshot(site) == before


def test_fragment_files_can_be_left_out_and_brought_back(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    site = make_generated_site(tmp_path / "site", 30).parent
    config = site / "wcitfeed.toml"
    config.write_text("email_fragments = true\n# choices\n" + config.read_text())
    assert build(run_cli, site).exit_code == 0
    everything = snapshot(site / "output")
    assert sum(p.startswith("fragments/") for p in everything) == 30
    assert sum(p.startswith("email/") for p in everything) == 30

    def written_with(settings: str) -> dict[str, bytes]:
        config = site / "wcitfeed.toml"
        config.write_text(settings + config.read_text().split("# choices\n")[-1])
        assert build(run_cli, site, LATER).exit_code == 0
        return snapshot(site / "output")

    # Without them, every other file is as it was; the manifest lists what is there.
    for settings, gone in (
        ("fragments = false\nemail_fragments = true\n", ("fragments/",)),
        ("email_fragments = false\n", ("email/",)),
        ("fragments = false\nemail_fragments = false\n", ("fragments/", "email/")),
    ):
        written = written_with(settings + "# choices\n")
        manifest = ".wcitfeed-manifest.json"
        kept = {p: b for p, b in everything.items() if not p.startswith(gone) and p != manifest}
        assert {p: b for p, b in written.items() if p != manifest} == kept
        assert not any(gone[0] in line for line in json.loads(written[manifest]))
    # Asked for again, they come back as they were, as a cold build makes them.
    assert written_with("email_fragments = true\n# choices\n") == everything
    assert everything == cold_build(run_cli, site, tmp_path / "cold", LATER)


def test_new_sites_write_no_email_fragments_and_older_ones_keep_theirs(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    fresh = make_generated_site(tmp_path / "fresh", 5).parent
    result = build(run_cli, fresh)
    assert result.exit_code == 0
    assert "Warning" not in result.output
    assert not [p for p in snapshot(fresh / "output") if p.startswith("email/")]
    assert ledger(fresh)[""]["email_fragments"] is False

    # A site built by a version that wrote them by default, whose ledger says nothing of
    # them: it keeps them, and is told once.
    older = make_generated_site(tmp_path / "older", 5, settings="email_fragments = true\n")
    assert build(run_cli, older.parent).exit_code == 0
    written = {p for p in snapshot(older.parent / "output") if p.startswith("email/")}
    assert len(written) == 5
    older.write_text(older.read_text().replace("email_fragments = true\n", ""))
    data = ledger(older.parent)
    del data[""]["email_fragments"]
    (older.parent / "wcitfeed-ledger.json").write_text(json.dumps(data, indent=1) + "\n")
    result = build(run_cli, older.parent, LATER)
    assert result.exit_code == 0
    warnings = [line for line in result.output.splitlines() if line.startswith("Warning")]
    assert len(warnings) == 1
    assert "'email_fragments' is unset" in warnings[0]
    assert "email_fragments = true" in warnings[0]
    assert {p for p in snapshot(older.parent / "output") if p.startswith("email/")} == written
    assert ledger(older.parent)[""]["email_fragments"] is True
    again = build(run_cli, older.parent, LATER)
    assert "Warning" not in again.output
    # Settings that stop them win, and the ledger follows.
    older.write_text("email_fragments = false\n" + older.read_text())
    assert build(run_cli, older.parent, LATER).exit_code == 0
    assert not [p for p in snapshot(older.parent / "output") if p.startswith("email/")]
    assert ledger(older.parent)[""]["email_fragments"] is False


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (
            {"email_fragments": "yes"},
            ["wcitfeed-ledger.json:3: 'email_fragments' of the site's record must be true"],
        ),
        (
            # A field a newer version wrote, beside a wrong one: each on its own line.
            {"colour": "blue", "formats": ["atom", "gopher"]},
            [
                "wcitfeed-ledger.json:3: 'colour' is not a field of the site's record that "
                "this wcitfeed knows (a newer version wrote it?)",
                "wcitfeed-ledger.json:2: 'formats' of the site's record must be a list",
            ],
        ),
    ],
    ids=["email-fragments", "newer-version"],
)
def test_each_wrong_field_of_the_site_record_is_named_and_nothing_is_written(
    tmp_path: Path, run_cli: Callable[..., Result], record: dict[str, object], expected: list[str]
) -> None:
    site = make_generated_site(tmp_path / "site", 3).parent
    assert build(run_cli, site).exit_code == 0
    data = ledger(site)
    data[""].update(record)
    (site / "wcitfeed-ledger.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    before = snapshot(site)
    result = build(run_cli, site, LATER)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == len(expected), result.output
    for fragment in expected:
        assert any(fragment in line for line in lines), result.output
    assert snapshot(site) == before


def site_links(output: dict[str, bytes], base: str) -> set[tuple[str, str]]:
    """Return (file, address) for each address below ``base`` that a page, feed or sitemap
    links to: HTML and Atom links, RSS links, sitemap locations, JSON Feed URLs. Not ids:
    an Atom id names a feed, it is not a link."""
    patterns = [rb'(?:href|src)="([^"]+)"', rb"<link>([^<]+)</link>", rb"<loc>([^<]+)</loc>"]
    found = set()
    for path, data in output.items():
        if path.endswith(".json") and not path.startswith("."):
            feed = json.loads(data)
            urls = [feed.get("home_page_url"), feed.get("feed_url"), feed.get("next_url")]
            urls += [item.get("url") for item in feed.get("items", [])]
            found |= {(path, url) for url in urls if url and url.startswith(base)}
        elif path.endswith((".html", ".xml")):
            for pattern in patterns:
                for url in re.findall(pattern, data):
                    if url.decode().startswith(base):
                        found.add((path, url.decode()))
    return found


def broken_links(output: dict[str, bytes], base: str) -> list[tuple[str, str]]:
    """Return the links below ``base`` that lead to no file of ``output``, and the links of
    pages that are neither absolute nor to a part of the page (``href="None"``, say)."""
    broken = [
        (path, url.decode())
        for path, data in output.items()
        if path.endswith(".html")
        for url in re.findall(rb'(?:href|src)="([^"]*)"', data)
        if not url.startswith((b"https://", b"http://", b"#", b"mailto:"))
    ]
    for path, url in sorted(site_links(output, base)):
        rel = url[len(base) :].split("#")[0]
        if not (rel == "" or rel.endswith("/")) and rel in output:
            continue
        if (rel + "index.html") not in output:
            broken.append((path, url))
    return broken


def test_listing_pages_can_be_left_out_and_nothing_links_to_them(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    """Under listings = false no category, tag or "all updates" page is written and no page,
    feed or sitemap links to one; the feeds are all still there, under the same ids. Asked
    for again, the listings come back as a cold build makes them."""
    site = make_generated_site(tmp_path / "site", 30).parent
    base = "https://gen.example.org/"
    assert build(run_cli, site).exit_code == 0
    everything = snapshot(site / "output")
    listing = ("categories/", "tags/", "updates/")
    pages = {p for p in everything if p.startswith(listing) and p.endswith(".html")}
    assert any(p.startswith("tags/") for p in pages) and any("/page/2/" in p for p in pages)
    assert len(site_links(everything, base)) > 100
    assert broken_links(everything, base) == []

    config = site / "wcitfeed.toml"
    settings = config.read_text()
    config.write_text("listings = false\n" + settings)
    assert build(run_cli, site, LATER).exit_code == 0
    written = snapshot(site / "output")
    assert not any(p.startswith(listing) and p.endswith(".html") for p in written)
    assert broken_links(written, base) == []
    feeds = {p for p in everything if p.endswith(("atom.xml", "rss.xml", "feed.json"))}
    assert feeds == {p for p in written if p.endswith(("atom.xml", "rss.xml", "feed.json"))}
    for path in feeds:
        if path.endswith("atom.xml"):
            before, after = (feedparser.parse(out[path]) for out in (everything, written))
            assert after.feed.id == before.feed.id, path
            assert [e.id for e in after.entries] == [e.id for e in before.entries], path
    post = next(p for p in written if p.startswith("posts/"))
    assert b'rel="tag"' in everything[post] and b'rel="tag"' not in written[post]

    config.write_text(settings)
    assert build(run_cli, site, LATER).exit_code == 0
    again = snapshot(site / "output")
    assert again == cold_build(run_cli, site, tmp_path / "cold", LATER)
    assert {p for p in again if p.startswith(listing) and p.endswith(".html")} == pages
