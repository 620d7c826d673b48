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

from wcitfeed import mail, render
from wcitfeed.config import load_site
from wcitfeed.content import load_posts, scan_sources
from wcitfeed.errors import ContentError
from wcitfeed.ledger import apply_ledger, read_ledger
from wcitfeed.model import Post, Site, newest_first, published
from wcitfeed.output import write_atomic


@dataclass(frozen=True)
class Window:
    """Which posts a digest covers: since a time, the newest N, or all not yet sent."""

    since: datetime | None = None
    last: int | None = None
    since_last: bool = False


@dataclass(frozen=True)
class Digest:
    """A rendered digest and how to record it as sent."""

    site: Site
    posts: tuple[Post, ...]
    html: str
    text: str
    subject: str


def read_state(path: Path) -> dict[str, Any]:
    """Read the digest state; a missing file means nothing was sent yet."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"sent": []}
    except (OSError, ValueError) as exc:
        raise ContentError(
            f"the digest state cannot be read ({exc}); delete it to start "
            "afresh (the next digest then holds every post)",
            path=path,
        ) from None
    return data if isinstance(data, dict) else {"sent": []}


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
    site = load_site(config)
    sources, assets = scan_sources(site)
    loaded = load_posts(site, sources, {})
    posts, _ = apply_ledger(loaded.posts, read_ledger(site.ledger), now)
    live = newest_first(published(posts, now))
    if window.since is not None:
        chosen = [p for p in live if p.date >= window.since]
    elif window.last is not None:
        chosen = live[: window.last]
    else:
        sent = set(read_state(state).get("sent", []))
        chosen = [p for p in live if p.id not in sent]
    if not chosen:
        return None
    templates = render.load_templates(site.templates_dir)
    sizes = {a.rel: a.size for a in assets}
    items = [render.render_post(site, p, loaded.bodies[p.source], templates, sizes) for p in chosen]
    title = subject or f"{site.title}: {len(items)} new update{'s' if len(items) != 1 else ''}"
    html = mail.digest_html(site, items, templates, full=full, subject=title)
    return Digest(site, tuple(chosen), html, mail.digest_text(html), title)


def record_sent(state: Path, digest: Digest, now: datetime) -> None:
    """Add the digest's posts to the state file, atomically."""
    data = read_state(state)
    sent = list(dict.fromkeys([*data.get("sent", []), *(p.id for p in digest.posts)]))
    payload = {"sent": sent, "last_sent": now.isoformat()}
    write_atomic(state, (json.dumps(payload, indent=1) + "\n").encode("utf-8"))
