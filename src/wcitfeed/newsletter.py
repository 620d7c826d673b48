"""Digests for newsletters: which posts are new in a window, and what was sent before.

``--since-last`` remembers the ids already sent in a small JSON state file; the state moves
only after a digest with something in it was produced, so a cron job never sends an empty
newsletter and never skips a post.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from wcitfeed import mail, render, sources
from wcitfeed.config import load_site
from wcitfeed.content import Loaded, load_posts, read_body
from wcitfeed.errors import ContentError, Problems, WcitfeedError, json_key_line
from wcitfeed.ledger import apply_ledger, read_ledger
from wcitfeed.model import Post, Site, newest_first, published
from wcitfeed.output import write_atomic
from wcitfeed.scan import Source, scan_sources


@dataclass(frozen=True)
class Window:
    """Which posts a digest covers: since a time, the newest N, or all not yet sent; and
    at most ``most`` of them, the newest."""

    since: datetime | None = None
    last: int | None = None
    since_last: bool = False
    most: int | None = None


class NoStartingPoint(WcitfeedError):
    """A first ``--since-last`` digest would send every post ever written."""


@dataclass(frozen=True)
class Digest:
    """A rendered digest and how to record it as sent."""

    site: Site
    posts: tuple[Post, ...]
    html: str
    text: str
    subject: str
    # Older unsent posts ``--max`` left out: recorded as sent with the digest, so the next
    # one does not bring them up out of order.
    passed_over: tuple[Post, ...] = ()


@dataclass(frozen=True)
class SentState:
    """What earlier ``--since-last`` digests sent: post ids, and when the last one went."""

    sent: tuple[str, ...] = ()
    last_sent: datetime | None = None


def read_state(path: Path) -> SentState:
    """Read and check the digest state; a missing file means nothing was sent yet.

    A damaged state is an error, never "nothing sent": that would mail every post again.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return SentState()
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(f"the digest state cannot be read ({exc})", path=path) from None
    try:
        data: Any = json.loads(text)
    except ValueError as exc:
        raise ContentError(
            f"the digest state is not valid JSON ({getattr(exc, 'msg', exc)}); restore it "
            "from a backup, or delete it to send every post again",
            path=path,
            line=getattr(exc, "lineno", None),
        ) from None
    example = '{"sent": ["urn:uuid:…"], "last_sent": "2012-12-14T22:00:00+04:00"}'
    if not isinstance(data, dict):
        raise ContentError(f"the digest state must be an object like {example}", path=path, line=1)
    problems: list[WcitfeedError] = []

    def fail(key: str, message: str) -> None:
        line = json_key_line(text, key)
        problems.append(ContentError(message, path=path, line=line, field=key[:80]))

    for key in data:
        if key not in ("sent", "last_sent"):
            fail(str(key), "is not a digest state field (sent, last_sent)")
    sent = data.get("sent", [])
    if not isinstance(sent, list) or not all(isinstance(i, str) for i in sent):
        fail("sent", "must be a list of post ids (strings)")
        sent = []
    last_sent = None
    if data.get("last_sent") is not None:
        try:
            last_sent = datetime.fromisoformat(data["last_sent"])
        except (TypeError, ValueError):
            fail("last_sent", "must be a date with offset such as 2012-12-14T22:00:00+04:00")
    if problems:
        raise Problems(problems)
    return SentState(tuple(sent), last_sent)


def make_digest(
    config: Path | None,
    window: Window,
    now: datetime,
    state: Path,
    *,
    full: bool,
    subject: str | None,
) -> Digest | None:
    """Render the digest for a window; return None when it would be empty."""
    site, loaded, live, assets = _live_posts(config, now)
    if window.since is not None:
        chosen = [p for p in live if p.date >= window.since]
    elif window.last is not None:
        chosen = live[: window.last]
    else:
        known = read_state(state)
        if not known.sent and known.last_sent is None and window.most is None:
            raise NoStartingPoint(
                f"no digest was sent from {state} yet, and this one would hold all "
                f"{len(live)} posts: add --start-now to start from now, or --max N to send "
                "the N newest"
            )
        sent = set(known.sent)
        chosen = [p for p in live if p.id not in sent]
    passed_over = tuple(chosen[window.most :]) if window.most is not None else ()
    chosen = chosen[: window.most] if window.most is not None else chosen
    if not chosen:
        return None
    templates = render.load_templates(site)
    sizes = {a.rel: a.size for a in assets}
    links, _ = sources.resolve_links(site, loaded.posts)

    def body(post: Post) -> str:
        raw = loaded.bodies.get(post.source) or read_body(post.source)
        return sources.final_body(site, raw, links)

    items = [render.render_post(site, p, body(p), templates, sizes) for p in chosen]
    title = subject or f"{site.title}: {len(items)} new update{'s' if len(items) != 1 else ''}"
    html = mail.digest_html(site, items, templates, full=full, subject=title)
    return Digest(site, tuple(chosen), html, mail.digest_text(html), title, passed_over)


def _live_posts(
    config: Path | None, now: datetime
) -> tuple[Site, Loaded, list[Post], list[Source]]:
    """Read the site's published posts at ``now``, newest first, as a build would."""
    site = load_site(config)
    sources, assets = scan_sources(site)
    loaded = load_posts(site, sources, {})
    posts, _ = apply_ledger(loaded.posts, read_ledger(site.ledger).posts, now)
    return site, loaded, newest_first(published(posts, now)), assets


def start_now(config: Path | None, now: datetime, state: Path) -> int:
    """Record every post published so far as sent, sending nothing; return how many."""
    _, _, live, _ = _live_posts(config, now)
    _record(state, [p.id for p in live], now)
    return len(live)


def record_sent(state: Path, digest: Digest, now: datetime) -> None:
    """Add the digest's posts (and those ``--max`` passed over) to the state file."""
    _record(state, [p.id for p in (*digest.posts, *digest.passed_over)], now)


def _record(state: Path, ids: list[str], now: datetime) -> None:
    """Add ids to the state file, atomically."""
    sent = list(dict.fromkeys([*read_state(state).sent, *ids]))
    payload = {"sent": sent, "last_sent": now.isoformat()}
    write_atomic(state, (json.dumps(payload, indent=1) + "\n").encode("utf-8"))
