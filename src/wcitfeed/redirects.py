"""Old addresses of posts: the pages that send a reader on to where a post is now.

A post gets one for each address its front matter lists (Hugo's and Zola's ``aliases``,
Jekyll's ``redirect_from``) and for each address it had in an earlier build (the ledger
keeps them), so a link anyone saved keeps working after a slug or date changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from wcitfeed.errors import ContentError, WcitfeedError
from wcitfeed.model import Post, Site, page_file, post_path


@dataclass(frozen=True, slots=True)
class Redirect:
    """One redirect page: the file it is written to, and the URL and title of the post it
    sends readers to."""

    file: str
    target: str
    title: str


def alias_file(alias: str) -> str:
    """Return the file that serves an old address: ``old/`` and ``old`` are folders
    (``old/index.html``), ``old.html`` is a file."""
    path = alias.split("#")[0].split("?")[0].lstrip("/")
    last = path.rstrip("/").rpartition("/")[2]
    if "." in last and not path.endswith("/"):
        return path
    return page_file(path.rstrip("/") + "/")


def plan_redirects(
    site: Site,
    posts: Sequence[Post],
    earlier: Mapping[str, Iterable[str]],
    taken: Iterable[str],
) -> tuple[list[Redirect], list[WcitfeedError]]:
    """List the redirect pages of ``posts``: their aliases and the addresses ``earlier``
    (by post id) they had before. A file the build writes anyway (``taken``) is never
    replaced by a redirect; an alias that collides with one is reported."""
    occupied = set(taken)
    found: dict[str, Redirect] = {}
    warnings: list[WcitfeedError] = []
    for post in posts:
        here = page_file(post_path(post))
        target = site.url(post_path(post))
        moved = [p for p in earlier.get(post.id, ()) if page_file(p) != here]
        for alias in (*post.aliases, *moved):
            file = alias_file(alias)
            if file == here or file in found:
                continue
            if file in occupied:
                if alias in post.aliases:
                    warnings.append(
                        ContentError(
                            f"names the address {alias}, where the build writes another "
                            "page: no redirect is made there (remove the alias)",
                            path=post.source,
                            field="aliases",
                        )
                    )
                continue
            found[file] = Redirect(file, target, post.title)
    return sorted(found.values(), key=lambda r: r.file), warnings
