"""The command line: parse options, run the pipeline, report in one line or stay quiet."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from wcitfeed import __version__
from wcitfeed.errors import Problems, WcitfeedError
from wcitfeed.pipeline import BuildResult, Locked, Options, Paths, build

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
# Exit codes, documented in README.md ("Exit codes").
EXIT_INVALID = 1
EXIT_UNCHANGED = 3
EXIT_LOCKED = 75  # EX_TEMPFAIL from sysexits.h: cron wrappers know it means "try later"

_path = click.Path(path_type=Path)


def _paths_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--config",
            "config",
            type=_path,
            default=None,
            help="Settings file. [default: wcitfeed.toml]",
        ),
        click.option(
            "--content",
            type=_path,
            default=None,
            help="Folder of posts. [default: from settings, content/]",
        ),
        click.option(
            "--templates",
            type=_path,
            default=None,
            help="Folder of templates. [default: from settings, templates/]",
        ),
        click.option(
            "--output",
            type=_path,
            default=None,
            help="Folder to write. [default: from settings, output/]",
        ),
        click.option(
            "--now",
            type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]),
            default=None,
            help="Build as if it were this time (ISO 8601 with offset, or a date in "
            "UTC): decides which scheduled posts are due and dates edits.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="wcitfeed")
def main() -> None:
    """Turn dated Markdown updates into feeds, fragments and pages.

    \b
    Example:
      wcitfeed build            # content/ + templates/ -> output/
    """


@main.command("build", context_settings=CONTEXT)
@_paths_options
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors and warnings.")
@click.option("-v", "--verbose", is_flag=True, help="List every file written or removed.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report on stdout.")
@click.option(
    "--wait",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds to wait for another build of this site to finish.",
)
@click.option(
    "--exit-unchanged",
    is_flag=True,
    help=f"Exit with {EXIT_UNCHANGED} when no output file changed.",
)
def build_command(
    config: Path | None,
    content: Path | None,
    templates: Path | None,
    output: Path | None,
    now: datetime | None,
    quiet: bool,
    verbose: bool,
    as_json: bool,
    wait: float,
    exit_unchanged: bool,
) -> None:
    """Build the feeds, fragments and pages into the output folder.

    Prints nothing when no file changed (so cron mails nothing), one line otherwise.
    Exit codes: 0 built, 1 invalid input (nothing in the output folder is touched),
    3 nothing changed (only with --exit-unchanged), 75 another build holds the lock.

    \b
    Example:
      wcitfeed build --output public/
      */5 * * * * cd /srv/wcit && wcitfeed build      # from cron
    """
    started = time.monotonic()
    show_progress = sys.stderr.isatty() and not (quiet or as_json)
    bar: Any = None

    def on_plan(total: int) -> None:
        nonlocal bar
        if show_progress and total > 200:
            bar = click.progressbar(length=total, label="Building", file=sys.stderr)
            bar.__enter__()

    def progress(done: int) -> None:
        if bar is not None:
            bar.update(done - bar.pos)

    options = Options(now=_now(now), wait=wait, progress=progress, on_plan=on_plan)
    try:
        result = _run(lambda: build(Paths(config, content, templates, output), options))
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    report = result.report
    out = result.site.output_dir
    if as_json:
        click.echo(
            json.dumps(
                {
                    "changed": report.changed,
                    "posts": None if result.skipped else result.posts,
                    "written": list(report.written),
                    "removed": list(report.removed),
                    "unchanged": len(report.unchanged) if not result.skipped else result.files,
                    "pinged": list(result.pinged),
                    "warnings": [str(w) for w in result.warnings],
                    "seconds": round(time.monotonic() - started, 3),
                }
            )
        )
    elif not quiet:
        if verbose:
            for rel in report.written:
                click.echo(f"wrote {out / rel}")
            for rel in report.removed:
                click.echo(f"removed {out / rel}")
            for url in result.pinged:
                click.echo(f"pinged hub for {url}")
        if result.skipped and verbose:
            click.echo(f"Nothing to do: no input changed since the last build of {out}.")
        elif report.changed or verbose:
            click.echo(
                f"Built {result.posts} posts into {out}: {len(report.written)} written, "
                f"{len(report.removed)} removed, {len(report.unchanged)} unchanged."
            )
    if exit_unchanged and not report.changed:
        sys.exit(EXIT_UNCHANGED)


@main.command("check", context_settings=CONTEXT)
@_paths_options
def check_command(
    config: Path | None,
    content: Path | None,
    templates: Path | None,
    output: Path | None,
    now: datetime | None,
) -> None:
    """Check settings, posts and templates without writing anything.

    Makes every output in memory, so template errors show too.
    Exit codes: 0 all good, 1 problems found (each printed on its own line).

    \b
    Example:
      wcitfeed check --content drafts/
    """
    options = Options(now=_now(now), write=False)
    result = _run(lambda: build(Paths(config, content, templates, output), options))
    click.echo(f"OK: {result.posts} posts, {result.files} files would be built.")


def _now(given: datetime | None) -> datetime:
    if given is None:
        return datetime.now(UTC)
    return given if given.tzinfo is not None else given.replace(tzinfo=UTC)


def _run(step: Callable[[], BuildResult]) -> BuildResult:
    """Run a pipeline step; print each input problem as one line and exit non-zero on any."""
    try:
        result = step()
    except Problems as problems:
        for problem in problems.problems:
            click.echo(f"Error: {problem}", err=True)
        sys.exit(EXIT_INVALID)
    except Locked as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_LOCKED)
    except WcitfeedError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_INVALID)
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    return result
