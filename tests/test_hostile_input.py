"""Hostile or unlucky input: a located one-line message and its exit code, never a
traceback, and nothing published changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from jinja2.sandbox import SandboxedEnvironment

from tests.helpers import make_generated_site, published_state, snapshot, with_own_templates
from wcitfeed import render
from wcitfeed.cli import main

POST = (
    "---\nid: urn:uuid:hostile\ntitle: Hostile\ndate: 2012-12-07T19:00:00+04:00\n"
    "{extra}---\nBody.\n"
)


def run(*args: str | Path) -> Result:
    """Run the CLI as a user does: exceptions become a traceback in the output."""
    return CliRunner().invoke(main, [str(a) for a in args])


def site_with(tmp_path: Path, extra: str, settings: str = "") -> Path:
    config = make_generated_site(tmp_path, 3, settings=settings)
    assert run("build", "--config", config, "--now", "2013-01-01").exit_code == 0
    (tmp_path / "content/hostile.md").write_text(POST.format(extra=extra), encoding="utf-8")
    return config


def assert_refused(result: Result, code: int, *fragments: str) -> None:
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


@pytest.mark.parametrize(
    ("extra", "line", "message"),
    [
        (
            "author: {name: X, uri: 'javascript:alert(1)'}\n",
            5,
            "'author' uri 'javascript:alert(1)' must be an http(s) URL",
        ),
        (
            'author: {name: X, email: "x@example.org\\r\\nBcc: all@example.org"}\n',
            5,
            "'author' email 'x@example.org\\r\\nBcc: all@example.org' is not an e-mail address",
        ),
        ("author: {name: X, email: [1, 2]}\n", 5, "'author' email [1, 2] is not an e-mail"),
        ("updated: 2012-02-30\n", 5, "'updated' '2012-02-30' is not a date"),
        ("updated: 0001-01-01T00:00:00+00:00\n", 5, "'updated' '0001-01-01' is out of range"),
    ],
    ids=["javascript-uri", "crlf-email", "list-email", "impossible-date", "year-one"],
)
def test_bad_values_name_file_line_and_field(
    tmp_path: Path, extra: str, line: int, message: str
) -> None:
    config = site_with(tmp_path, extra)
    before = published_state(tmp_path)
    result = run("build", "--config", config, "--now", "2013-02-01")
    assert_refused(result, 1, f"content/hostile.md:{line}: {message}")
    assert published_state(tmp_path) == before


def test_an_impossible_unquoted_publication_date_is_located(tmp_path: Path) -> None:
    config = make_generated_site(tmp_path, 1)
    (tmp_path / "content/bad.md").write_text(
        "---\nid: urn:uuid:bad\ntitle: Bad\ndate: 2012-02-30\n---\nBody.\n", encoding="utf-8"
    )
    result = run("build", "--config", config, "--now", "2013-01-01")
    assert_refused(result, 1, "content/bad.md:4: 'date' '2012-02-30' is not a date (write")


def test_a_template_cannot_run_commands(tmp_path: Path) -> None:
    config = make_generated_site(tmp_path, 2)
    templates = with_own_templates(config)
    marker = tmp_path / "ran"
    attack = "{{ cycler.__init__.__globals__.os.popen('touch " + str(marker) + "').read() }}\n"
    fragment = templates / "fragment.html"
    fragment.write_text(attack + fragment.read_text(encoding="utf-8"), encoding="utf-8")
    result = run("build", "--config", config, "--now", "2013-01-01")
    assert_refused(result, 1, "templates/fragment.html:1: template error: ", "unsafe")
    assert not marker.exists()
    assert not (tmp_path / "output").exists()


@pytest.mark.parametrize(
    "route",
    [
        "post.__class__.__init__.__globals__",
        "site.__class__.__init__.__globals__",
        "site.__dataclass_fields__",
    ],
)
def test_a_template_cannot_reach_internals_through_wcitfeed_objects(
    tmp_path: Path, route: str
) -> None:
    # The sandbox decides for wcitfeed's own objects by the attribute's name alone
    # (render.Sandbox): every name starting with "_" stays out of reach.
    config = make_generated_site(tmp_path, 2)
    fragment = with_own_templates(config) / "fragment.html"
    fragment.write_text(
        "{{ " + route + " }}\n" + fragment.read_text(encoding="utf-8"), encoding="utf-8"
    )
    result = run("build", "--config", config, "--now", "2013-01-01")
    assert_refused(result, 1, "templates/fragment.html:1: template error: ", "unsafe")
    assert not (tmp_path / "output").exists()


def test_only_the_bundled_theme_renders_outside_the_sandbox_and_the_same(
    tmp_path: Path,
) -> None:
    # A site with no templates of its own gets the bundled theme without the sandbox's
    # checks; a site with any template file of its own, even a copy of that very theme,
    # gets the sandbox. Both give the same bytes.
    bare = make_generated_site(tmp_path / "bare", 12)
    copied = make_generated_site(tmp_path / "copied", 12)
    own = with_own_templates(copied)
    assert not isinstance(render.make_environment(render.THEME), SandboxedEnvironment)
    assert isinstance(render.make_environment(own), SandboxedEnvironment)
    for config in (bare, copied):
        assert run("build", "--config", config, "--now", "2013-01-01").exit_code == 0
    made = snapshot(tmp_path / "bare/output")
    assert len(made) > 40
    assert made == snapshot(tmp_path / "copied/output")


def test_a_template_runtime_error_is_located(tmp_path: Path) -> None:
    config = make_generated_site(tmp_path, 1)
    page = with_own_templates(config) / "post.html"
    page.write_text("\n{{ 1 // 0 }}\n" + page.read_text(encoding="utf-8"), encoding="utf-8")
    result = run("build", "--config", config, "--now", "2013-01-01")
    assert_refused(result, 1, "templates/post.html:2: template error: ZeroDivisionError")


def test_new_never_writes_outside_the_content_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_generated_site(tmp_path / "site", 1)
    monkeypatch.chdir(tmp_path / "site")
    outside = tmp_path / "elsewhere"
    for category in (str(outside / "x"), "../elsewhere", "a/b"):
        result = run("new", "Hello", "--category", category)
        assert_refused(result, 1, "is not a category key")
    assert not outside.exists()
    assert sorted(p.name for p in (tmp_path / "site/content").iterdir()) == ["post-0001.md"]


def test_lenient_tags_of_any_type(tmp_path: Path) -> None:
    config = make_generated_site(tmp_path, 1, settings="lenient = true\n")
    (tmp_path / "content/numbered.md").write_text(
        "---\ntitle: Numbered\ndate: 2012-06-01\ntags: 5\ncategories: 7\n---\nBody.\n",
        encoding="utf-8",
    )
    result = run("build", "--config", config, "--now", "2013-01-01")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "output/tags/5/atom.xml").is_file()


def test_a_symbolic_link_loop_is_reported(tmp_path: Path) -> None:
    config = make_generated_site(tmp_path, 1)
    (tmp_path / "content/loop.md").symlink_to(tmp_path / "content/loop.md")
    result = run("build", "--config", config, "--now", "2013-01-01")
    assert_refused(result, 1, "content/loop.md: is a symbolic link that loops or leads nowhere")


def test_a_cache_path_that_is_a_file_is_an_environment_error(tmp_path: Path) -> None:
    config = make_generated_site(tmp_path, 1, settings='cache = "not-a-folder"\n')
    (tmp_path / "not-a-folder").write_text("a file\n")
    result = run("build", "--config", config, "--now", "2013-01-01")
    assert_refused(result, 6, "not-a-folder", "a file stands where a folder is expected")


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("max_post_bytes = -1\n", "'max_post_bytes' must be 1 or more"),
        ("removal_limit = 101\n", "'removal_limit' must be a percentage from 0 to 100"),
        ('icon = "javascript:alert(1)"\n', "'icon' must be an http(s) URL or a path"),
        ('[[authors]]\nname = "A"\nuri = "data:text/html,x"\n', "must be an http(s) URL"),
    ],
)
def test_bad_settings_are_located(tmp_path: Path, setting: str, message: str) -> None:
    config = make_generated_site(tmp_path, 1, settings=setting)
    result = run("build", "--config", config, "--now", "2013-01-01")
    assert_refused(result, 1, "wcitfeed.toml:", message)


def test_a_now_at_the_end_of_time_is_a_usage_error(tmp_path: Path) -> None:
    config = make_generated_site(tmp_path, 1)
    result = run("build", "--config", config, "--now", "9999-12-31T23:59:59-0100")
    assert_refused(result, 2, "out of range")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--subject", "Hi\r\nBcc: everyone@example.org"], "must be one line"),
        (["--to", "a@example.org\nBcc: b@example.org"], "must be one line"),
        (["--from", "me@example.org\r"], "must be one line"),
        (["--to", "not an address"], "is not an e-mail address"),
    ],
)
def test_digest_headers_are_refused_before_anything_is_made(
    tmp_path: Path, args: list[str], message: str
) -> None:
    config = make_generated_site(tmp_path, 2)
    state = tmp_path / "state.json"
    base = ["digest", "--config", str(config), "--since-last", "--state", str(state)]
    defaults = {"--to": "list@example.org", "--from": "me@example.org"}
    for option, value in defaults.items():
        if option not in args:
            base += [option, value]
    result = run(*base, "--format", "eml", *args, "--now", "2013-01-01")
    assert_refused(result, 2, message)
    assert not state.exists()


def test_a_damaged_digest_state_is_an_error_not_a_resend(tmp_path: Path) -> None:
    config = make_generated_site(tmp_path, 2)
    state = tmp_path / "wcitfeed-digest.json"
    for damaged, message in (
        ("[]\n", "the digest state must be an object"),
        ('{"sent": "urn:uuid:abc"}\n', "'sent' must be a list of post ids"),
        ('{"sent": [], "last_sent": 5}\n', "'last_sent' must be a date with offset"),
    ):
        state.write_text(damaged)
        result = run(
            "digest", "--config", config, "--since-last", "--state", state, "--now", "2013-01-01"
        )
        assert_refused(result, 1, f"{state.name}:", message)
        assert state.read_text() == damaged


def test_an_unreadable_post_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As root, permissions do not stop a read: the refusal is injected where it would come.
    config = site_with(tmp_path, "")
    before = published_state(tmp_path)
    real = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path.name == "hostile.md":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = run("build", "--config", config, "--now", "2013-02-01")
    assert_refused(result, 1, "content/hostile.md: cannot be read (Permission denied)")
    assert published_state(tmp_path) == before


def test_a_read_only_output_folder_is_an_environment_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = site_with(tmp_path, "")
    before = published_state(tmp_path)

    def stage(*_: object) -> None:
        raise OSError(30, "Read-only file system", str(tmp_path / "output"))

    monkeypatch.setattr("wcitfeed.output._Batch.stage", stage)
    result = run("build", "--config", config, "--now", "2013-02-01")
    assert_refused(result, 6, "output: Read-only file system (the folder is on a read-only")
    assert {k: v for k, v in published_state(tmp_path).items() if k.startswith("output/")} == {
        k: v for k, v in before.items() if k.startswith("output/")
    }


def test_a_huge_value_gives_a_short_message(tmp_path: Path) -> None:
    # 20,000 numbers in one tag entry: the message names it without printing it.
    huge = "[" + ", ".join(["1"] * 20000) + "]"
    config = site_with(tmp_path, f"tags: [{huge}]\n")
    result = run("build", "--config", config, "--now", "2013-02-01")
    assert_refused(result, 1, "content/hostile.md:5: 'tags' entry a list of 20,000 items")
    assert max(len(line) for line in result.output.splitlines()) < 500


@pytest.mark.parametrize("rel", ["../escape.html", "/tmp/escape.html", "a//b.html", "a/./b.html"])
def test_the_writer_refuses_a_path_out_of_the_output_folder(tmp_path: Path, rel: str) -> None:
    """Whatever made the path (a permalink pattern, a file name), nothing is written
    outside the output folder: the writer checks every path it stages."""
    from wcitfeed.output import OutputSync, Planned

    writer = OutputSync(tmp_path / "site" / "output", {})
    with pytest.raises(ValueError, match="outside the output folder"):
        writer.sync([Planned(rel, "key")], lambda path: b"escaped")
    writer.abort()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
