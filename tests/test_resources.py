"""Resource use that would otherwise creep up unseen: the renderer must free what it parses,
and the memory of freed documents must go back to the system."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.treemem import run_measured

from tests.conftest import REPO, SHARED
from tests.helpers import THEME

# Renders 5,000 real bodies (the shared corpora, over and over) through wcitfeed's own
# Markdown step and prints how much the process's peak RSS grew.
RENDER_MANY = """
import itertools, resource, sys
from pathlib import Path
from wcitfeed.render import markdown_to_html
paths = sorted(Path(sys.argv[1]).rglob("*.md"))
bodies = [p.read_text(encoding="utf-8", errors="replace") for p in paths]
for body in bodies[:50]:
    markdown_to_html(body, str)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for body in itertools.islice(itertools.cycle(bodies), 5000):
    markdown_to_html(body, str)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_rendering_5000_bodies_in_one_process_does_not_grow_memory() -> None:
    done = subprocess.run(
        [sys.executable, "-c", RENDER_MANY, str(SHARED / "corpora")],
        capture_output=True,
        text=True,
        check=True,
    )
    grown_mib = int(done.stdout.strip())
    # cmarkgfm 2025.10.22 grew it by about 370 MiB here; a renderer that frees stays flat.
    assert grown_mib < 40, f"peak RSS grew by {grown_mib} MiB over 5,000 renders"


# Frees 60 MB of document-sized buffers that small, longer-lived objects sit between, as
# the main process does with the documents workers hand over, and prints how many MiB of
# them the process kept.
FREE_LARGE = """
from wcitfeed.workers import return_large_buffers
def rss(): return int(open('/proc/self/statm').read().split()[1]) * 4096 >> 20
return_large_buffers()
first = bytes(400_000); del first  # glibc would raise its threshold past 400 KB here
before = rss()
large, small = [], []
for _ in range(200):
    large.append(bytes(300_000))
    small.append(bytearray(2_000))
del large
print(rss() - before)
"""


def test_freed_documents_give_their_memory_back() -> None:
    done = subprocess.run(
        [sys.executable, "-c", FREE_LARGE], capture_output=True, text=True, check=True
    )
    kept_mib = int(done.stdout.strip())
    # Without return_large_buffers, glibc kept 26 of the 60 MB here.
    assert kept_mib < 5, f"{kept_mib} MiB of freed buffers stayed with the process"


def test_20000_posts_build_in_under_a_gigabyte(tmp_path: Path) -> None:
    """A cold build of 20,000 generated posts with default settings, measured over the
    whole process tree (the main process and every worker), stays under 1 GB."""
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, str(REPO / "bench/generate.py"), "20000", str(tmp_path / "corpus")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    site.mkdir()
    (tmp_path / "corpus/content").rename(site / "content")
    (site / "wcitfeed.toml").write_text(
        'title = "Twenty thousand"\nbase_url = "https://big.example.org/"\n'
        f'templates = "{THEME}"\n'
        '[categories]\nperiodic = "Periodic Updates"\nissues = "Issue-specific Updates"\n',
        encoding="utf-8",
    )
    command = [
        sys.executable,
        "-m",
        "wcitfeed",
        "build",
        "-q",
        "--config",
        str(site / "wcitfeed.toml"),
    ]
    measured = run_measured(command)
    assert measured.code == 0
    assert len(list((site / "output/fragments").iterdir())) == 20000
    peak = measured.peak
    assert peak < 1_000_000_000, f"peak RSS of the process tree: {peak / 2**20:.0f} MiB"


# Starts a child that burns 0.6 s of CPU, and exits without waiting for it: the child
# outlives its parent, as a build's forkserver and workers outlive its main process.
BURN_AFTER_EXIT = """
import subprocess, sys
burn = "import time\\nend = time.process_time() + 0.6\\nwhile time.process_time() < end: pass"
subprocess.Popen([sys.executable, "-c", burn])
"""


def test_treemem_counts_the_cpu_of_descendants_that_outlive_the_command() -> None:
    """The bench's CPU column is the whole tree's: a descendant still running when the
    command exits is waited for and its CPU time counted."""
    done = subprocess.run(
        [sys.executable, str(REPO / "bench/treemem.py"), sys.executable, "-c", BURN_AFTER_EXIT],
        capture_output=True,
        text=True,
        check=True,
    )
    _, _, user, system = done.stdout.split()
    assert float(user) + float(system) >= 0.55, done.stdout


def test_treemem_times_a_command_to_its_exit_not_to_the_next_sample() -> None:
    """Memory is sampled every 50 ms, but the wall time ends when the command does: a
    command that takes 10 ms measures well under one sampling interval."""
    walls = [run_measured(["sleep", "0.01"]).seconds for _ in range(3)]
    assert min(walls) < 0.04, walls
