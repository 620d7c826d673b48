"""Worker processes on every core, and how the build's processes manage their memory.

Both pools of a build (reading posts, making files) start their workers here, so each
worker collects garbage as rarely as the build itself, returns large buffers as the
command line does, sends posts to and from the build as their fields, and ends when the
build that started it is gone. The pool that makes files may start before its work is
known (``LatePool``): its workers get ready while the main process plans.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import operator
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import PosixPath
from typing import TYPE_CHECKING, Any

from wcitfeed import libc
from wcitfeed.model import Post

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

# A first threshold of 200,000 allocations, as mypy uses for the same reason.
COLLECTION_THRESHOLDS = (200_000, 30, 30)
# Buffers this large or larger get memory of their own from the C allocator (glibc's first
# threshold, kept): the feed documents workers hand over (a few hundred KB each) are; post
# pages (about 11 KB) are not.
LARGE_BUFFER = 128 * 1024


def return_large_buffers() -> None:
    """Give a large buffer's memory back as soon as it is freed, in this process.

    A build passes hundreds of documents of a few hundred KB each from the workers to the
    main process. With glibc's moving threshold they soon come from the heap, which keeps
    their pages: at 10,000 posts the main process peaked 6 to 9 MiB higher. The command line
    and the workers call this; a program that imports wcitfeed keeps its own allocator's
    settings.
    """
    libc.map_large_buffers(LARGE_BUFFER)


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """Let the garbage collector run rarely while a build runs.

    A build holds a few hundred thousand long-lived objects (posts, ledger records, the
    plan), and Python's default thresholds make the collector walk them all again and again:
    about a fifth of a one-post edit at 10,000 posts. The build's own data has no cycles
    worth collecting early. The build also freezes (``gc.freeze``) what it has loaded once
    planning starts; both are undone when it ends, for callers of the API.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(*COLLECTION_THRESHOLDS)
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def worker_pool(
    initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """Return a pool of a worker per core, each started by ``initializer(*initargs)``."""
    # Imported here: a build with nothing to do never starts a worker.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _send_posts_as_fields()
    return ProcessPoolExecutor(
        os.cpu_count() or 1,
        # forkserver: workers start small instead of copying this process's memory.
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=_start_worker,
        initargs=(os.getpid(), initializer, initargs),
    )


class LatePool:
    """A pool of a worker per core whose workers start now and learn what they work with
    later.

    Each worker runs ``initializer(*initargs, handoff)`` as it starts: the initializer does
    what needs no context (importing modules, parsing templates), then waits on
    ``handoff.get()`` for the context ``begin`` sends, or None when the pool closes first.
    A cold build starts its workers this way before planning, so they are ready when the
    first posts are.
    """

    def __init__(self, initializer: Callable[..., None], initargs: tuple[Any, ...]) -> None:
        import multiprocessing

        self.size = os.cpu_count() or 1
        # A Queue, not a pipe: its own thread sends the context, so the main process never
        # waits for a worker that is still importing, or one that failed to start.
        self._handoff = multiprocessing.get_context("forkserver").Queue()
        self._begun = False
        self.pool = worker_pool(initializer, (*initargs, self._handoff))
        # The pool starts a worker for each task that finds none idle: one task per core
        # starts them all now, not when the first real work comes.
        for _ in range(self.size):
            self.pool.submit(int)

    def begin(self, context: object) -> ProcessPoolExecutor:
        """Hand every worker the context, once; return the pool to submit work to."""
        if not self._begun:
            self._begun = True
            for _ in range(self.size):
                self._handoff.put(context)
        return self.pool

    def close(self) -> None:
        """Stop the workers (releasing any still waiting for a context)."""
        self.begin(None)
        self.pool.shutdown()
        self._handoff.close()
        # Every worker has ended: nothing is left to wait for in the queue's thread.
        self._handoff.cancel_join_thread()


_POST_FIELDS = operator.attrgetter(*(field.name for field in dataclasses.fields(Post)))


def _send_posts_as_fields() -> None:
    """Pickle posts as their fields, and paths as their text, between this process and
    its workers (multiprocessing's own pickler: nothing else's pickling changes).

    A cold build of 10,000 posts sends ~80,000 posts to its workers, one for each file of
    the feeds and listings that shows it. Inside a task, a post took 12 µs to unpickle
    and 6 µs to pickle this way, against 17 and 12 µs as the dataclass's state with its
    path as parts.
    """
    from multiprocessing.reduction import ForkingPickler

    ForkingPickler.register(Post, lambda post: (Post, _POST_FIELDS(post)))
    ForkingPickler.register(PosixPath, lambda path: (PosixPath, (str(path),)))


def _start_worker(
    parent: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]
) -> None:
    gc.set_threshold(*COLLECTION_THRESHOLDS)
    return_large_buffers()
    _send_posts_as_fields()  # the posts a worker reads go back to the build
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def _exit_with(parent: int) -> None:
    """End this worker when the build that started it is gone (killed from cron, say):
    the pool cannot tell its workers then, and they would wait for work forever."""
    while True:
        time.sleep(1)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(0)
