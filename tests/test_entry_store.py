"""The entry store reads a document's entries in one go, as many as it carries."""

from __future__ import annotations

from pathlib import Path

from wcitfeed.cache import BATCH_KEYS, EntryReader, EntryStore


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
