"""Which words of a post's text may name a local file (its sizes go into the post's key)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from wcitfeed.content import _REFERENCE_RE, _reference_words, local_references

# The characters that decide where a word starts and ends, and some of the rest.
TEXT = st.text(alphabet="ab9Z./,#?:;|*`'\"()[]<>- \n\t\u00a0\u2003\x1c_", max_size=80)


@settings(max_examples=2000, deadline=None)
@given(TEXT)
@example("a.png,b.gif c.d?e.txt")
def test_the_quick_scan_finds_what_the_pattern_finds(text: str) -> None:
    # The pattern states the rule; the scan only starts it where a word with an extension
    # begins. They must agree on every text, odd spaces and punctuation included.
    assert _reference_words(text) == _REFERENCE_RE.findall(text)


def test_words_with_extensions_name_files_beside_the_post() -> None:
    body = "See pic.png, img/a.jpg#x and (../up/b.pdf), not example.org/454 or end. See a.png,b.gif"
    post, root = Path("/site/content/periodic/p.md"), Path("/site/content")
    found = local_references(body, None, post, root)
    assert found == (
        "periodic/a.png,b.gif",
        "periodic/img/a.jpg",
        "periodic/pic.png",
        "up/b.pdf",
    )
