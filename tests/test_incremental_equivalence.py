"""The one test that guards the whole incremental layer: after any sequence of changes, an
incremental build writes exactly the bytes a cold build of the same input writes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import THEME, snapshot, write_generated_post
from wcitfeed import plan, render
from wcitfeed.cli import main
from wcitfeed.workers import LatePool

SETTINGS = """\
title = "Equivalence"
base_url = "https://eq.example.org/"
templates = "templates"
feed_limit = {limit}
"""
# A post that shows a local picture: its enclosure length is the picture's size.
PICTURE_POST = "\n![A map](pics/map-{n}.png)\n"

operation = st.one_of(
    st.tuples(st.just("edit"), st.integers(1, 12)),
    # Front matter: a new title shows on the neighbours' pages; a new date moves the post
    # among the others (pages, archives, neighbours).
    st.tuples(st.just("retitle"), st.integers(1, 12)),
    st.tuples(st.just("redate"), st.integers(1, 12)),
    # A moved file: a new address for the same post, the old one redirecting to it.
    st.tuples(st.just("rename"), st.integers(1, 12)),
    st.tuples(st.just("add"), st.integers(13, 40)),
    st.tuples(st.just("delete"), st.integers(1, 12)),
    st.tuples(st.just("asset"), st.integers(1, 3)),
    st.tuples(st.just("settings"), st.sampled_from([0, 2, 3, 50])),
    # Listing pages left out (1) or written again (0): what linked to them changes too.
    st.tuples(st.just("listings"), st.integers(0, 1)),
    st.tuples(st.just("template"), st.integers(0, 3)),
    st.tuples(st.just("nothing"), st.just(0)),
)


def build(site: Path, now: str) -> None:
    result = CliRunner().invoke(
        main, ["build", "-q", "--config", str(site / "wcitfeed.toml"), "--now", now]
    )
    assert result.exit_code == 0, result.output


def make_site(root: Path) -> Path:
    site = root / "incremental"
    (site / "content/pics").mkdir(parents=True)
    shutil.copytree(THEME, site / "templates")
    (site / "wcitfeed.toml").write_text(SETTINGS.format(limit=3))
    start = datetime(2012, 1, 1, 9, tzinfo=UTC)
    for number in range(1, 13):
        extra = PICTURE_POST.format(n=number % 3 + 1) if number % 4 == 0 else ""
        write_generated_post(site / "content", number, start + timedelta(days=number), extra)
    for number in (1, 2, 3):
        (site / f"content/pics/map-{number}.png").write_bytes(b"\x89PNG" + b"x" * number)
    return site


def apply(site: Path, kind: str, value: int, step: int) -> None:
    content = site / "content"
    post = content / f"post-{value:04d}.md"
    if kind == "edit" and post.exists():
        post.write_text(post.read_text() + f"\nEdit {step}.\n")
    elif kind == "retitle" and post.exists():
        text = post.read_text()
        post.write_text(
            text.replace(f"title: Post {value}", f"title: Post {value} (step {step})", 1)
        )
    elif kind == "redate" and post.exists():
        text = post.read_text()
        date = text.split("date: ", 1)[1].split("\n", 1)[0]
        when = datetime.fromisoformat(date) - timedelta(days=step * 3 + 1)
        post.write_text(text.replace(f"date: {date}", f"date: {when.isoformat()}", 1))
    elif kind == "rename" and post.exists():
        post.rename(content / f"post-{value:04d}-{step}.md")
    elif kind == "add" and not post.exists():
        when = datetime(2012, 3, 1, tzinfo=UTC) + timedelta(days=value)
        write_generated_post(content, value, when, PICTURE_POST.format(n=value % 3 + 1))
    elif kind == "delete" and post.exists() and len(list(content.glob("*.md"))) > 8:
        post.unlink()
    elif kind == "asset":
        picture = content / f"pics/map-{value}.png"
        picture.write_bytes(picture.read_bytes() + b"y" * (step + 1))
    elif kind == "settings":
        (site / "wcitfeed.toml").write_text(SETTINGS.format(limit=value))
    elif kind == "listings":
        config = site / "wcitfeed.toml"
        kept = [line for line in config.read_text().splitlines() if "listings" not in line]
        config.write_text("\n".join([*kept, f"listings = {'false' if value else 'true'}", ""]))
    elif kind == "template":
        entry = site / "templates/entry.html"
        text = (THEME / "entry.html").read_text()
        entry.write_text(
            text.replace("{{ body_html }}", f"<div data-v='{value}'>{{{{ body_html }}}}</div>")
        )


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(operations=st.lists(operation, min_size=1, max_size=6))
def test_incremental_builds_equal_cold_builds(
    operations: list[tuple[str, int]], tmp_path_factory
) -> None:
    root = tmp_path_factory.mktemp("equivalence")
    site = make_site(root)
    build(site, "2013-01-01T00:00:00+00:00")
    for step, (kind, value) in enumerate(operations, start=1):
        apply(site, kind, value, step)
        now = f"2013-02-{step:02d}T00:00:00+00:00"
        # The cold build starts from the same input and the same ledger, with no cache and
        # no earlier output.
        cold = root / f"cold-{step}"
        shutil.copytree(site, cold, ignore=shutil.ignore_patterns("output", ".wcitfeed-cache"))
        build(site, now)
        build(cold, now)
        assert snapshot(site / "output") == snapshot(cold / "output"), (step, kind, value)
        assert snapshot(site / "wcitfeed-ledger.json") == snapshot(cold / "wcitfeed-ledger.json")
        shutil.rmtree(cold)


def test_a_no_change_build_takes_the_fast_path(tmp_path: Path) -> None:
    """With nothing changed, a build never imports the rendering and feed modules."""
    site = make_site(tmp_path)
    build(site, "2013-01-01T00:00:00+00:00")
    probe = (
        "import sys\n"
        "from wcitfeed.cli import main\n"
        "try:\n"
        f"    main(['build', '--config', {str(site / 'wcitfeed.toml')!r}])\n"
        "except SystemExit as done:\n"
        "    assert done.code in (0, None), done.code\n"
        "names = ('wcitfeed.', 'feedgen', 'jinja2', 'comrak', 'nh3', 'lxml', 'yaml', 'slugify',"
        " 'email.utils', 'difflib', 'pygments', 'urllib.request', 'multiprocessing')\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(names))\n"
        "print(' '.join(loaded))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert loaded, done.stderr
    heavy = {"wcitfeed.plan", "wcitfeed.render", "wcitfeed.feeds", "feedgen", "jinja2", "comrak"}
    # Nor the modules that parse and check posts, and read other tools' (only scan is needed).
    heavy |= {"wcitfeed.content", "wcitfeed.sources", "wcitfeed.front_matter", "yaml"}
    # Nor what only a new post's slug, a misspelt setting or an e-mail address needs.
    heavy |= {"slugify", "email.utils", "difflib"}
    assert loaded & heavy == set(), loaded & heavy
    # And a build after a change does load them, so the probe can tell the difference.
    (site / "content/post-0001.md").write_text(
        (site / "content/post-0001.md").read_text() + "\nChanged.\n"
    )
    changed = subprocess.run(
        [sys.executable, "-c", probe.replace("'build',", "'build', '--trust-clock',")],
        capture_output=True,
        text=True,
        check=True,
    )
    edited = set(changed.stdout.split())
    assert "wcitfeed.render" in edited
    # An edit of a post without code, on a site that makes nothing for e-mail, needs neither
    # Pygments, the e-mail modules, the worker processes nor urllib.request (each ~10-25 ms).
    assert edited & {"pygments", "wcitfeed.mail", "multiprocessing", "urllib.request"} == set()


# The search for file names in a post's text, as it was before its matches were anchored at
# the start of a word: the anchored one must find exactly the same.
_UNANCHORED = r"[^\s()\[\]<>\"'`|*]+\.[A-Za-z0-9]{1,8}(?=[\s)\]\"'<>#?|,;:]|$)"


@given(text=st.text(alphabet="ab1./-_ \n()[]<>\"'`|*#?,;:", max_size=60))
@settings(max_examples=3000, deadline=None)
def test_file_names_in_text_are_found_as_by_the_unanchored_search(text: str) -> None:
    import re

    from wcitfeed.content import _REFERENCE_RE

    assert _REFERENCE_RE.findall(text) == re.findall(_UNANCHORED, text)


def test_posts_read_on_every_core_build_the_same_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large cold build reads its posts in worker processes: the site is the same."""
    built = {}
    for on_every_core in (False, True):
        if on_every_core:
            monkeypatch.setattr("wcitfeed.content.PARALLEL_READ", 1)
        site = make_site(tmp_path / str(on_every_core))
        build(site, "2012-06-01T12:00:00+00:00")
        built[on_every_core] = snapshot(site / "output")
    assert built[True] == built[False]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores to make in parallel")
def test_slices_made_on_every_core_while_others_are_staged_build_the_same_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers render the posts, and make the feed documents and listing pages, of the next
    slice while the main process stages this one: the site is the same as one process's."""
    built = {}
    for on_every_core in (False, True):
        if on_every_core:
            # Every slice goes to the workers, and there are many small slices.
            monkeypatch.setattr("wcitfeed.plan.PARALLEL_POSTS", 1)
            monkeypatch.setattr("wcitfeed.plan.PARALLEL_THRESHOLD", 1)
            monkeypatch.setattr("wcitfeed.pipeline.SLICE_POSTS", 5)
            monkeypatch.setattr("wcitfeed.pipeline.SLICE_DOCUMENTS", 2)
        site = make_site(tmp_path / str(on_every_core))
        build(site, "2012-06-01T12:00:00+00:00")
        built[on_every_core] = snapshot(site / "output")
    assert built[True] == built[False]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores to start workers")
def test_workers_started_before_planning_end_with_a_build_that_fails_in_planning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold build starts its workers before it plans, and they wait for the plan: a build
    that fails in planning still ends them, and ends."""
    monkeypatch.setattr("wcitfeed.plan.PARALLEL_POSTS", 1)
    processes: list[Any] = []

    class Recorded(LatePool):
        def close(self) -> None:
            processes.extend(self.pool._processes.values())
            super().close()

    def failing(*args: Any) -> None:
        time.sleep(1)  # the workers are waiting for the plan by now
        raise RuntimeError("planning failed")

    monkeypatch.setattr("wcitfeed.plan.LatePool", Recorded)
    monkeypatch.setattr("wcitfeed.plan.plan_outputs", failing)
    site = make_site(tmp_path)
    outcome: list[BaseException | None] = []

    def run() -> None:
        result = CliRunner().invoke(
            main, ["build", "-q", "--config", str(site / "wcitfeed.toml"), "--now", "2012-06-01"]
        )
        outcome.append(result.exception)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the build hung closing workers that waited for a plan"
    assert isinstance(outcome[0], RuntimeError)
    assert len(processes) == (os.cpu_count() or 1)
    assert not any(process.is_alive() for process in processes)


class InProcessWorkers:
    """Stands in for the worker pool: each task runs at once in this process, against a
    maker given exactly the context the real workers are sent, so what the tasks render
    can be counted here."""

    def __init__(self, site: Any) -> None:
        self.site = site

    def begin(self, context: Any) -> InProcessWorkers:
        plan._WORKER["maker"] = plan.Maker(context, templates=render.load_templates(self.site))
        return self

    def submit(self, task: Any, *args: Any) -> Future[Any]:
        done: Future[Any] = Future()
        done.set_result(task(*args))
        return done

    def close(self) -> None:
        plan._WORKER.clear()


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores to make in parallel")
def test_a_cold_build_renders_each_post_once_whoever_makes_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers render the posts, then make the listings and feed documents that show them
    from the entries and summaries stored meanwhile: no post is rendered twice."""
    monkeypatch.setattr("wcitfeed.plan.PARALLEL_POSTS", 1)
    monkeypatch.setattr("wcitfeed.plan.PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr("wcitfeed.pipeline.SLICE_POSTS", 5)
    monkeypatch.setattr("wcitfeed.plan.start_workers", InProcessWorkers)
    rendered: list[str] = []
    render_post = render.render_post

    def counted(site: Any, post: Any, *args: Any) -> Any:
        rendered.append(post.slug)
        return render_post(site, post, *args)

    monkeypatch.setattr("wcitfeed.render.render_post", counted)
    site = make_site(tmp_path)
    build(site, "2012-06-01T12:00:00+00:00")
    pages = sorted(path.parent.name for path in (site / "output/posts").glob("*/index.html"))
    assert len(pages) == 12
    assert sorted(rendered) == pages


def test_an_edit_that_keeps_each_post_in_place_takes_the_quick_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit of a post's text makes again only the files that show it, without planning
    the site (the full plan is never called), and writes what a cold build writes; an edit
    that moves a post among the others (a new title shows on its neighbours' pages) takes
    the full path."""
    site = make_site(tmp_path / "a")
    build(site, "2013-01-01T00:00:00+00:00")
    before = snapshot(site / "output")

    def failing(*args: Any) -> None:
        raise RuntimeError("the full plan was asked for")

    monkeypatch.setattr("wcitfeed.plan.plan_outputs", failing)
    apply(site, "edit", 4, 1)  # a post that shows a picture, in an archive page
    apply(site, "edit", 12, 1)  # the newest post: the live feeds and the updates page
    build(site, "2013-02-01T00:00:00+00:00")
    cold = tmp_path / "cold"
    shutil.copytree(site, cold, ignore=shutil.ignore_patterns("output", ".wcitfeed-cache"))
    monkeypatch.undo()
    build(cold, "2013-02-01T00:00:00+00:00")
    after = snapshot(site / "output")
    assert after == snapshot(cold / "output")
    changed = {path for path in after if after[path] != before.get(path)}
    shown = {"posts/post-0004/index.html", "archive/2/atom.xml", "sitemap.xml", "atom.xml"}
    assert shown <= changed, changed
    # The next build, with nothing changed, has nothing to do: the quick path kept the cache.
    monkeypatch.setattr("wcitfeed.plan.plan_outputs", failing)
    build(site, "2013-02-02T00:00:00+00:00")
    apply(site, "retitle", 5, 2)
    result = CliRunner().invoke(
        main, ["build", "-q", "--config", str(site / "wcitfeed.toml"), "--now", "2013-02-03"]
    )
    assert isinstance(result.exception, RuntimeError), result.output
