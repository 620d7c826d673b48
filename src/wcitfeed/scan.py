"""Listing the content folder by stat alone: the first step of every build, and all a
build with nothing to do reads of it. Kept apart from ``content`` so that such a build
imports none of the parsing and checking modules."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from wcitfeed.errors import ContentError, Problems, WcitfeedError
from wcitfeed.model import Site
from wcitfeed.output import digest_stats

POST_SUFFIXES = (".md", ".markdown")


@dataclass(frozen=True, slots=True)
class Source:
    """A file below the content folder as the file system describes it, unread."""

    file: str
    rel: str
    mtime_ns: int
    size: int

    @property
    def path(self) -> Path:
        """Return the file as a Path (made on demand: a scan lists thousands of files)."""
        return Path(self.file)


def scan_sources(site: Site) -> tuple[list[Source], list[Source]]:
    """List the posts (``*.md``) and the other files below the content folder, by stat only.

    A symbolic link that leads outside the content folder is refused: a post could
    otherwise publish any file the build can read.
    """
    root = site.content_dir
    if not root.is_dir():
        raise Problems(
            [ContentError("content folder not found (create it, or pass --content)", path=root)]
        )
    posts: list[Source] = []
    assets: list[Source] = []
    refused: list[WcitfeedError] = []
    real_root = root.resolve()
    # os.scandir rather than Path.rglob: a no-change build does this for every file.
    pending = [(os.fspath(root), "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            listing = os.scandir(folder)
        except OSError as exc:
            refused.append(unreadable(Path(folder), exc))
            continue
        with listing as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                rel = prefix + entry.name
                if entry.is_symlink():
                    try:
                        target = Path(entry.path).resolve(strict=True)
                    except (OSError, RuntimeError):
                        refused.append(
                            ContentError(
                                "is a symbolic link that loops or leads nowhere (remove it, "
                                "or point it at a file in the content folder)",
                                path=Path(entry.path),
                            )
                        )
                        continue
                    if not target.is_relative_to(real_root):
                        refused.append(
                            ContentError(
                                f"is a symbolic link to {target}, outside the content folder "
                                "(copy the file in instead)",
                                path=Path(entry.path),
                            )
                        )
                        continue
                if entry.is_dir():
                    pending.append((entry.path, rel + "/"))
                elif entry.is_file():
                    info = entry.stat()
                    source = Source(entry.path, rel, info.st_mtime_ns, info.st_size)
                    is_post = entry.name.endswith(POST_SUFFIXES)
                    (posts if is_post else assets).append(source)
    if refused:
        raise Problems(refused)
    posts.sort(key=lambda s: s.rel)
    assets.sort(key=lambda s: s.rel)
    return posts, assets


def unreadable(path: Path, exc: OSError) -> ContentError:
    reason = exc.strerror or type(exc).__name__
    return ContentError(
        f"cannot be read ({reason}); check its owner and permissions, or move it out of the "
        "content folder",
        path=path,
    )


def inputs_signature(posts: list[Source], assets: list[Source], ledger: Path | None) -> str:
    """Digest the stat of every input: posts, other files, and the ledger."""
    rows = [(source.rel, source.size, source.mtime_ns) for source in [*posts, *assets]]
    if ledger is not None:
        try:
            info = ledger.stat()
            rows.append(("\0ledger", info.st_size, info.st_mtime_ns))
        except FileNotFoundError:
            rows.append(("\0no ledger", 0, 0))
    return digest_stats(rows)


def assets_signature(assets: list[Source]) -> str:
    """Digest the stat of the files below the content folder that are not posts."""
    return digest_stats((source.rel, source.size, source.mtime_ns) for source in assets)
