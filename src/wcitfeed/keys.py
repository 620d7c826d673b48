"""Keys: digests of everything a post's entries or an output file are made of.

A file whose key matches the last build's is not made again, so a key must change
whenever anything its renderer reads changes. A build makes one key per post and one per
file of each post, so these are laid out field by field rather than from ``repr``: every
field is written with its length (or as a one-letter token), so the text of two different
inputs is never the same, and the tests change each field of a post in turn and check
that its key changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime

from wcitfeed.model import Post


def _text(value: str) -> str:
    return f"{len(value)}:{value}"


def _maybe(value: str | None) -> str:
    return "-" if value is None else _text(value)


def _time(moment: datetime | None) -> str:
    return "-" if moment is None else _text(moment.isoformat())


def _flag(value: bool) -> str:
    return "T" if value else "F"


def _listed(items: list[str]) -> str:
    """Join items already laid out, after their count."""
    return f"{len(items)}[{''.join(items)}"


def _texts(values: Iterable[str]) -> str:
    return _listed([_text(v) for v in values])


def _digest(text: str) -> str:
    # surrogatepass: a YAML escape can put a lone surrogate in a title.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def post_key(post: Post, asset_sizes: Mapping[str, int], ref_urls: Mapping[str, str]) -> str:
    """Digest a post's front matter and text (by digest), the size of each local file it
    may show (an enclosure's length) and the URL of each post it links to by file."""
    authors = [_maybe(a.name) + _maybe(a.email) + _maybe(a.uri) for a in post.authors]
    assets = [_text(rel) + _size(asset_sizes.get(rel)) for rel in post.assets]
    refs = [_text(r.query) + _text(str(r.line)) + _text(ref_urls[r.query]) for r in post.refs]
    return _digest(
        "".join(
            (
                _text(str(post.source)),
                _text(post.id),
                _text(post.title),
                _text(post.slug),
                _time(post.date),
                _time(post.updated),
                _maybe(post.category),
                _texts(post.tags),
                _maybe(post.summary),
                _listed(authors),
                _flag(post.draft),
                _flag(post.minor),
                _maybe(post.image),
                _text(post.digest),
                _listed(assets),
                _flag(post.timed),
                _time(post.arrived),
                _text(post.path),
                _texts(post.aliases),
                _flag(post.derived_id),
                _listed(refs),
                _texts(post.old_feeds),
            )
        )
    )


def _size(size: int | None) -> str:
    return "-" if size is None else _text(str(size))


class FileKeys:
    """Keys of output files: a digest of the build's fingerprint and of the file's parts,
    each given as text (a post's key, a page's neighbour, a shape's ``repr``)."""

    def __init__(self, stamp: str) -> None:
        self._stamp = hashlib.sha256(_text(stamp).encode())

    def of(self, *parts: str | None) -> str:
        """Return the key of a file made of ``parts`` (None for a part that is absent)."""
        digest = self._stamp.copy()
        digest.update("".join(_maybe(p) for p in parts).encode("utf-8", "surrogatepass"))
        return digest.hexdigest()
