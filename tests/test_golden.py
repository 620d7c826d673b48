"""A small fixture site builds to exactly the expected files, byte for byte.

Run ``pytest --regen-golden`` after an intended change to output, and review the diff.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import SITES
from tests.helpers import THEME, check_feeds, feed_files


def files_below(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize("site", ["basic", "babel"])
def test_fixture_site_matches_golden_files(
    site: str, tmp_path: Path, run_cli: Callable[..., Result], request: pytest.FixtureRequest
) -> None:
    # Built from a copy: a build writes its ledger and cache beside the settings file.
    copy = tmp_path / site
    shutil.copytree(SITES / site, copy, ignore=shutil.ignore_patterns("expected"))
    out = tmp_path / "output"
    result = run_cli(
        "build",
        "--config",
        copy / "wcitfeed.toml",
        "--output",
        out,
        "--templates",
        THEME,
    )
    assert result.exit_code == 0, result.output
    expected_dir = SITES / site / "expected"
    built = files_below(out)
    if request.config.getoption("--regen-golden"):
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(out, expected_dir)
        pytest.skip(f"rewrote tests/sites/{site}/expected: review the diff")
    expected = files_below(expected_dir)
    assert sorted(built) == sorted(expected)
    for name, data in expected.items():
        assert built[name] == data, f"{name} differs from tests/sites/{site}/expected/{name}"


@pytest.mark.parametrize("site", ["basic", "babel"])
def test_golden_feeds_pass_every_checker(site: str) -> None:
    """The expected files themselves are valid: a golden file must never enshrine a bad feed."""

    proc = check_feeds(feed_files(SITES / site / "expected"))
    assert proc.returncode == 0, proc.stdout[-4000:]


BABEL = SITES / "babel" / "expected"


def test_french_dates_and_strings_and_a_date_without_a_time() -> None:
    page = (BABEL / "posts/cafe-a-paris/index.html").read_text("utf-8")
    assert '<html lang="fr">' in page
    assert ">vendredi 14 décembre 2012</time>" in page
    assert "00:00" not in page
    assert "<span>S\u2019abonner :</span>" in page
    assert "Mots-clés :" in page
    timed = (BABEL / "posts/kalemera-kosme/index.html").read_text("utf-8")
    assert ">lundi 10 décembre 2012, 09:30 (UTC+01:00)</time>" in timed


def test_non_latin_titles_get_readable_distinct_slugs() -> None:
    slugs = sorted(p.name for p in (BABEL / "posts").iterdir())
    assert slugs == ["cafe-a-paris", "kalemera-kosme", "ri-ben-yu-notaitoru"]
    assert (BABEL / "tags/cafe/index.html").is_file()


def test_code_is_highlighted_on_pages_and_keeps_its_class_in_feeds() -> None:
    page = (BABEL / "posts/ri-ben-yu-notaitoru/index.html").read_text("utf-8")
    assert '<div class="highlight"><pre><span></span><code><span class="k">def</span>' in page
    assert "&lt;&amp;&gt;" in page  # the code's own characters, escaped once
    atom = (BABEL / "atom.xml").read_text("utf-8")
    assert '&lt;code class="language-python"&gt;' in atom
    assert ".highlight .k {" in (BABEL / "style.css").read_text("utf-8")


def test_footnotes_render_on_pages_and_in_feeds() -> None:
    page = (BABEL / "posts/kalemera-kosme/index.html").read_text("utf-8")
    note = "https://carnet.example.fr/posts/kalemera-kosme/#fn-1"
    assert f'<sup class="footnote-ref"><a href="{note}" id="fnref-1"' in page
    assert '<li id="fn-1">' in page and "La note, rendue en bas du billet." in page
    assert "[^1]" not in page
    atom = (BABEL / "atom.xml").read_text("utf-8")
    assert '&lt;li id="fn-1"&gt;' in atom
