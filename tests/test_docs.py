"""The README documents what the code accepts, so the two never drift apart."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO
from wcitfeed.config import SETTINGS
from wcitfeed.content import FIELDS

README = (REPO / "README.md").read_text(encoding="utf-8")


def table_keys(heading: str) -> list[str]:
    """Return the first-column keys of the table under a README heading."""
    section = README.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    table = section[section.index("\n|") :].split("\n\n", 1)[0]  # the first table only
    return re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.MULTILINE)


@pytest.mark.parametrize(("heading", "keys"), [("Settings", SETTINGS), ("Posts", FIELDS)])
def test_readme_tables_list_exactly_the_accepted_keys(heading: str, keys: dict) -> None:
    assert sorted(table_keys(heading)) == sorted(keys)


def test_readme_commands_are_the_ci_commands() -> None:
    assert "make build" in README
    assert "make test" in README
    assert "make test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
