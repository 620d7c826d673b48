"""Resource use that would otherwise creep up unseen: the renderer must free what it parses."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import SHARED

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
