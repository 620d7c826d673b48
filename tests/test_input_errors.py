"""Each kind of bad input gives the exact one-line message a user sees, and exit code 1."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.helpers import GOOD, make_site

INVALID = Path(__file__).resolve().parent / "sites" / "invalid"


@pytest.mark.parametrize("on_every_core", [False, True], ids=["read-here", "read-on-every-core"])
def test_every_bad_input_class_in_one_run(
    tmp_path: Path,
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    on_every_core: bool,
) -> None:
    """tests/sites/invalid/content holds one file per class of bad input; expected.json holds
    the exact line each must give. One build reports them all, and writes nothing, whether
    the posts are read in this process or (as in a large cold build) by worker processes."""
    if on_every_core:
        monkeypatch.setattr("wcitfeed.content.PARALLEL_READ", 1)
    expected = json.loads((INVALID / "expected.json").read_text(encoding="utf-8"))
    posts = {p.name: p.read_bytes() for p in (INVALID / "content").iterdir()}
    assert sorted(posts) == sorted(expected)
    config = make_site(tmp_path, posts)
    monkeypatch.chdir(tmp_path)
    result = run_cli("build", "--config", config)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Error: content/{expected[name]}" for name in sorted(expected)
    ]
    assert not (tmp_path / "output").exists()


def test_duplicate_ids_name_both_files(
    tmp_path: Path, run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_site(tmp_path, {"a.md": GOOD, "b.md": GOOD.replace("Good", "Other")})
    monkeypatch.chdir(tmp_path)
    result = run_cli("build", "--config", config)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Error: content/b.md: 'id' 'urn:uuid:good' is already used by {tmp_path}/content/a.md "
        "(give each post its own)"
    ]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("bom.md", b"\xef\xbb\xbf" + GOOD.encode()),
        ("crlf.md", GOOD.replace("\n", "\r\n").encode()),
    ],
)
def test_byte_order_mark_and_crlf_are_accepted(
    name: str, data: bytes, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    config = make_site(tmp_path, {name: data})
    result = run_cli("build", "--config", config)
    assert result.exit_code == 0, result.output
    atom = (tmp_path / "output" / "atom.xml").read_text(encoding="utf-8")
    assert "<title>Good</title>" in atom
    assert "&lt;p&gt;Body.&lt;/p&gt;" in atom


def test_template_syntax_error_names_template_and_line(
    tmp_path: Path, run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_site(tmp_path, {"post.md": GOOD})
    (tmp_path / "templates" / "entry.html").write_text("ok\n{% if %}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_cli("build", "--config", config)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: templates/entry.html:2: template syntax error: Expected an expression, "
        "got 'end of statement block'"
    ]


def test_undefined_template_variable_names_template_and_line(
    tmp_path: Path, run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_site(tmp_path, {"post.md": GOOD})
    (tmp_path / "templates" / "entry.html").write_text(
        "{{ body_html }}\n<p>{{ post.subtitle }}</p>\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    result = run_cli("build", "--config", config)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: templates/entry.html:2: uses 'subtitle', which is not defined there (check "
        "the spelling, or wrap it in {% if … is defined %})"
    ]


def test_date_without_offset_takes_the_site_timezone(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    config = make_site(
        tmp_path,
        {
            "naive.md": GOOD.replace("2012-12-07T19:00:00+04:00", "2012-12-07 19:00:00"),
            "day.md": GOOD.replace("urn:uuid:good", "urn:uuid:day").replace(
                "2012-12-07T19:00:00+04:00", "2012-12-08"
            ),
        },
    )
    assert run_cli("build", "--config", config).exit_code == 0
    atom = (tmp_path / "output" / "atom.xml").read_text(encoding="utf-8")
    assert "<published>2012-12-07T19:00:00+04:00</published>" in atom
    assert "<published>2012-12-08T00:00:00+04:00</published>" in atom


def test_huge_post_is_refused(
    tmp_path: Path, run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_site(tmp_path, {"post.md": GOOD.replace("Body.", "word " * 500)})
    config.write_text(
        config.read_text().replace("[categories]", "max_post_bytes = 1000\n[categories]")
    )
    monkeypatch.chdir(tmp_path)
    result = run_cli("build", "--config", config)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: content/post.md:1: is larger than the limit of 1000 bytes (max_post_bytes) or "
        "has more than 64 KiB of front matter; split it, or raise max_post_bytes"
    ]


def test_symlink_outside_content_is_refused(
    tmp_path: Path, run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_site(tmp_path, {"good.md": GOOD})
    secret = tmp_path / "secret.md"
    secret.write_text(GOOD.replace("urn:uuid:good", "urn:uuid:secret"))
    (tmp_path / "content" / "leak.md").symlink_to(secret)
    (tmp_path / "content" / "inside.md").symlink_to(tmp_path / "content" / "good.md")
    monkeypatch.chdir(tmp_path)
    result = run_cli("build", "--config", config)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Error: content/leak.md: is a symbolic link to {secret}, outside the content folder "
        "(copy the file in instead)"
    ]


def test_skip_invalid_publishes_the_good_posts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    make_site(
        tmp_path,
        {
            "good.md": GOOD,
            "bad.md": GOOD.replace("urn:uuid:good", "urn:uuid:bad").replace("title: Good\n", ""),
        },
    )
    proc = subprocess.run(
        [sys.executable, "-m", "wcitfeed", "build", "--skip-invalid"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 4
    assert proc.stderr.splitlines() == [
        "Error: content/bad.md:1: 'title' is missing (add title: title (required)) "
        "(left out of this build)"
    ]
    atom = (tmp_path / "output/atom.xml").read_text()
    assert "<title>Good</title>" in atom
    assert "urn:uuid:bad" not in atom
    # The next run looks again (and still says so) instead of taking the no-change path.
    again = subprocess.run(
        [sys.executable, "-m", "wcitfeed", "build", "--skip-invalid"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 4
    assert again.stderr == proc.stderr
    assert (tmp_path / "output/atom.xml").read_text() == atom


def test_check_json_lists_every_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    import subprocess
    import sys

    make_site(
        tmp_path,
        {
            "a.md": GOOD.replace("title: Good\n", ""),
            "b.md": GOOD.replace("urn:uuid:good", "urn:uuid:b").replace(
                "2012-12-07T19:00:00+04:00", "never"
            ),
        },
    )
    proc = subprocess.run(
        [sys.executable, "-m", "wcitfeed", "check", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["ok"] is False
    assert [(p["path"], p["line"], p["field"]) for p in report["problems"]] == [
        ("content/a.md", 1, "title"),
        ("content/b.md", 4, "date"),
    ]
    assert not (tmp_path / "output").exists()
