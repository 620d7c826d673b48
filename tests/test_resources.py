"""Resource use that would otherwise creep up unseen: the renderer must free what it parses."""

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
    _, peak, code = run_measured(command)
    assert code == 0
    assert len(list((site / "output/fragments").iterdir())) == 20000
    assert peak < 1_000_000_000, f"peak RSS of the process tree: {peak / 2**20:.0f} MiB"
