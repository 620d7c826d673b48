"""A post's key changes with every field of the post, and never names two posts at once."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import full_post
from wcitfeed.keys import FileKeys, post_key
from wcitfeed.model import Author, Post

POST: Post = full_post()
SIZES = {"_posts/a.png": 100}
URLS = {"2012-12-01-b": "https://example.org/posts/b/"}


def _other(value: object) -> object:
    """Return a different value of the same kind (every field of POST is set)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, Path):
        return value.with_name("other.md")
    if isinstance(value, datetime):
        return value + timedelta(seconds=1)
    assert isinstance(value, tuple) and value, value
    return value[:-1]


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(Post)])
def test_every_field_of_a_post_is_in_its_key(field: str) -> None:
    # A field left out of the key would leave an edited post's files stale for good.
    post = dataclasses.replace(POST, **{field: _other(getattr(POST, field))})
    urls = {r.query: "u" for r in post.refs} | URLS
    assert post_key(post, SIZES, urls) != post_key(POST, SIZES, URLS)


def test_an_assets_size_and_a_linked_posts_url_are_in_the_key() -> None:
    base = post_key(POST, SIZES, URLS)
    assert post_key(POST, {"_posts/a.png": 101}, URLS) != base
    assert post_key(POST, {}, URLS) != base
    assert post_key(POST, SIZES, {"2012-12-01-b": "https://example.org/posts/b2/"}) != base


TEXT = st.text(alphabet="a1:[-|\x00", max_size=4)
POSTS = st.builds(
    dataclasses.replace,
    st.just(POST),
    title=TEXT,
    slug=TEXT,
    category=st.none() | TEXT,
    tags=st.lists(TEXT, max_size=3).map(tuple),
    summary=st.none() | TEXT,
    authors=st.lists(st.builds(Author, TEXT, st.none() | TEXT, st.none() | TEXT), max_size=2).map(
        tuple
    ),
    aliases=st.lists(TEXT, max_size=2).map(tuple),
    old_feeds=st.lists(TEXT, max_size=2).map(tuple),
)


@settings(max_examples=1000, deadline=None)
@given(POSTS, POSTS)
def test_two_different_posts_never_share_a_key(one: Post, two: Post) -> None:
    # Fields hold the characters a naive layout would use as separators: the key's text
    # must still tell ("a", "b") from ("a:b",), a missing category from an empty one.
    assert (post_key(one, SIZES, URLS) == post_key(two, SIZES, URLS)) == (one == two)


def test_file_keys_tell_parts_apart() -> None:
    keys = FileKeys("stamp")
    assert keys.of("ab", "c") != keys.of("a", "bc")
    assert keys.of(None) != keys.of("")
    assert keys.of("a") == FileKeys("stamp").of("a")
    assert keys.of("a") != FileKeys("other").of("a")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="a1:[-", max_size=8), st.integers(0, 8), st.integers(0, 8))
def test_text_moved_from_one_field_to_the_next_changes_the_key(
    whole: str, one: int, two: int
) -> None:
    # The same characters split differently between title and slug, or between tags.
    one, two = min(one, len(whole)), min(two, len(whole))
    first = dataclasses.replace(POST, title=whole[:one], slug=whole[one:])
    second = dataclasses.replace(POST, title=whole[:two], slug=whole[two:])
    assert (post_key(first, SIZES, URLS) == post_key(second, SIZES, URLS)) == (one == two)
    first = dataclasses.replace(POST, tags=(whole[:one], whole[one:]))
    second = dataclasses.replace(POST, tags=(whole[:two], whole[two:]))
    assert (post_key(first, SIZES, URLS) == post_key(second, SIZES, URLS)) == (one == two)
