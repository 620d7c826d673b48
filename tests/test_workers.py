"""How a build hands its work to worker processes: in runs of the plan, a few slices
ahead of the one it stages, and with posts sent in a form that is quicker to pickle but
arrives the same."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.helpers import full_post
from wcitfeed.pages import Listing
from wcitfeed.pipeline import AHEAD, _started_ahead
from wcitfeed.plan import Job, _runs
from wcitfeed.workers import worker_pool


def test_a_post_and_its_path_reach_a_worker_and_come_back_unchanged() -> None:
    post = full_post()
    other = Path("/site/content/b c/ü.md")
    sent = [post, other, {other: "key"}]
    with worker_pool() as pool:
        # The worker unpickles what the build sent, and sends it back.
        back = pool.submit(list, sent).result()
    assert back == sent
    assert type(back[1]) is type(other)
    assert [getattr(back[0], name) for name in post.__slots__] == [
        getattr(post, name) for name in post.__slots__
    ]


def test_runs_keep_every_job_once_in_plan_order_and_share_the_work() -> None:
    post = full_post()
    sizes = [500, *[50] * 31, *[1] * 40, 0]
    jobs = [
        (f"f{i}", Job("listing", listing=Listing("tag", "t", "T", "tags/t/", 1, 1, (post,) * n)))
        for i, n in enumerate(sizes)
    ]
    runs = _runs(jobs, 8)
    assert [job for run in runs for job in run] == jobs
    assert 1 < len(runs) <= 8
    # A job's work is the posts it shows (and one for the job): a run ends as soon as it
    # holds its share, so it carries at most its share and one job more.
    share = sum(n + 1 for n in sizes) / 8
    for run in runs:
        work = [len(job.posts) + 1 for _, job in run]
        assert sum(work[:-1]) < share


def test_slices_are_handed_out_ahead_and_come_back_once_in_order() -> None:
    started: list[int] = []

    def start(piece: int) -> Callable[[], str]:
        started.append(piece)
        return lambda: f"made {piece}"

    seen = []
    for piece, made in _started_ahead(range(10), start):
        seen.append((piece, made))
        # While a slice is staged, the workers have the next AHEAD ones to make (those
        # there are), and nothing beyond: slices are planned only as they are needed.
        assert started == list(range(min(piece + 1 + AHEAD, 10)))
    assert seen == [(i, f"made {i}") for i in range(10)]
    assert list(_started_ahead([], start)) == []
