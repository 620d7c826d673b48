"""The command line as a user and a cron job meet it: help, exit codes, messages, quiet runs."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.helpers import make_generated_site, snapshot_with_times
from wcitfeed import __version__
from wcitfeed.cli import main


@pytest.mark.parametrize("command", [[], *[[name] for name in main.commands]])
def test_every_command_has_help_with_an_example(
    command: list[str], run_cli: Callable[..., Result]
) -> None:
    name = command[0] if command else "build"
    for flag in ("-h", "--help"):
        result = run_cli(*command, flag)
        assert result.exit_code == 0
        assert "Example" in result.output
        # Each example line runs this very command (options may follow, or come from cron).
        examples = result.output.split("Example", 1)[1].split("\n\n")[0].splitlines()[1:]
        assert examples, result.output
        for line in examples:
            if line.strip() and not line.strip().startswith("--"):
                assert f"wcitfeed {name}" in line, line


def test_version_and_module_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "wcitfeed", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"wcitfeed, version {__version__}"


def test_build_writes_feeds_and_one_fragment_per_post(
    site_copy: Path, run_cli: Callable[..., Result]
) -> None:
    result = run_cli("build", "--config", site_copy / "wcitfeed.toml")
    assert result.exit_code == 0, result.output
    out = site_copy / "output"
    assert (out / "atom.xml").is_file()
    assert (out / "rss.xml").is_file()
    posts = sorted(p.stem for p in (site_copy / "content").rglob("*.md"))
    assert sorted(p.stem for p in (out / "fragments").glob("*.html")) == posts
    assert result.output.startswith("Built 6 posts")


def test_second_build_is_silent_and_rewrites_nothing(
    site_copy: Path, run_cli: Callable[..., Result]
) -> None:
    config = site_copy / "wcitfeed.toml"
    assert run_cli("build", "--config", config).exit_code == 0
    before = snapshot_with_times(site_copy / "output")
    again = run_cli("build", "--config", config)
    assert again.exit_code == 0
    assert again.output == ""
    assert snapshot_with_times(site_copy / "output") == before


def test_builds_in_two_places_are_byte_identical(site_copy: Path, tmp_path: Path) -> None:
    outputs = []
    for name in ("one", "two"):
        out = tmp_path / name
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "wcitfeed",
                "build",
                "--config",
                str(site_copy / "wcitfeed.toml"),
                "--output",
                str(out),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "Built 6 posts" in proc.stdout
        outputs.append({k: v[0] for k, v in snapshot_with_times(out).items()})
    assert outputs[0] == outputs[1]


def test_bad_posts_are_all_reported_and_output_is_untouched(
    site_copy: Path, run_cli: Callable[..., Result]
) -> None:
    config = site_copy / "wcitfeed.toml"
    assert run_cli("build", "--config", config).exit_code == 0
    before = snapshot_with_times(site_copy / "output")

    content = site_copy / "content"
    bad_title = content / "periodic" / "no-title.md"
    bad_title.write_text(
        "---\nid: urn:uuid:1\ndate: 2012-12-10T10:00:00+04:00\n---\nText.\n", encoding="utf-8"
    )
    bad_date = content / "issues" / "bad-date.md"
    bad_date.write_text(
        "---\nid: urn:uuid:2\ntitle: Bad date\ndate: 10 December\n---\nText.\n", encoding="utf-8"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "wcitfeed", "build", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=site_copy,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "Error: content/issues/bad-date.md:4: 'date' '10 December' is not a date "
        "(write 2012-12-07T19:00:00+04:00)",
        "Error: content/periodic/no-title.md:1: 'title' is missing (add title: title (required))",
    ]
    assert snapshot_with_times(site_copy / "output") == before


def test_unknown_setting_names_file_line_and_suggestion(
    site_copy: Path, run_cli: Callable[..., Result]
) -> None:
    config = site_copy / "wcitfeed.toml"
    text = config.read_text(encoding="utf-8").replace('language = "en"', "language = 5")
    config.write_text("feed_limt = 10\n" + text, encoding="utf-8")
    result = run_cli("build", "--config", config)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(
        "wcitfeed.toml:1: 'feed_limt' is not a setting (did you mean 'feed_limit'?)"
    )
    assert lines[1].endswith(
        "wcitfeed.toml:8: 'language' must be a string, not int (write language = \"text\")"
    )


def test_missing_settings_file(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("build", "--config", tmp_path / "nope.toml")
    assert result.exit_code == 1
    assert "nope.toml: settings file not found (create it, or pass --config PATH)" in result.output


def test_check_writes_nothing(site_copy: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("check", "--config", site_copy / "wcitfeed.toml")
    assert result.exit_code == 0
    assert result.output.startswith("OK: 6 posts")
    assert not (site_copy / "output").exists()


def test_small_things_a_user_trips_on(
    site_copy: Path, run_cli: Callable[..., Result], tmp_path: Path
) -> None:
    config = site_copy / "wcitfeed.toml"
    both = run_cli("build", "--config", config, "-q", "-v")
    assert both.exit_code == 2
    assert "choose one" in both.output

    one = make_generated_site(tmp_path / "one", 1)
    assert run_cli("build", "--config", one, "--now", "2013-01-01").output.startswith(
        "Built 1 post into "
    )
    assert run_cli("check", "--config", one, "--now", "2013-01-01").output.startswith(
        "OK: 1 post, "
    )

    # A script reading --json gets JSON when the build fails too, with the exit code.
    (site_copy / "content/periodic/broken.md").write_text("---\ntitle: [unclosed\n---\nx\n")
    failed = run_cli("build", "--config", config, "--json")
    assert failed.exit_code == 1
    report = json.loads(failed.output)
    assert report["ok"] is False
    assert report["exit"] == 1
    assert report["problems"][0]["path"].endswith("broken.md")
    assert "front matter is not valid YAML" in report["problems"][0]["message"]
