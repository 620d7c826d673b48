"""The two C library calls a build uses that Python's ``os`` module has no wrapper for.

Both are Linux's (glibc's); elsewhere each says it did nothing and the caller falls back.
"""

from __future__ import annotations

import ctypes

# mallopt(3)'s M_MMAP_THRESHOLD, from glibc's malloc.h.
_M_MMAP_THRESHOLD = -3


def _load() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _load()


def syncfs(fd: int) -> bool:
    """Flush the file system that holds the open file ``fd``; say whether that was done."""
    call = getattr(_LIBC, "syncfs", None)
    return call is not None and call(fd) == 0


def map_large_buffers(threshold: int) -> bool:
    """Have the C allocator map each buffer of ``threshold`` bytes or more on its own, so
    that freeing it gives its memory back at once; say whether the allocator took it.

    glibc does this from 128 KiB at first, but raises the threshold each time such a
    buffer is freed; from then on large buffers come from the heap, and the heap keeps
    their pages after they are freed. Setting the threshold stops that raising.
    """
    call = getattr(_LIBC, "mallopt", None)
    return call is not None and call(_M_MMAP_THRESHOLD, threshold) == 1
