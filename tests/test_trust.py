"""Trust under faults: the ledger never forgets, publication and ledger are one decision,
a wrong clock or a damaged ledger stops the build before it touches what is published."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest.mock import ANY

import pytest
from click.testing import Result

from tests.helpers import make_generated_site, published_state, snapshot
from wcitfeed import cache
from wcitfeed.output import (
    OutputSync,
    Planned,
    remove_staging,
    stage_in_tree,
    write_chunks_if_changed,
)

T0, T1, T2 = "2013-01-01T00:00:00+00:00", "2013-02-01T00:00:00+00:00", "2013-03-01T00:00:00+00:00"


def build(run_cli: Callable[..., Result], site: Path, now: str, *extra: str) -> Result:
    return run_cli("build", "--config", site / "wcitfeed.toml", "--now", now, *extra)


def ledger(site: Path) -> dict[str, dict[str, str]]:
    """Return the posts' records of a site's ledger (not the site's own, under "")."""
    data: dict[str, dict[str, str]] = json.loads((site / "wcitfeed-ledger.json").read_text())
    return {key: record for key, record in data.items() if key}


def test_an_empty_content_folder_is_refused_and_nothing_is_lost(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    make_generated_site(tmp_path, 4)
    assert build(run_cli, tmp_path, T0).exit_code == 0
    before = published_state(tmp_path)
    shutil.rmtree(tmp_path / "content")
    (tmp_path / "content").mkdir()

    refused = build(run_cli, tmp_path, T1)
    assert refused.exit_code == 5
    assert refused.output.startswith("Error: ")
    assert "would withdraw 4 of the 4 published posts" in refused.output
    assert "--allow-removals" in refused.output
    assert published_state(tmp_path) == before

    # Meant: the posts go, but the ledger keeps their history.
    assert build(run_cli, tmp_path, T1, "--allow-removals").exit_code == 0
    records = ledger(tmp_path)
    assert len(records) == 4
    assert {r["withdrawn"] for r in records.values()} == {T1}
    assert all(len(r["digest"]) == 64 for r in records.values())


def test_more_than_the_removal_limit_is_refused_fewer_pass(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    make_generated_site(tmp_path, 4, settings="removal_limit = 25\n")
    assert build(run_cli, tmp_path, T0).exit_code == 0
    (tmp_path / "content/post-0001.md").unlink()
    assert build(run_cli, tmp_path, T1).exit_code == 0  # 1 of 4: 25 %, at the limit
    before = published_state(tmp_path)
    (tmp_path / "content/post-0002.md").unlink()
    (tmp_path / "content/post-0003.md").unlink()
    refused = build(run_cli, tmp_path, T2)
    assert refused.exit_code == 5, refused.output
    assert "would withdraw 2 of the 3 published posts" in refused.output
    assert published_state(tmp_path) == before


def test_a_missing_content_folder_changes_nothing(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    make_generated_site(tmp_path, 2)
    assert build(run_cli, tmp_path, T0).exit_code == 0
    before = published_state(tmp_path)
    (tmp_path / "content").rename(tmp_path / "c.bak")
    result = build(run_cli, tmp_path, T1, "--allow-removals")
    assert result.exit_code == 1
    assert "content folder not found" in result.output
    assert published_state(tmp_path) == before


def test_the_ledger_keeps_the_history_of_a_post_absent_for_a_while(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    make_generated_site(tmp_path, 4)
    assert build(run_cli, tmp_path, T0).exit_code == 0
    post = tmp_path / "content/post-0002.md"
    post.write_text(post.read_text() + "An edit.\n")
    assert build(run_cli, tmp_path, T1).exit_code == 0
    edited = ledger(tmp_path)["tag:gen.example.org,2012:2"]
    assert edited["updated"] == T1

    # Moved out of the content folder for one build: withdrawn, not forgotten.
    post.rename(tmp_path / "aside.md")
    assert build(run_cli, tmp_path, T2).exit_code == 0
    assert ledger(tmp_path)["tag:gen.example.org,2012:2"] == {**edited, "withdrawn": T2}
    (tmp_path / "aside.md").rename(post)
    assert build(run_cli, tmp_path, "2013-04-01T00:00:00+00:00").exit_code == 0
    assert ledger(tmp_path)["tag:gen.example.org,2012:2"] == edited
    atom = (tmp_path / "output/atom.xml").read_text()
    assert f"<updated>{T1}</updated>" in atom


def test_a_clock_before_the_ledger_is_refused(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    make_generated_site(tmp_path, 3)
    assert build(run_cli, tmp_path, T0).exit_code == 0
    before = published_state(tmp_path)
    post = tmp_path / "content/post-0001.md"
    post.write_text(post.read_text() + "Edited under a wrong clock.\n")

    result = build(run_cli, tmp_path, "2000-01-01")
    assert result.exit_code == 5
    assert "is earlier than the ledger's latest record (2012-01-03T09:00:00+00:00" in result.output
    assert "--trust-clock" in result.output
    assert published_state(tmp_path) == before


def test_a_clock_far_ahead_is_refused_unless_trusted(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    make_generated_site(tmp_path, 2)
    assert build(run_cli, tmp_path, T0).exit_code == 0
    before = published_state(tmp_path)
    post = tmp_path / "content/post-0001.md"
    post.write_text(post.read_text() + "An edit.\n")
    result = build(run_cli, tmp_path, "2099-01-01")
    assert result.exit_code == 5
    assert "more than a day ahead of this machine's" in result.output
    assert published_state(tmp_path) == before
    assert build(run_cli, tmp_path, "2099-01-01", "--trust-clock").exit_code == 0
    assert ledger(tmp_path)["tag:gen.example.org,2012:1"]["updated"].startswith("2099-01-01")


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({}, "'digest of {id}' must be 64 lower-case hex digits"),
        ({"digest": 5}, "'digest of {id}' must be 64 lower-case hex digits"),
        ("abc", "'{id}' must be an object such as"),
        (
            {"digest": "0" * 64, "updated": "last Tuesday"},
            "'updated of {id}' must be a date with offset such as",
        ),
        ({"digest": "0" * 64, "updated": 7}, "'updated of {id}' must be a date with offset"),
        ({"digest": "0" * 64, "colour": "red"}, "'{id}' 'colour' is not a ledger field"),
    ],
)
def test_a_damaged_ledger_is_reported_with_line_and_field(
    tmp_path: Path, run_cli: Callable[..., Result], record: object, message: str
) -> None:
    make_generated_site(tmp_path, 3)
    assert build(run_cli, tmp_path, T0).exit_code == 0
    data = ledger(tmp_path)
    post_id = "tag:gen.example.org,2012:2"
    data[post_id] = record  # type: ignore[assignment]
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    (tmp_path / "wcitfeed-ledger.json").write_text(text)
    line = text[: text.index(json.dumps(post_id) + ":")].count("\n") + 1
    post = tmp_path / "content/post-0003.md"
    post.write_text(post.read_text() + "An edit.\n")
    before = published_state(tmp_path)

    result = build(run_cli, tmp_path, T1)
    assert result.exit_code == 1
    assert f"Error: {tmp_path / 'wcitfeed-ledger.json'}:{line}: " in result.output
    assert message.format(id=post_id) in result.output
    assert "Traceback" not in result.output
    assert published_state(tmp_path) == before


def test_a_ledger_that_is_not_an_object_is_an_error(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    make_generated_site(tmp_path, 2)
    (tmp_path / "wcitfeed-ledger.json").write_text('["not", "a", "ledger"]\n')
    result = build(run_cli, tmp_path, T0)
    assert result.exit_code == 1
    assert "the edit ledger must be a JSON object" in result.output
    assert not (tmp_path / "output").exists()


def test_a_file_written_from_chunks_is_whole_or_as_it_was(tmp_path: Path) -> None:
    """The ledger is written without holding its text: a failure midway leaves the old
    file and no temporary; the same bytes leave the file untouched."""
    path = tmp_path / "ledger.json"
    assert write_chunks_if_changed(path, [b"{\n", b' "a": 1\n', b"}\n"])
    assert path.read_bytes() == b'{\n "a": 1\n}\n'
    stat = path.stat()

    def failing() -> Iterator[bytes]:
        yield b"{\n"
        raise OSError(28, "No space left on device (injected)")

    with pytest.raises(OSError, match="injected"):
        write_chunks_if_changed(path, failing())
    assert path.read_bytes() == b'{\n "a": 1\n}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.json"]
    # The same bytes in other pieces: not written again.
    assert not write_chunks_if_changed(path, [b'{\n "a"', b": 1\n}\n"])
    assert path.stat().st_mtime_ns == stat.st_mtime_ns and path.stat().st_ino == stat.st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.json"]
    # Other bytes of the same size: written.
    assert write_chunks_if_changed(path, [b'{\n "b": 1\n}\n'])
    assert path.read_bytes() == b'{\n "b": 1\n}\n'


def _fail(*_: object, **__: object) -> None:
    raise OSError(28, "No space left on device (injected)")


# Each step between reading the posts and recording the build, and whether the ledger
# was already written when it failed.
FAULTS = [
    ("ledger", "wcitfeed.pipeline.write_chunks_if_changed", False),
    ("staging", "wcitfeed.output._Batch.stage", True),
    ("renames", "wcitfeed.output._Batch.commit", True),
    ("removals", "wcitfeed.output._remove_unlisted", True),
    ("cache", "wcitfeed.pipeline.store_cache", True),
]


@pytest.mark.parametrize(("step", "target", "ledger_first"), FAULTS, ids=[f[0] for f in FAULTS])
def test_a_failure_at_any_step_ends_as_an_unfailed_build(
    tmp_path: Path,
    run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    step: str,
    target: str,
    ledger_first: bool,
) -> None:
    def edited_site(root: Path) -> Path:
        make_generated_site(root, 5)
        assert build(run_cli, root, T0).exit_code == 0
        post = root / "content/post-0003.md"
        post.write_text(post.read_text() + "An edit that must be announced once.\n")
        (root / "content/post-0005.md").unlink()
        return root

    site = edited_site(tmp_path / "faulty")
    before = published_state(site)
    with monkeypatch.context() as patch:
        patch.setattr(target, _fail)
        failed = build(run_cli, site, T1)
    assert failed.exit_code == 6
    assert failed.output.startswith("Error: ")
    assert "No space left on device (injected)" in failed.output
    # The failing build cleaned up after itself: no temporary among the published files.
    assert [
        p.name for p in site.rglob("*") if "wcitfeed-tmp" in p.name or "staging" in p.name
    ] == []
    # Nor does it leave a thread flushing the disk behind it.
    assert [t for t in threading.enumerate() if t.name == "wcitfeed-write-behind"] == []
    if not ledger_first:
        assert published_state(site) == before
    else:
        assert ledger(site)["tag:gen.example.org,2012:3"]["updated"] == T1
    assert build(run_cli, site, T2).exit_code == 0

    reference = edited_site(tmp_path / "reference")
    assert build(run_cli, reference, T1 if ledger_first else T2).exit_code == 0
    assert published_state(site) == published_state(reference)
    assert not list(site.rglob(".wcitfeed-tmp-*"))


def test_a_damaged_cache_is_set_aside_with_one_warning(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    make_generated_site(tmp_path, 3)
    assert build(run_cli, tmp_path, T0).exit_code == 0
    expected = snapshot(tmp_path / "output")
    database = tmp_path / ".wcitfeed-cache" / cache.CACHE_FILE
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE posts SET post = '{\"id\": 5}'")
    post = tmp_path / "content/post-0001.md"
    post.touch()
    result = build(run_cli, tmp_path, T1)
    assert result.exit_code == 0, result.output
    assert result.output.count("Warning: ") == 1
    assert "the build cache does not verify" in result.output
    assert snapshot(tmp_path / "output") == expected
    # The next build trusts the rebuilt cache again, with no warning.
    post.touch()
    assert build(run_cli, tmp_path, T1).output == ""


def test_a_cache_made_of_garbage_or_a_pickle_is_never_run(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    make_generated_site(tmp_path, 2)
    assert build(run_cli, tmp_path, T0).exit_code == 0
    expected = snapshot(tmp_path / "output")
    database = tmp_path / ".wcitfeed-cache" / cache.CACHE_FILE
    marker = tmp_path / "ran"
    # A pickle that would create a file if anything unpickled it.
    payload = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    database.write_bytes(payload)
    (tmp_path / "content/post-0001.md").touch()
    result = build(run_cli, tmp_path, T1)
    assert result.exit_code == 0, result.output
    assert not marker.exists()
    assert "the build cache does not verify" in result.output
    assert snapshot(tmp_path / "output") == expected


def test_a_cache_from_a_first_build_killed_early_is_no_cause_for_alarm(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    make_generated_site(tmp_path, 2)
    # What a first build killed after storing some entries leaves: entries, no summary.
    folder = tmp_path / ".wcitfeed-cache"
    cache.EntryStore(folder, "an earlier build").close()
    result = build(run_cli, tmp_path, T0)
    assert result.exit_code == 0
    assert "Warning" not in result.output
    assert (tmp_path / "output/atom.xml").is_file()


def test_a_killed_builds_worker_never_writes_into_the_next_builds_tree(tmp_path: Path) -> None:
    # Workers of a cold build write into its staged tree, and end up to a second after the
    # build that started them is killed; by then the next build may be staging its own.
    root = tmp_path / "output"
    killed = OutputSync(root, {})
    old_tree = killed.tree()
    assert old_tree is not None  # an empty output folder: the whole tree is staged
    remove_staging(root)  # the next build starts, and clears what the killed one left
    following = OutputSync(root, {})
    new_tree = following.tree()
    assert new_tree is not None
    page = "posts/a/index.html"
    following.sync([Planned(page, "key")], lambda rel: stage_in_tree(new_tree, rel, b"new\n"))
    # A worker of the killed build writes its last files before it notices.
    stage_in_tree(old_tree, page, b"old\n")
    stage_in_tree(old_tree, "posts/b/index.html", b"old\n")
    following.finish()
    assert snapshot(root) == {page: b"new\n", ".wcitfeed-manifest.json": ANY}
    killed.abort()
