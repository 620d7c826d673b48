"""The build, top to bottom: settings, posts, HTML, feeds, then one write at the end.

Everything is read and checked before anything is written, so an invalid post leaves the
published output exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wcitfeed.config import load_site
from wcitfeed.content import load_posts
from wcitfeed.feeds import build_feeds, feed_links
from wcitfeed.model import Site
from wcitfeed.output import WriteReport, write_outputs
from wcitfeed.render import load_templates, render_pages, render_posts


@dataclass(frozen=True)
class Paths:
    """Where to read and write; ``None`` means 'as the settings file says'."""

    config: Path | None = None
    content: Path | None = None
    templates: Path | None = None
    output: Path | None = None


@dataclass(frozen=True)
class BuildResult:
    """The outcome of a build: how many posts were published and what changed on disk."""

    site: Site
    posts: int
    files: dict[str, bytes]
    report: WriteReport | None


def generate(paths: Paths) -> tuple[Site, int, dict[str, bytes]]:
    """Read and render everything; return the output files without writing them."""
    site = load_site(
        paths.config,
        content_dir=paths.content,
        templates_dir=paths.templates,
        output_dir=paths.output,
    )
    posts = [p for p in load_posts(site) if not p.draft]
    templates = load_templates(site.templates_dir)
    rendered = render_posts(site, posts, templates)
    files = render_pages(site, rendered, templates, feed_links(site))
    files.update(build_feeds(site, rendered))
    return site, len(posts), files


def build(paths: Paths) -> BuildResult:
    """Generate every output file, then write the ones whose bytes changed."""
    site, count, files = generate(paths)
    return BuildResult(site, count, files, write_outputs(site.output_dir, files))


def check(paths: Paths) -> BuildResult:
    """Do everything a build does except writing."""
    site, count, files = generate(paths)
    return BuildResult(site, count, files, None)
