"""Small sites made on the fly for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def make_generated_site(root: Path, count: int, *, settings: str = "") -> Path:
    """Write a site of ``count`` posts, one a day from 2012-01-01, and return its settings file."""
    content = root / "content"
    content.mkdir(parents=True)
    (root / "wcitfeed.toml").write_text(
        'title = "Generated"\nbase_url = "https://gen.example.org/"\n'
        f'templates = "{REPO / "templates"}"\n' + settings,
        encoding="utf-8",
    )
    start = datetime(2012, 1, 1, 9, 0, tzinfo=UTC)
    for number in range(1, count + 1):
        write_generated_post(content, number, start + timedelta(days=number - 1))
    return root / "wcitfeed.toml"


def write_generated_post(content: Path, number: int, when: datetime, text: str = "") -> Path:
    """Write post ``number`` dated ``when``; its id depends on the number alone."""
    tags = "[even]" if number % 2 == 0 else "[odd]"
    path = content / f"post-{number:04d}.md"
    path.write_text(
        f"---\nid: tag:gen.example.org,2012:{number}\ntitle: Post {number}\n"
        f"date: {when.isoformat()}\ntags: {tags}\n---\n"
        f"Body of post {number} with [brackets] and a [link](https://example.org/{number}).\n"
        + text,
        encoding="utf-8",
    )
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` (or the one file ``root``) by relative path, with its bytes."""
    if root.is_file():
        return {root.name: root.read_bytes()}
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def published_state(site: Path) -> dict[str, bytes]:
    """What a build publishes and remembers: the output folder and the ledger, byte for byte."""
    state = {f"output/{k}": v for k, v in snapshot(site / "output").items()}
    state.update(snapshot(site / "wcitfeed-ledger.json"))
    return state
