"""The Python API: what the command line does, for scripts and other tools.

    from wcitfeed import build, check

    result = build("path/to/site")          # a folder with wcitfeed.toml, or the file
    print(result.posts, "posts;", len(result.report.written), "files written")
    for problem in check("path/to/site").problems:
        print(problem)

``build`` raises ``wcitfeed.Problems`` (a ``WcitfeedError`` listing each problem with its
file, line and field) when the input is invalid, and publishes nothing then. The command
line is a thin layer over these functions.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wcitfeed.config import find_config, load_site
from wcitfeed.errors import Problems, WcitfeedError
from wcitfeed.model import Site
from wcitfeed.pipeline import BuildResult, Options, Paths
from wcitfeed.pipeline import build as run_build

SiteArg = str | os.PathLike[str] | None


@dataclass(frozen=True)
class CheckResult:
    """What ``check`` found: posts and files a build would make, problems and warnings."""

    posts: int = 0
    files: int = 0
    problems: list[WcitfeedError] = field(default_factory=list)
    warnings: list[WcitfeedError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Say whether a build would succeed."""
        return not self.problems


def settings_file(site: SiteArg) -> Path:
    """Return a site's settings file: ``site`` is the file, its folder, or None to look
    in the current folder and its parents (and ``$WCITFEED_CONFIG``)."""
    return find_config(Path(site) if site is not None else None)


def load(site: SiteArg = None) -> Site:
    """Read and check a site's settings."""
    return load_site(settings_file(site))


def build(
    site: SiteArg = None,
    *,
    content: SiteArg = None,
    templates: SiteArg = None,
    output: SiteArg = None,
    now: datetime | None = None,
    skip_invalid: bool = False,
    allow_removals: bool = False,
    trust_clock: bool = False,
    wait: float = 60.0,
    progress: Callable[[int], Any] | None = None,
    on_plan: Callable[[int], Any] | None = None,
    on_wait: Callable[[Path], Any] | None = None,
) -> BuildResult:
    """Build a site into its output folder and return what changed.

    The keyword arguments are the command line's options of the same names; ``now``
    defaults to the clock.
    """
    options = Options(
        now=now or datetime.now(UTC),
        wait=wait,
        skip_invalid=skip_invalid,
        allow_removals=allow_removals,
        trust_clock=trust_clock,
        progress=progress,
        on_plan=on_plan,
        on_wait=on_wait,
    )
    return run_build(_paths(site, content, templates, output), options)


def check(
    site: SiteArg = None,
    *,
    content: SiteArg = None,
    templates: SiteArg = None,
    now: datetime | None = None,
) -> CheckResult:
    """Do everything a build does except writing, and report every problem found."""
    options = Options(now=now or datetime.now(UTC), write=False)
    try:
        result = run_build(_paths(site, content, templates, None), options)
    except Problems as found:
        return CheckResult(problems=list(found.problems))
    except WcitfeedError as error:
        return CheckResult(problems=[error])
    return CheckResult(result.posts, result.files, [], list(result.warnings))


def _paths(site: SiteArg, content: SiteArg, templates: SiteArg, output: SiteArg) -> Paths:
    def optional(value: SiteArg) -> Path | None:
        return Path(value) if value is not None else None

    return Paths(settings_file(site), optional(content), optional(templates), optional(output))
