"""Time the Markdown renderers wcitfeed could use on the same bodies, in one process.

Usage: python bench/renderers.py [CORPUS_DIR ...]   (default: ../shared/corpora and content/)

Prints milliseconds per post and MB/s for each renderer, best of three passes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import cmarkgfm
import markdown_it
import mistune


def bodies(folders: list[Path]) -> list[str]:
    """Read every Markdown file and drop its front matter, whatever its delimiter."""
    texts = []
    for folder in folders:
        for path in sorted(folder.rglob("*.md")) + sorted(folder.rglob("*.markdown")):
            text = path.read_text(encoding="utf-8", errors="replace").lstrip()
            for fence in ("---", "+++"):
                if text.startswith(fence):
                    parts = text.split(fence, 2)
                    text = parts[2] if len(parts) == 3 else text
            texts.append(text)
    return texts


def best_of(render: Callable[[str], str], texts: list[str], passes: int = 3) -> float:
    best = float("inf")
    for _ in range(passes):
        start = time.perf_counter()
        for text in texts:
            render(text)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    here = Path(__file__).resolve().parent.parent
    folders = [Path(a) for a in sys.argv[1:]] or [here.parent / "shared/corpora", here / "content"]
    texts = bodies(folders)
    size_mb = sum(len(t.encode()) for t in texts) / 1e6
    md_it = markdown_it.MarkdownIt("commonmark")
    renderers: dict[str, Callable[[str], str]] = {
        f"cmarkgfm {cmarkgfm.__version__ if hasattr(cmarkgfm, '__version__') else ''}".strip(): (
            lambda t: cmarkgfm.github_flavored_markdown_to_html(t)
        ),
        f"mistune {mistune.__version__}": mistune.create_markdown(),  # type: ignore[dict-item]
        f"markdown-it-py {markdown_it.__version__}": md_it.render,
    }
    print(f"{len(texts)} bodies, {size_mb:.1f} MB")
    print(f"{'renderer':<24} {'ms/post':>8} {'MB/s':>8}")
    for name, render in renderers.items():
        seconds = best_of(render, texts)
        print(f"{name:<24} {1000 * seconds / len(texts):8.3f} {size_mb / seconds:8.1f}")


if __name__ == "__main__":
    main()
