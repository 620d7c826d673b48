"""Run ``wcitfeed build`` and SIGKILL this very process at its N-th file-system step.

Usage: python -m tests.kill_at N [build options...]   (N = 0: never; print the step count)

The steps are the calls a kill can fall between: each staged file, each rename, each
removal, the cache store, and the writes inside the cache's transactions. Killing at step
N for every N is deterministic, unlike a kill after a random sleep, and reaches the
moments between ledger and output too.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from wcitfeed import cache, output, pipeline
from wcitfeed.cli import main

_calls = 0


def counted(step: Callable[..., Any], kill_at: int) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        global _calls
        _calls += 1
        if _calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return step(*args, **kwargs)

    return run


def run_build(kill_at: int, args: list[str]) -> None:
    os.replace = counted(os.replace, kill_at)  # type: ignore[assignment]
    os.unlink = counted(os.unlink, kill_at)  # type: ignore[assignment]
    output._Batch.stage = counted(output._Batch.stage, kill_at)  # type: ignore[method-assign]
    pipeline.store_cache = counted(cache.store_cache, kill_at)  # type: ignore[attr-defined]
    # Inside the cache's transactions: a kill there must leave a cache the next build
    # accepts or rebuilds, never one that gives a wrong output.
    cache._store_rows = counted(cache._store_rows, kill_at)  # type: ignore[attr-defined]
    cache.EntryStore.put = counted(cache.EntryStore.put, kill_at)  # type: ignore[method-assign]
    # A quick build's own write of the cache's rows (see ``edits``).
    cache.store_edit = counted(cache.store_edit, kill_at)  # type: ignore[attr-defined]
    try:
        main(["build", *args])
    finally:
        print(f"steps {_calls}", file=sys.stderr)


if __name__ == "__main__":
    run_build(int(sys.argv[1]), sys.argv[2:])
