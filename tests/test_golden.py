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


@pytest.mark.parametrize("site", ["basic"])
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


def test_golden_feeds_pass_every_checker() -> None:
    """The expected files themselves are valid: a golden file must never enshrine a bad feed."""

    proc = check_feeds(feed_files(SITES / "basic" / "expected"))
    assert proc.returncode == 0, proc.stdout[-4000:]
