"""Shared fixtures: the repository's own site, built into a temporary folder."""

from __future__ import annotations

import contextlib
import queue
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from click.testing import CliRunner, Result

from wcitfeed.cli import main

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SITES = Path(__file__).resolve().parent / "sites"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regen-golden",
        action="store_true",
        help="rewrite tests/sites/*/expected from the current build instead of comparing",
    )


@pytest.fixture
def run_cli() -> Callable[..., Result]:
    """Run the wcitfeed command line in-process and return click's result."""

    def run(*args: str | Path) -> Result:
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)

    return run


@pytest.fixture
def site_copy(tmp_path: Path) -> Path:
    """A copy of the repository's site (settings, content, templates) to build and edit."""
    return copy_site(tmp_path / "site")


def copy_site(root: Path) -> Path:
    """Copy the repository's settings, content, templates and ledger below ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "wcitfeed.toml", root)
    shutil.copy(REPO / "wcitfeed-ledger.json", root)
    shutil.copytree(REPO / "content", root / "content")
    return root


@pytest.fixture(scope="session")
def built_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's own site built once, in a copy, into a temporary output folder."""
    root = copy_site(tmp_path_factory.mktemp("repo") / "site")
    result = CliRunner().invoke(
        main, ["build", "--config", str(root / "wcitfeed.toml")], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return root / "output"


class Serving(NamedTuple):
    """A running `wcitfeed serve`: its site, its base URL, and the lines it prints."""

    site: Path
    url: str
    lines: queue.Queue[str]

    def next_build(self, timeout: float = 120) -> str:
        """Wait for the server to finish its next rebuild; return what it said of it."""
        while True:
            line = self.lines.get(timeout=timeout)
            if " rebuilt: " in line or line.startswith("Error: "):
                return line


@pytest.fixture
def serving(site_copy: Path) -> Iterator[Serving]:
    """Run `wcitfeed serve --port 0` on the site copy, and follow what it prints."""
    with serve_site(site_copy) as running:
        yield running


@contextlib.contextmanager
def serve_site(site_copy: Path) -> Iterator[Serving]:
    """Run `wcitfeed serve --port 0` on a site, reading all it prints, until the end."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "wcitfeed", "serve", "--port", "0"],
        cwd=site_copy,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stderr], daemon=True).start()
    url = ""
    while not url:
        match = re.search(r"Serving (http://127\.0\.0\.1:\d+/)", lines.get(timeout=60))
        url = match.group(1) if match else ""
    try:
        yield Serving(site_copy, url, lines)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
