"""The command line: parse options, run the pipeline, report in one line or stay quiet."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from wcitfeed import __version__
from wcitfeed.errors import Problems, WcitfeedError
from wcitfeed.pipeline import BuildResult, Paths, build, check

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

_path = click.Path(path_type=Path)


def _paths_options(func: click.decorators.FC) -> click.decorators.FC:
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
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="wcitfeed")
def main() -> None:
    """Turn dated Markdown updates into Atom and RSS feeds and HTML fragments.

    \b
    Example:
      wcitfeed build            # content/ + templates/ -> output/
    """


@main.command("build", context_settings=CONTEXT)
@_paths_options
@click.option("-v", "--verbose", is_flag=True, help="List every file written or removed.")
def build_command(
    config: Path | None,
    content: Path | None,
    templates: Path | None,
    output: Path | None,
    verbose: bool,
) -> None:
    """Build the feeds, fragments and pages into the output folder.

    Prints nothing when no file changed (so cron mails nothing), one line otherwise.
    Exit codes: 0 built, 1 invalid input (nothing in the output folder is touched).

    \b
    Example:
      wcitfeed build --output public/
    """
    result = _run(build, Paths(config, content, templates, output))
    report, generated = result.report, result.generated
    assert report is not None
    out = generated.site.output_dir
    if verbose:
        for rel in report.written:
            click.echo(f"wrote {out / rel}")
        for rel in report.removed:
            click.echo(f"removed {out / rel}")
        for url in result.pinged:
            click.echo(f"pinged hub for {url}")
    if report.changed or verbose:
        click.echo(
            f"Built {generated.posts} posts into {out}: "
            f"{len(report.written)} written, {len(report.removed)} removed, "
            f"{len(report.unchanged)} unchanged."
        )


@main.command("check", context_settings=CONTEXT)
@_paths_options
def check_command(
    config: Path | None, content: Path | None, templates: Path | None, output: Path | None
) -> None:
    """Check settings, posts and templates without writing anything.

    Exit codes: 0 all good, 1 problems found (each printed on its own line).

    \b
    Example:
      wcitfeed check --content drafts/
    """
    result = _run(check, Paths(config, content, templates, output))
    generated = result.generated
    click.echo(f"OK: {generated.posts} posts, {len(generated.files)} files would be built.")


def _run(step: Callable[[Paths], BuildResult], paths: Paths) -> BuildResult:
    """Run a pipeline step; print each input problem as one line and exit 1 on any."""
    try:
        result = step(paths)
    except Problems as problems:
        for problem in problems.problems:
            click.echo(f"Error: {problem}", err=True)
        sys.exit(1)
    except WcitfeedError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    return result
