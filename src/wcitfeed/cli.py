"""The command line: parse options, run the pipeline, report in one line or stay quiet."""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import click

from wcitfeed import __version__, api
from wcitfeed.errors import EnvironmentProblem, Problems, Refused, WcitfeedError
from wcitfeed.pipeline import BuildResult, Locked, Options, Paths, build
from wcitfeed.workers import return_large_buffers

if TYPE_CHECKING:
    from email.message import EmailMessage

    from wcitfeed.newsletter import Digest

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
# Exit codes, documented in README.md ("Exit codes").
EXIT_INVALID = 1
EXIT_UNCHANGED = 3
EXIT_SKIPPED = 4
EXIT_REFUSED = 5
EXIT_ENVIRONMENT = 6
EXIT_LOCKED = 75  # EX_TEMPFAIL from sysexits.h: cron wrappers know it means "try later"

_path = click.Path(path_type=Path)
_DATES = click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"])
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
_config_option: Decorator = click.option(
    "--config",
    "config",
    type=_path,
    default=None,
    help="Settings file (or its folder). [default: $WCITFEED_CONFIG, else the first "
    "wcitfeed.toml here or above]",
)


def _now_option(help_text: str) -> Decorator:
    return click.option("--now", type=_DATES, metavar="TIME", default=None, help=help_text)


def _paths_options(*, output: bool) -> Decorator:
    """The options that say where a site is; ``output`` only for commands that write it."""
    options: list[Decorator] = [
        _config_option,
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
            help="Folder of templates overriding the bundled ones. [default: from settings, "
            "templates/]",
        ),
    ]
    if output:
        options.append(
            click.option(
                "--output",
                type=_path,
                default=None,
                help="Folder to write. [default: from settings, output/]",
            )
        )
    options.append(
        _now_option(
            "Build as if it were this time, e.g. 2012-12-14T22:00:00+04:00 or 2012-12-14 "
            "(UTC): decides which scheduled posts are due and dates edits."
        )
    )

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="wcitfeed")
def main() -> None:
    """Turn dated Markdown updates into feeds, fragments and pages.

    \b
    Example:
      wcitfeed build            # content/ + templates/ -> output/
    """
    return_large_buffers()


@main.command("init", context_settings=CONTEXT)
@click.argument("folder", type=_path, default=Path())
@click.option("--title", default=None, help="Site and feed title. [default: Updates]")
@click.option(
    "--base-url",
    default=None,
    help="Where output/ will be published. [default: https://example.org/]",
)
@click.option("--language", default=None, help="Language tag, e.g. en or fr-CA. [default: en]")
@click.option("--timezone", default=None, help="IANA zone, e.g. Europe/Paris. [default: UTC]")
@click.option("--author", default=None, help="Author named in the feeds. [default: the title]")
@click.option("--templates", is_flag=True, help="Also copy the bundled templates to edit.")
def init_command(
    folder: Path,
    title: str | None,
    base_url: str | None,
    language: str | None,
    timezone: str | None,
    author: str | None,
    templates: bool,
) -> None:
    """Start a site: wcitfeed.toml, content/ with a first post, and a .gitignore.

    Asks for what the options leave out when run on a terminal; takes the defaults
    otherwise (from cron or a script). Never overwrites a file: an existing one is kept.

    \b
    Example:
      wcitfeed init blog --title "Our updates" --base-url https://example.org/news/
      wcitfeed init --templates      # add the bundled templates to edit
    """
    from wcitfeed.scaffold import Answers, init_site

    given = {
        "title": title,
        "base_url": base_url,
        "language": language,
        "timezone": timezone,
        "author": author,
    }
    defaults = Answers()
    if sys.stdin.isatty():
        prompts = {
            "title": "Title",
            "base_url": "Address where the site will be published",
            "language": "Language",
            "timezone": "Timezone",
            "author": "Author (empty: the title)",
        }
        for key, prompt in prompts.items():
            if given[key] is None:
                given[key] = click.prompt(prompt, default=getattr(defaults, key), show_default=True)
    answers = Answers(**{k: v if v is not None else getattr(defaults, k) for k, v in given.items()})
    created = _run_step(lambda: init_site(folder, answers, datetime.now(UTC), templates=templates))
    for item in created:
        state = "kept existing" if item.kept else "created"
        click.echo(f"{state} {item.path}")
    where = "" if folder == Path() else f"cd {folder} && "
    click.echo(f"Next: {where}wcitfeed build   (or wcitfeed serve to preview)")


@main.command("build", context_settings=CONTEXT)
@_paths_options(output=True)
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
@click.option(
    "--skip-invalid",
    is_flag=True,
    help=f"Publish the valid posts, report the others, exit {EXIT_SKIPPED}.",
)
@click.option(
    "--allow-removals",
    is_flag=True,
    help="Withdraw more published posts than removal_limit allows (or all of them).",
)
@click.option(
    "--trust-clock",
    is_flag=True,
    help="Build even when the clock is before the ledger's records or a day ahead.",
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
    skip_invalid: bool,
    allow_removals: bool,
    trust_clock: bool,
) -> None:
    """Build the feeds, fragments and pages into the output folder.

    Prints nothing when no file changed (so cron mails nothing), one line otherwise.
    Exit codes: 0 built, 1 invalid input (nothing in the output folder is touched),
    3 nothing changed (only with --exit-unchanged), 4 built without the invalid posts
    (only with --skip-invalid), 5 refused: it would withdraw too many posts or the clock
    is wrong, 6 the machine stopped it (permissions, full or read-only disk),
    75 another build holds the lock.

    \b
    Example:
      wcitfeed build --output public/
      */5 * * * * cd /srv/wcit && wcitfeed build      # from cron
    """
    if quiet and verbose:
        raise click.UsageError("-q prints nothing but problems and -v lists every file: choose one")
    started = time.monotonic()
    show_progress = sys.stderr.isatty() and not (quiet or as_json)
    bar: Any = None

    def on_plan(total: int) -> None:
        nonlocal bar
        if show_progress and total > 200:
            bar = click.progressbar(length=total, label="Building", file=sys.stderr)
            bar.__enter__()

    def on_wait(lock: Path) -> None:
        if verbose:
            click.echo(
                f"Waiting up to {wait:g} s for another build of this site ({lock})", err=True
            )

    def progress(done: int) -> None:
        if bar is not None:
            bar.update(done - bar.pos)

    try:
        result = _run(
            lambda: api.build(
                config,
                content=content,
                templates=templates,
                output=output,
                now=_now(now),
                wait=wait,
                skip_invalid=skip_invalid,
                allow_removals=allow_removals,
                trust_clock=trust_clock,
                progress=progress,
                on_plan=on_plan,
                on_wait=on_wait,
            ),
            as_json=as_json,
        )
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    report = result.report
    out = result.site.output_dir
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": True,
                    "changed": report.changed,
                    "posts": result.posts,
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
                f"Built {_count(result.posts, 'post')} into {out}: {len(report.written)} written, "
                f"{len(report.removed)} removed, {len(report.unchanged)} unchanged."
            )
    for problem in result.invalid:
        click.echo(f"Error: {problem} (left out of this build)", err=True)
    if result.invalid:
        sys.exit(EXIT_SKIPPED)
    if exit_unchanged and not report.changed:
        sys.exit(EXIT_UNCHANGED)


@main.command("check", context_settings=CONTEXT)
@_paths_options(output=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="One line per problem, or one JSON document for tools.",
)
def check_command(
    config: Path | None,
    content: Path | None,
    templates: Path | None,
    now: datetime | None,
    fmt: str,
) -> None:
    """Check settings, posts and templates without writing anything.

    Makes every output in memory, so template errors show too.
    Exit codes: 0 all good, 1 problems found (each printed on its own line).

    \b
    Example:
      wcitfeed check --content drafts/
      wcitfeed check --format json | jq '.problems[].text'
    """
    result = api.check(config, content=content, templates=templates, now=_now(now))
    if fmt == "json":
        document = {
            "ok": result.ok,
            "posts": result.posts if result.ok else None,
            "problems": [_as_dict(p) for p in result.problems],
            "warnings": [_as_dict(w) for w in result.warnings],
        }
        click.echo(json.dumps(document, indent=2))
    else:
        for problem in result.problems:
            click.echo(f"Error: {problem}", err=True)
        for warning in result.warnings:
            click.echo(f"Warning: {warning}", err=True)
        if result.ok:
            click.echo(
                f"OK: {_count(result.posts, 'post')}, {_count(result.files, 'file')} would be "
                "built."
            )
    if not result.ok:
        sys.exit(_exit_code(result.problems[0]) if len(result.problems) == 1 else EXIT_INVALID)


def _as_dict(problem: WcitfeedError) -> dict[str, Any]:
    return {
        "path": str(problem.path) if problem.path else None,
        "line": problem.line,
        "field": problem.field,
        "message": problem.message,
        "text": str(problem),
    }


@main.command("serve", context_settings=CONTEXT)
@_paths_options(output=False)
@click.option(
    "--port",
    type=int,
    default=8000,
    show_default=True,
    help="Port to serve on (0 picks a free one).",
)
@click.option(
    "--bind",
    default="127.0.0.1",
    show_default=True,
    metavar="ADDRESS",
    help="Address to serve on; 0.0.0.0 opens the preview to your network (a phone, say).",
)
def serve_command(
    config: Path | None,
    content: Path | None,
    templates: Path | None,
    now: datetime | None,
    port: int,
    bind: str,
) -> None:
    """Preview the site on 127.0.0.1, rebuilding whenever a post, template or setting changes.

    Open pages reload after each rebuild. Drafts are shown, marked as drafts; output/ and
    the ledger are not touched (the preview lives in the cache folder). Build errors are
    printed and shown on the page until they are fixed. A busy port exits 2.

    \b
    Example:
      wcitfeed serve --port 8080     # then open http://127.0.0.1:8080/
    """
    from wcitfeed.config import load_site
    from wcitfeed.serve import EVERY_INTERFACE, PortBusy, Preview, open_server, serve

    paths = Paths(config, content, templates)
    site = _run_step(lambda: load_site(config, content_dir=content, templates_dir=templates))

    def build_preview(base_url: str) -> tuple[Path, list[str]]:
        options = Options(now=_now(now), preview=base_url, wait=600)
        try:
            result = build(paths, options)
        except Problems as problems:
            return Path(), [str(p) for p in problems.problems]
        except WcitfeedError as error:
            return Path(), [str(error)]
        stamp = time.strftime("%H:%M:%S")
        if result.report.changed:
            click.echo(f"{stamp} rebuilt: {len(result.report.written)} files changed", err=True)
        return result.site.output_dir, []

    preview = Preview(build_preview, lambda line: click.echo(f"Error: {line}", err=True))
    watched = [site.content_dir, site.templates_dir, site.source or Path("wcitfeed.toml")]
    try:
        server = open_server(preview, bind, port)
    except PortBusy as busy:
        click.echo(f"Error: {busy}", err=True)
        sys.exit(2)
    if bind in EVERY_INTERFACE:
        click.echo("Warning: the preview, drafts included, is open to your network", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        serve(
            preview,
            watched,
            [site.cache_dir, site.output_dir],
            server,
            lambda url: click.echo(f"Serving {url} (Ctrl-C to stop)", err=True),
        )


@main.command("server-config", context_settings=CONTEXT)
@click.argument("kind", type=click.Choice(["nginx", "apache", "caddy", "headers"]))
@_config_option
def server_config_command(kind: str, config: Path | None) -> None:
    """Print web server settings that serve each feed with its own type and charset.

    nginx: a snippet to include in the server block; apache: an .htaccess; caddy: a
    snippet to import in the site block; headers: the _headers file of Netlify and
    Cloudflare Pages, listing the feeds the last build wrote.

    \b
    Example:
      wcitfeed server-config nginx > /etc/nginx/snippets/wcitfeed.conf
      wcitfeed server-config headers > output/_headers
    """
    from wcitfeed.config import load_site
    from wcitfeed.serverconfig import snippet

    site = _run_step(lambda: load_site(config))
    click.echo(snippet(kind, site), nl=False)


@main.command("new", context_settings=CONTEXT)
@click.argument("title")
@click.option("--category", default=None, help="Category key; the post goes in its folder.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeat for more).")
@click.option("--draft", is_flag=True, help="Start as a draft: previewed, never published.")
@_config_option
@_now_option("Date the post at this time instead of now.")
def new_command(
    title: str,
    category: str | None,
    tags: tuple[str, ...],
    draft: bool,
    config: Path | None,
    now: datetime | None,
) -> None:
    """Write a new post with valid front matter and a fresh permanent id.

    The date is now in the site's timezone; the file name is the title made into a slug.
    An existing file is never overwritten.

    \b
    Example:
      wcitfeed new "Monday December 10th" --category periodic --tag plenary
    """
    from wcitfeed.config import load_site
    from wcitfeed.content import new_post_text
    from wcitfeed.model import slugify

    site = _run_step(lambda: load_site(config))
    keys = [key for key, _ in site.categories]
    if category is not None and keys and category not in keys:
        click.echo(
            f"Error: '{category}' is not a category (use one of {', '.join(keys)})", err=True
        )
        sys.exit(EXIT_INVALID)
    if category is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", category):
        # The category names a folder below content/: never a path that leaves it.
        click.echo(
            f"Error: '{category}' is not a category key (write letters, digits, '-' or '_', "
            "e.g. --category periodic)",
            err=True,
        )
        sys.exit(EXIT_INVALID)
    when = _now(now).astimezone(site.timezone).replace(microsecond=0)
    folder = site.content_dir / category if category else site.content_dir
    path = folder / f"{slugify(title)}.md"
    if path.exists():
        click.echo(f"Error: {path} exists already (choose another title, or edit it)", err=True)
        sys.exit(EXIT_INVALID)
    folder.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as handle:
        handle.write(new_post_text(title, when, category, list(tags), draft))
    click.echo(str(path))


@main.command("digest", context_settings=CONTEXT)
@click.option(
    "--since",
    type=_DATES,
    metavar="TIME",
    default=None,
    help="Posts published at or after this time.",
)
@click.option("--last", type=click.IntRange(min=1), default=None, help="The newest N posts.")
@click.option(
    "--since-last",
    is_flag=True,
    help="Posts not in an earlier --since-last digest (remembered in --state).",
)
@click.option(
    "--start-now",
    is_flag=True,
    help="Record every post so far as sent and send nothing: where --since-last starts.",
)
@click.option(
    "--max",
    "most",
    type=click.IntRange(min=1),
    default=None,
    help="At most the N newest of the window (older unsent ones are passed over).",
)
@click.option(
    "--full/--summary",
    default=False,
    show_default=True,
    help="Each post's full text, or its summary.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "text", "eml"]),
    default="html",
    show_default=True,
    help="An HTML document, plain text, or a MIME message.",
)
@click.option("--to", "to", multiple=True, help="Recipient (repeatable).")
@click.option(
    "--bcc",
    is_flag=True,
    help="Recipients in the envelope only; To: shows none of them.",
)
@click.option("--from", "sender", default=None, help="Sender. [default: mail_from setting]")
@click.option("--subject", default=None, help="Subject and heading.")
@click.option(
    "--send",
    is_flag=True,
    help="Deliver it: SMTP (smtp_host setting) or the local sendmail.",
)
@click.option("--dry-run", is_flag=True, help="With --send: print what would be sent.")
@click.option(
    "--state",
    type=_path,
    default=None,
    help="State file for --since-last. [default: wcitfeed-digest.json beside the settings]",
)
@_config_option
@_now_option("Act as if it were this time.")
def digest_command(
    since: datetime | None,
    last: int | None,
    since_last: bool,
    start_now: bool,
    most: int | None,
    full: bool,
    fmt: str,
    to: tuple[str, ...],
    bcc: bool,
    sender: str | None,
    subject: str | None,
    send: bool,
    dry_run: bool,
    state: Path | None,
    config: Path | None,
    now: datetime | None,
) -> None:
    """Make an e-mail-safe digest of new posts, print it or send it, for newsletters.

    Exactly one of --since, --last, --since-last (or --start-now). The first --since-last
    needs --start-now or --max, so it never mails every post ever written. With nothing
    new it prints nothing on stdout, says so on stderr, exits 3 and leaves the state
    alone, so cron sends no empty newsletter; the state moves only once the digest was
    printed or handed to the mail server. A failed delivery exits 6.

    \b
    Example:
      wcitfeed digest --since-last --start-now          # once: start from now
      wcitfeed digest --since-last --send --bcc --to a@example.org --to b@example.org
    """
    from wcitfeed.config import find_config
    from wcitfeed.newsletter import Window, make_digest, record_sent
    from wcitfeed.newsletter import start_now as record_start

    if start_now:
        if since is not None or last is not None or send:
            raise click.UsageError("--start-now records a starting point: give it alone")
        since_last = True
    if sum([since is not None, last is not None, since_last]) != 1:
        raise click.UsageError("give exactly one of --since, --last, --since-last")
    if dry_run and not send:
        raise click.UsageError("--dry-run goes with --send")
    if bcc and not (send or fmt == "eml"):
        raise click.UsageError("--bcc is for --send or --format eml")
    _check_headers(subject, sender, to)
    moment = _now(now)
    config = _run_step(lambda: find_config(config))
    state_path = state or config.parent / "wcitfeed-digest.json"
    if start_now:
        count = _run_step(lambda: record_start(config, moment, state_path))
        click.echo(
            f"Recorded {_count(count, 'post')} as sent in {state_path}; the next --since-last "
            "digest starts after them.",
            err=True,
        )
        return
    window = Window(_now(since) if since else None, last, since_last, most)
    digest = _run_step(
        lambda: make_digest(config, window, moment, state_path, full=full, subject=subject)
    )
    if digest is None:
        click.echo("Nothing new for a digest.", err=True)
        sys.exit(EXIT_UNCHANGED)
    if send or fmt == "eml":
        message, recipients = _message(digest, sender, to, bcc, moment)
        if send:
            _send(message, recipients, digest, dry_run)
            if dry_run:
                return
        else:
            sys.stdout.buffer.write(message.as_bytes())
            sys.stdout.buffer.flush()
    elif fmt == "html":
        click.echo(digest.html, nl=False)
    else:
        click.echo(digest.text, nl=False)
    if since_last:
        record_sent(state_path, digest, moment)
        if digest.passed_over:
            click.echo(
                f"Passed over {_count(len(digest.passed_over), 'older post')} (--max).", err=True
            )


def _message(
    digest: Digest, sender: str | None, to: tuple[str, ...], bcc: bool, moment: datetime
) -> tuple[EmailMessage, list[str]]:
    """Address a digest: its MIME message and the envelope's recipients."""
    from wcitfeed.mail import Envelope, digest_message

    mail = digest.site.mail
    sender = sender or mail.sender
    if not to or not sender:
        raise click.UsageError("a message needs --to and --from (or mail_from in the settings)")
    envelope = Envelope(
        sender=sender,
        to=to,
        bcc=bcc,
        list_id=mail.list_id,
        list_name=digest.site.title,
        unsubscribe_url=mail.unsubscribe_url,
        unsubscribe_mailto=mail.unsubscribe_mailto,
    )
    domain = urlsplit(digest.site.base_url).hostname or "localhost"
    message = digest_message(
        digest.html,
        digest.text,
        subject=digest.subject,
        envelope=envelope,
        when=moment,
        domain=domain,
    )
    return message, list(to)


def _send(message: EmailMessage, recipients: list[str], digest: Digest, dry_run: bool) -> None:
    """Hand the message over (or show it, with --dry-run); exit 6 in one line on failure."""
    from wcitfeed.send import deliver

    if dry_run:
        for name, value in message.items():
            click.echo(f"{name}: {value}")
        click.echo(f"Envelope recipients: {', '.join(recipients)}")
        click.echo(f"Posts: {', '.join(p.title for p in digest.posts)}")
        click.echo("Dry run: nothing sent, state unchanged.", err=True)
        return
    sender = str(message["From"])
    delivered = _run_step(lambda: deliver(message, sender, recipients, digest.site.mail))
    click.echo(
        f"Sent {_count(len(digest.posts), 'post')} to {_count(len(recipients), 'recipient')} "
        f"through {delivered.where}."
    )
    if delivered.refused:
        click.echo(f"Warning: refused: {delivered.refused}", err=True)


T = TypeVar("T")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_ADDRESS_RE = re.compile(r"^[^@\s<>,;:\"]+@[^@\s<>,;:\"]+$")


def _check_headers(subject: str | None, sender: str | None, to: tuple[str, ...]) -> None:
    """Refuse header values that would break a message or inject headers into it."""
    for option, value in (("--subject", subject), ("--from", sender), *(("--to", t) for t in to)):
        if value is not None and _CONTROL_RE.search(value):
            raise click.BadParameter(
                "must be one line (no CR, LF or control characters)", param_hint=option
            )
    from email.utils import parseaddr  # here: a build never needs it

    for option, value in (("--from", sender), *(("--to", t) for t in to)):
        if value is not None and not _ADDRESS_RE.match(parseaddr(value)[1]):
            raise click.BadParameter(
                f"{value!r} is not an e-mail address (write jane@example.org or "
                "'Jane Doe <jane@example.org>')",
                param_hint=option,
            )


def _run_step(step: Callable[[], T], *, as_json: bool = False) -> T:
    """Run a step; print each input problem as one line and exit non-zero on any.

    With ``as_json``, the problems are one JSON document on stdout instead, so a script
    reading ``build --json`` always gets JSON.
    """
    try:
        return step()
    except WcitfeedError as error:
        problems = error.problems if isinstance(error, Problems) else [error]
        code = _exit_code(error)
        if as_json:
            document = {"ok": False, "exit": code, "problems": [_as_dict(p) for p in problems]}
            click.echo(json.dumps(document))
        else:
            for problem in problems:
                click.echo(f"Error: {problem}", err=True)
        sys.exit(code)


def _exit_code(error: WcitfeedError) -> int:
    """Map a problem to its documented exit code."""
    if isinstance(error, Locked):
        return EXIT_LOCKED
    if isinstance(error, Refused):
        return EXIT_REFUSED
    if isinstance(error, EnvironmentProblem):
        return EXIT_ENVIRONMENT
    return EXIT_INVALID


def _count(number: int, noun: str) -> str:
    """Say '1 post' or '6 posts'."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _now(given: datetime | None) -> datetime:
    if given is None:
        return datetime.now(UTC)
    if not 1000 <= given.year <= 9000:
        raise click.BadParameter(
            f"{given.isoformat()} is out of range (write a time from year 1000 to 9000, "
            "e.g. 2012-12-14T22:00:00+04:00)",
            param_hint="--now or --since",
        )
    return given if given.tzinfo is not None else given.replace(tzinfo=UTC)


def _run(step: Callable[[], BuildResult], *, as_json: bool = False) -> BuildResult:
    """Run a build; exit on problems as ``_run_step`` does, and print its warnings."""
    result = _run_step(step, as_json=as_json)
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    return result
