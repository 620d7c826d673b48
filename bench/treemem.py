"""Run a command and measure the peak memory of its whole process tree.

Usage: python bench/treemem.py COMMAND [ARGS...]   (prints "peak_tree_mib SECONDS")

Workers started by a forkserver are not children the exit status accounts for, so the
resource usage of wait4() misses them; this samples /proc every 50 ms instead, summing
the resident memory of the command and every process descended from it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def tree_rss(root: int) -> int:
    """Return the resident bytes of ``root`` and all its descendants now."""
    tree = _children()
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        pending.extend(tree.get(pid, []))
        try:
            pages = int((Path(f"/proc/{pid}/statm")).read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += pages * PAGE
    return total


def run_measured(command: list[str], cwd: Path | None = None) -> tuple[float, int, int]:
    """Run ``command``; return its wall seconds, its peak tree RSS in bytes, and its exit code."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.05)
    return time.perf_counter() - started, peak, proc.returncode


if __name__ == "__main__":
    seconds, peak, code = run_measured(sys.argv[1:])
    print(f"{peak / 2**20:.0f} {seconds:.1f}")
    sys.exit(code)
