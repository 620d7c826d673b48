"""Feed entries: serialised together as alone, and read from the store in one go."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.helpers import SETTINGS
from wcitfeed.cache import BATCH_KEYS, EntryReader, EntryStore
from wcitfeed.config import load_site
from wcitfeed.feeds import entries_bytes, entry_bytes
from wcitfeed.model import Author, Image, Post, RenderedPost


def test_many_entries_are_read_at_once_whatever_their_number(tmp_path: Path) -> None:
    store = EntryStore(tmp_path, "settings")
    count = 2 * BATCH_KEYS + 7
    store.put([(f"key{i}", "atom", f"<entry>{i}</entry>".encode()) for i in range(count)])
    store.put([("key0", "rss", b"<item>0</item>")])
    store.close()
    reader = EntryReader(store.path)
    wanted = [f"key{i}" for i in range(count)] + ["missing"]
    found = reader.get_many(wanted, "atom")
    assert found == {f"key{i}": f"<entry>{i}</entry>".encode() for i in range(count)}
    assert reader.get_many(["key0", "key1"], "rss") == {"key0": b"<item>0</item>"}
    assert reader.get_many([], "rss") == {}


def test_entries_serialised_together_are_each_what_one_alone_gives(tmp_path: Path) -> None:
    """A cold build serialises a batch of entries in one document and cuts it at each
    entry's edges; text that looks like those edges must not move the cuts."""
    config = tmp_path / "wcitfeed.toml"
    config.write_text(SETTINGS, encoding="utf-8")
    site = load_site(config)
    edges = "</item>\n    <item></entry>\n  <entry> & <b>"
    items = []
    for number in range(7):
        post = Post(
            source=tmp_path / f"post-{number}.md",
            id=f"https://example.org/posts/post-{number}/",
            title=f"Post {number} {edges}",
            slug=f"post-{number}",
            date=datetime(2012, 12, 3, 9, number, tzinfo=UTC),
            updated=None,
            category="periodic" if number % 2 else None,
            tags=("itu", "wcit") if number % 3 else (),
            summary=f"Summary {edges}" if number % 2 else None,
            authors=(Author("A & B", None, None),),
            draft=False,
            minor=False,
            image=None,
            digest=str(number),
        )
        url = f"https://example.org/posts/post-{number}/"
        image = Image(url + "a.png", 1234, "image/png") if number == 4 else None
        items.append(RenderedPost(post, url, f"<p>{edges}</p>\n" * number, edges, image))
    for fmt in ("atom", "rss"):
        together = entries_bytes(site, items, fmt)
        assert together == [entry_bytes(site, item, fmt) for item in items]
        assert len(set(together)) == len(items)
