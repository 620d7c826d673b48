"""The edit ledger: when each post's text last changed, so ``updated`` moves exactly once.

The ledger maps each post id to the digest of its text and the time that text was first seen.
Users commit it with their content; without it, an edit could not be told from a rebuild.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from wcitfeed.errors import ContentError
from wcitfeed.model import Post

Ledger = dict[str, dict[str, str]]


def read_ledger(path: Path | None) -> Ledger:
    """Read the ledger file; a missing file is an empty ledger."""
    if path is None:
        return {}
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ContentError(
            f"the edit ledger cannot be read ({exc}); restore it from version control or "
            "delete it to start afresh",
            path=path,
        ) from None
    if not isinstance(data, dict):
        raise ContentError("the edit ledger must be a JSON object", path=path)
    return {str(k): dict(v) for k, v in data.items() if isinstance(v, dict)}


def apply_ledger(posts: Iterable[Post], ledger: Ledger, now: datetime) -> tuple[list[Post], Ledger]:
    """Give each post its ``updated`` and return the ledger as it should now be.

    An explicit ``updated`` in front matter always wins. A post seen for the first time keeps
    ``updated`` empty. A post whose text changed gets ``updated = now`` once, unless it says
    ``minor: true``; later builds keep that time until the text changes again.
    """
    result: list[Post] = []
    new: Ledger = {}
    for post in posts:
        record = ledger.get(post.id)
        if record is None:
            entry = {"digest": post.digest}
        elif record.get("digest") == post.digest:
            entry = dict(record)
        elif post.minor:
            entry = {**record, "digest": post.digest}
        else:
            entry = {"digest": post.digest, "updated": now.isoformat()}
        new[post.id] = entry
        if post.updated is None and "updated" in entry:
            seen = datetime.fromisoformat(entry["updated"]).astimezone(post.date.tzinfo)
            if seen > post.date:
                post = replace(post, updated=seen)
        result.append(post)
    return result, new


def encode_ledger(ledger: Ledger) -> bytes:
    """Serialise the ledger stably, so an unchanged ledger is never rewritten."""
    return (json.dumps(ledger, indent=1, sort_keys=True) + "\n").encode("utf-8")
