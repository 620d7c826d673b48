"""A stranger's first hour: install the wheel, `init` a site, build it, from anywhere."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from tests.conftest import REPO, copy_site
from tests.helpers import check_feeds, feed_files
from wcitfeed.cli import main


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, f"{args}: {proc.stdout[-2000:]}{proc.stderr[-3000:]}"
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from the checkout as a package index would get it."""
    folder = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", folder, REPO, cwd=folder)
    (found,) = folder.glob("wcitfeed-*.whl")
    return found


def test_the_wheel_carries_the_theme_and_metadata_and_no_tests_or_content(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "wcitfeed/templates/base.html" in names
    assert "wcitfeed/templates/style.css" in names
    assert "wcitfeed/py.typed" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert not [n for n in names if n.startswith(("tests/", "content/", "bench/"))], names
    assert not [n for n in names if n.endswith(".md") and "dist-info" not in n], names
    (metadata_name,) = [n for n in names if n.endswith("dist-info/METADATA")]
    metadata = Parser().parsestr(zipfile.ZipFile(wheel).read(metadata_name).decode())
    assert metadata["License-Expression"] == "MIT"
    assert "Typing :: Typed" in metadata.get_all("Classifier")
    assert metadata.get_all("Project-URL")
    assert "atom" in metadata["Keywords"]
    # Every run-time dependency has a lower bound.
    requires = [r for r in metadata.get_all("Requires-Dist") if "extra ==" not in r]
    assert requires and all(">=" in r for r in requires), requires


def test_a_fresh_venv_inits_and_builds_a_valid_site_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    bin_dir = venv / "bin"
    run(bin_dir / "python", "-m", "pip", "install", "-q", wheel, cwd=tmp_path)
    empty = tmp_path / "somewhere"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "WCITFEED_CONFIG")}
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    said = run(
        "wcitfeed", "init", "blog", "--title", "Café notes", "--base-url", "https://cafe.example/",
        cwd=empty, env=env,
    )  # fmt: skip
    assert "created blog/wcitfeed.toml" in said
    blog = empty / "blog"
    said = run("wcitfeed", "build", cwd=blog, env=env)
    assert "Built 1 post" in said
    # The installed package, not the checkout, did the work.
    where = run(bin_dir / "python", "-c", "import wcitfeed; print(wcitfeed.__file__)", cwd=blog)
    assert str(venv) in where and str(REPO) not in where
    output = blog / "output"
    assert (output / "index.html").is_file() and (output / "style.css").is_file()
    checked = check_feeds(feed_files(output))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The README's Python example works there too.
    example = readme_python_example()
    said = run(bin_dir / "python", "-c", example, cwd=empty, env=env)
    assert "posts" in said


def readme_python_example() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API\n", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_python_example_is_five_lines_of_the_api() -> None:
    lines = [line for line in readme_python_example().splitlines() if line.strip()]
    assert len(lines) <= 5, lines
    assert lines[0].startswith("from wcitfeed import")


def test_build_from_a_subfolder_finds_the_settings_above(tmp_path: Path) -> None:
    site = copy_site(tmp_path / "site")
    proc = subprocess.run(
        [sys.executable, "-m", "wcitfeed", "build"],
        cwd=site / "content" / "periodic",
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != "WCITFEED_CONFIG"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "Built 6 posts into ../../output" in proc.stdout
    assert (site / "output" / "atom.xml").is_file()
    assert not (site / "content" / "periodic" / "output").exists()


def test_the_variable_and_config_option_win_over_discovery(tmp_path: Path) -> None:
    site = copy_site(tmp_path / "site")
    other = copy_site(tmp_path / "other")
    text = (other / "wcitfeed.toml").read_text(encoding="utf-8")
    (other / "wcitfeed.toml").write_text(text.replace("Updates from WCIT", "Other"), "utf-8")
    env = {**os.environ, "WCITFEED_CONFIG": str(other / "wcitfeed.toml")}

    def build(*extra: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "wcitfeed", "build", "-q", *extra],
            cwd=site,
            check=True,
            env=env,
            timeout=300,
        )

    build()
    assert (other / "output" / "atom.xml").is_file()
    assert not (site / "output").exists()
    build("--config", str(site))  # a folder means its wcitfeed.toml
    assert "<title>Updates from WCIT</title>" in (site / "output/atom.xml").read_text("utf-8")


def test_no_settings_anywhere_says_how_to_make_one(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "wcitfeed", "build"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "WCITFEED_CONFIG"},
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr == (
        f"Error: no wcitfeed.toml in {tmp_path} or any folder above it (run 'wcitfeed init' "
        "to start a site there, or pass --config PATH, or set WCITFEED_CONFIG)\n"
    )


def test_init_never_overwrites_and_copies_templates_on_request(tmp_path: Path) -> None:
    from click.testing import CliRunner

    runner = CliRunner()
    first = runner.invoke(main, ["init", str(tmp_path / "b"), "--language", "fr"])
    assert first.exit_code == 0, first.output
    settings = tomllib.loads((tmp_path / "b" / "wcitfeed.toml").read_text("utf-8"))
    assert settings["language"] == "fr" and settings["title"] == "Updates"
    (post,) = (tmp_path / "b" / "content").glob("*.md")
    assert re.search(r"^id: urn:uuid:[0-9a-f-]{36}$", post.read_text("utf-8"), re.MULTILINE)
    gitignore = (tmp_path / "b" / ".gitignore").read_text("utf-8").splitlines()
    assert "/output/" in gitignore and "/.wcitfeed-cache/" in gitignore
    (tmp_path / "b" / "wcitfeed.toml").write_text("mine\n", encoding="utf-8")
    again = runner.invoke(main, ["init", str(tmp_path / "b"), "--templates", "--title", "New"])
    assert again.exit_code == 0, again.output
    assert f"kept existing {tmp_path / 'b' / 'wcitfeed.toml'}" in again.output
    assert (tmp_path / "b" / "wcitfeed.toml").read_text("utf-8") == "mine\n"
    assert len(list((tmp_path / "b" / "content").glob("*.md"))) == 1
    assert (tmp_path / "b" / "templates" / "post.html").read_bytes() == (
        REPO / "src/wcitfeed/templates/post.html"
    ).read_bytes()


def test_init_refuses_answers_a_site_cannot_build_with(tmp_path: Path) -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(
        main,
        ["init", str(tmp_path / "b"), "--base-url", "ftp://x", "--timezone", "Mars/Olympus"],
    )
    assert result.exit_code == 1
    assert "Error: 'base_url' must be an absolute http(s) URL" in result.output
    assert "Error: 'timezone' 'Mars/Olympus' is not an IANA zone" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "b" / "wcitfeed.toml").exists()


def test_init_asks_on_a_terminal(tmp_path: Path) -> None:
    import pty

    main_fd, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "wcitfeed", "init", "site", "--author", "Jane"],
        cwd=tmp_path,
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(follower)
    os.write(main_fd, b"Notes de Paris\nhttps://paris.example/\nfr\nEurope/Paris\n")
    _out, err = proc.communicate(timeout=60)
    os.close(main_fd)
    assert proc.returncode == 0, err
    settings = tomllib.loads((tmp_path / "site" / "wcitfeed.toml").read_text("utf-8"))
    assert settings["title"] == "Notes de Paris"
    assert settings["base_url"] == "https://paris.example/"
    assert settings["timezone"] == "Europe/Paris"
    assert settings["authors"] == [{"name": "Jane"}]


def test_the_python_api_builds_checks_and_raises_problems(tmp_path: Path) -> None:
    from wcitfeed import Problems, Site, build, check, load

    site = copy_site(tmp_path / "site")
    assert isinstance(load(site), Site)
    result = build(site)
    assert result.posts == 6 and result.report.changed
    assert check(site).ok
    post = site / "content" / "periodic" / "2012-12-07.md"
    post.write_text(post.read_text("utf-8").replace("date:", "date: [", 1), "utf-8")
    found = check(site)
    assert not found.ok and str(post) in str(found.problems[0])
    with pytest.raises(Problems):
        build(site)
