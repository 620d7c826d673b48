"""The build, top to bottom: settings, posts, HTML, feeds, then one write at the end.

Everything is read and checked before anything is written, so an invalid post leaves the
published output exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from wcitfeed.config import load_site
from wcitfeed.content import load_assets, load_posts
from wcitfeed.errors import WcitfeedError
from wcitfeed.feedset import build_feeds
from wcitfeed.model import Site, newest_first
from wcitfeed.output import WriteReport, write_outputs
from wcitfeed.render import load_templates, render_pages, render_posts
from wcitfeed.websub import ping_hub


@dataclass(frozen=True)
class Paths:
    """Where to read and write; ``None`` means 'as the settings file says'."""

    config: Path | None = None
    content: Path | None = None
    templates: Path | None = None
    output: Path | None = None


@dataclass(frozen=True)
class Generated:
    """Every output file in memory, before anything is written."""

    site: Site
    posts: int
    files: dict[str, bytes]
    live_feeds: dict[str, str]
    warnings: list[WcitfeedError]


@dataclass(frozen=True)
class BuildResult:
    """The outcome of a build: what was generated, what changed on disk, what was pinged."""

    generated: Generated
    report: WriteReport | None
    pinged: tuple[str, ...] = ()
    warnings: list[WcitfeedError] = field(default_factory=list)


def generate(paths: Paths) -> Generated:
    """Read and render everything; return the output files without writing them."""
    site = load_site(
        paths.config,
        content_dir=paths.content,
        templates_dir=paths.templates,
        output_dir=paths.output,
    )
    loaded, warnings = load_posts(site)
    posts = [p for p in loaded if not p.draft]
    assets = load_assets(site)
    templates = load_templates(site.templates_dir)
    rendered = newest_first(render_posts(site, posts, templates, assets))
    feeds = build_feeds(site, rendered)
    files = dict(assets)
    files.update(render_pages(site, rendered, templates, feeds.links))
    files.update(feeds.files)
    return Generated(site, len(posts), files, feeds.live, [*warnings, *feeds.warnings])


def build(paths: Paths) -> BuildResult:
    """Generate every output file, write the ones whose bytes changed, ping the hub."""
    generated = generate(paths)
    site = generated.site
    report = write_outputs(site.output_dir, generated.files)
    changed = [url for path, url in generated.live_feeds.items() if path in report.written]
    warnings = list(generated.warnings)
    if site.hub and changed:
        warnings += ping_hub(site.hub, changed)
    return BuildResult(generated, report, tuple(changed) if site.hub else (), warnings)


def check(paths: Paths) -> BuildResult:
    """Do everything a build does except writing."""
    generated = generate(paths)
    return BuildResult(generated, None, (), list(generated.warnings))
