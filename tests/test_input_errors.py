"""Each kind of bad input gives the exact one-line message a user sees, and exit code 1."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

SETTINGS = """\
title = "T"
base_url = "https://example.org/"
timezone = "Asia/Dubai"
templates = "templates"
[categories]
periodic = "Periodic Updates"
"""
GOOD = "---\nid: urn:uuid:good\ntitle: Good\ndate: 2012-12-07T19:00:00+04:00\n---\nBody.\n"


def make_site(root: Path, posts: dict[str, bytes | str]) -> Path:
    (root / "content").mkdir(parents=True)
    (root / "wcitfeed.toml").write_text(SETTINGS, encoding="utf-8")
    templates = Path(__file__).resolve().parent.parent / "templates"
    (root / "templates").mkdir()
    for template in templates.iterdir():
        (root / "templates" / template.name).write_bytes(template.read_bytes())
    for name, text in posts.items():
        path = root / "content" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return root / "wcitfeed.toml"


CASES = {
    "no front matter": (
        "Just text.\n",
        "post.md:1: has no front matter (begin the file with a line '---', then title:, "
        "date:, id:, then a line '---')",
    ),
    "unclosed front matter": (
        "---\ntitle: x\n",
        "post.md:1: front matter is not closed (add a line '---' after the last field)",
    ),
    "yaml syntax error, line counted in the file": (
        "---\nid: a\ntitle: x\ndate: [2012\n---\nBody.\n",
        "post.md:5: front matter is not valid YAML: did not find expected ',' or ']' "
        "(while parsing a flow sequence that starts on line 4)",
    ),
    "not a mapping": (
        "---\n- a\n- b\n---\nBody.\n",
        "post.md:1: front matter must be 'key: value' lines, not a single value",
    ),
    "unknown key with a hint": (
        GOOD.replace("title: Good", "title: Good\ntilte: Oops"),
        "post.md:4: 'tilte' is not a front-matter field (did you mean 'title'?)",
    ),
    "own keys belong under extra": (
        GOOD.replace("title: Good", "title: Good\nmood: calm"),
        "post.md:4: 'mood' is not a front-matter field (put your own keys under extra:)",
    ),
    "impossible date": (
        GOOD.replace("2012-12-07T19:00:00+04:00", "'2012-02-30T10:00:00+04:00'"),
        "post.md:4: 'date' '2012-02-30T10:00:00+04:00' is not a date "
        "(write 2012-12-07T19:00:00+04:00)",
    ),
    "date of the wrong type": (
        GOOD.replace("2012-12-07T19:00:00+04:00", "[1, 2]"),
        "post.md:4: 'date' must be a date, not list (write 2012-12-07T19:00:00+04:00)",
    ),
    "title of the wrong type": (
        GOOD.replace("title: Good", "title: {a: 1}"),
        "post.md:3: 'title' must be text, not dict",
    ),
    "updated before date": (
        GOOD.replace("---\nBody", "updated: 2012-12-01T00:00:00+04:00\n---\nBody"),
        "post.md:5: 'updated' is before 'date' (an update cannot precede publication)",
    ),
    "slug with unsafe characters": (
        GOOD.replace("title: Good", "title: Good\nslug: ../../etc"),
        "post.md:4: 'slug' '../../etc' may hold only a-z, 0-9, '-' and '_' (write slug: my-post)",
    ),
    "unknown category": (
        GOOD.replace("title: Good", "title: Good\ncategory: periodc"),
        "post.md:4: 'category' 'periodc' is not a category of this site (did you mean 'periodic'?)",
    ),
    "empty body": (
        GOOD.replace("Body.\n", "\n"),
        "post.md:5: has no text after the front matter (write the update below the closing '---')",
    ),
    "draft that is not a boolean": (
        GOOD.replace("title: Good", "title: Good\ndraft: maybe"),
        "post.md:4: 'draft' must be true or false",
    ),
    "not UTF-8": (
        GOOD.replace("Body.", "Caf\xe9.").encode("cp1252"),
        "post.md:6: is not UTF-8 (convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8, and save again)",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_post_message(
    case: str, tmp_path: Path, run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    text, message = CASES[case]
    config = make_site(tmp_path, {"post.md": text})
    monkeypatch.chdir(tmp_path)
    result = run_cli("build", "--config", config)
    assert result.exit_code == 1
    assert result.output.splitlines() == [f"Error: content/{message}"]
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
        "Error: templates/entry.html:2: 'wcitfeed.model.Post object' has no attribute "
        "'subtitle' (check the spelling, or wrap it in {% if … is defined %})"
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
