"""The default content is the seed page's updates, every sentence, as a feed reader gets them."""

from __future__ import annotations

import html
import re
from pathlib import Path

import feedparser
import pytest

from tests.conftest import SHARED

SEED = SHARED / "seed" / "updates-from-wcit.txt"
# The page's own chrome around the updates, not part of any update.
FIRST_UPDATE = "Friday December 14th | Final update from WCIT"
FOOTER = "For more information about WCIT, please contact us"
SECTION_HEADINGS = {"Issue-specific Updates"}


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def seed_lines() -> list[str]:
    """Return the non-empty lines of the seed's updates: headings and body text."""
    text = SEED.read_text(encoding="utf-8")
    body = text[text.index(FIRST_UPDATE) : text.index(FOOTER)]
    return [line for line in body.splitlines() if line.strip()]


def sentences(line: str) -> list[str]:
    line = normalise(line.replace("•", ""))
    return [s for s in re.split(r"(?<=[.?:])\s+(?=[A-Z“\"])", line) if s]


@pytest.fixture(scope="module")
def atom(built_repo: Path) -> feedparser.FeedParserDict:
    return feedparser.parse((built_repo / "atom.xml").read_bytes())


def entry_text(entry: feedparser.FeedParserDict) -> str:
    return normalise(html.unescape(re.sub(r"<[^>]+>", " ", entry.content[0].value)))


def test_every_seed_sentence_reaches_the_atom_feed(atom: feedparser.FeedParserDict) -> None:
    titles = {e.title for e in atom.entries}
    all_text = " ".join(entry_text(e) for e in atom.entries)
    lines = seed_lines()
    seen_titles = set()
    checked = 0
    for line in lines:
        stripped = normalise(line)
        if stripped in titles:
            seen_titles.add(stripped)
            continue
        if stripped in SECTION_HEADINGS:
            continue
        for sentence in sentences(line):
            assert sentence in all_text, f"missing from the feed: {sentence!r}"
            checked += 1
    assert seen_titles == titles, "every entry title is a heading of the seed page"
    assert checked > 60


def test_square_brackets_stay_literal(atom: feedparser.FeedParserDict) -> None:
    contents = " ".join(e.content[0].value for e in atom.entries)
    assert "[bracketed]" in contents
    assert "Security [Cybersecurity] is a complex issue" in contents
    security = next(e for e in atom.entries if e.title == "Security [Cybersecurity]")
    assert "<a " not in security.content[0].value


def test_bullet_lists_stay_lists(atom: feedparser.FeedParserDict) -> None:
    text = SEED.read_text(encoding="utf-8")
    by_title = {e.title: e.content[0].value for e in atom.entries}
    # Bullets under each periodic update in the seed, counted from the seed itself.
    sunday = text[text.index("Sunday December 9th") : text.index("Friday, December 7th")]
    final = text[text.index(FIRST_UPDATE) : text.index("Sunday December 9th")]
    assert by_title[FIRST_UPDATE].count("<li>") == final.count("•") == 11
    assert by_title["Sunday December 9th"].count("<li>") == sunday.count("•") == 4
    # The security brief's three aims lost their bullets in the seed's plain text.
    assert by_title["Security [Cybersecurity]"].count("<li>") == 3


def test_seed_spelling_is_kept(atom: feedparser.FeedParserDict) -> None:
    all_text = " ".join(entry_text(e) for e in atom.entries)
    for word in ("Boarder Gateway Protocol", "will incude the Internet", "favour", "benefitting"):
        assert word in all_text
