"""The ledger's text: laid out by hand for speed, it must be what json.dumps would write."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import REPO
from wcitfeed.ledger import (
    LedgerFile,
    Record,
    SiteRecord,
    encode_ledger,
    ledger_chunks,
    read_ledger,
)

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=4)), timezone(timedelta(hours=-5))])
TIMES = st.none() | st.builds(
    lambda n, zone: datetime(2012, 12, 3, tzinfo=UTC).astimezone(zone) + timedelta(seconds=n),
    st.integers(0, 10**8),
    ZONES,
)
RECORDS = st.builds(
    Record,
    digest=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    updated=TIMES,
    published=TIMES,
    withdrawn=TIMES,
    arrived=TIMES,
    feeds=st.lists(TEXT, max_size=3).map(tuple),
    paths=st.lists(TEXT, max_size=3).map(tuple),
    source=st.none() | TEXT,
)
LEDGERS = st.builds(
    LedgerFile,
    st.dictionaries(TEXT.filter(bool), RECORDS, max_size=5),
    st.none()
    | st.builds(SiteRecord, st.lists(st.sampled_from(["atom", "rss", "json"])).map(tuple)),
)


def _as_json(ledger: LedgerFile) -> bytes:
    """The ledger the plain way: a dict of its fields, dumped with indent=1, sorted."""
    data: dict[str, object] = {}
    if ledger.site is not None:
        data[""] = {"formats": list(ledger.site.formats)}
    for post_id, record in ledger.posts.items():
        item: dict[str, object] = {"digest": record.digest}
        for key in ("updated", "published", "withdrawn", "arrived"):
            value = getattr(record, key)
            if value is not None:
                item[key] = value.isoformat()
        for key in ("feeds", "paths"):
            if getattr(record, key):
                item[key] = list(getattr(record, key))
        if record.source:
            item["source"] = record.source
        data[post_id] = item
    return (json.dumps(data, indent=1, sort_keys=True) + "\n").encode()


@settings(max_examples=500, deadline=None)
@given(LEDGERS)
def test_the_ledger_text_is_json_dumps_with_indent_one(ledger: LedgerFile) -> None:
    # Ids and paths with quotes, backslashes, control characters and non-ASCII letters,
    # empty lists, no site record: byte for byte what json.dumps(indent=1) gives.
    assert encode_ledger(ledger) == _as_json(ledger)
    # Written piece by piece (two records a piece here), the same bytes.
    assert b"".join(ledger_chunks(ledger, piece=2)) == _as_json(ledger)


def test_the_seed_ledger_reads_back_to_its_own_bytes() -> None:
    # The committed ledger was written by json.dumps: read and written again, unchanged.
    path = REPO / "wcitfeed-ledger.json"
    assert encode_ledger(read_ledger(path)) == path.read_bytes()
