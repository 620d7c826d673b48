"""Time the Markdown renderers wcitfeed could use on the same bodies, and their memory.

Usage: python bench/renderers.py [CORPUS_DIR ...]   (default: ../shared/corpora and content/)

Each renderer runs in a process of its own: milliseconds per post and MB/s (best of three
passes), and how much the process's peak RSS grew over those passes. A renderer that keeps
what it parsed grows with every call; one that frees it stays flat.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


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


def renderer(name: str) -> tuple[str, Callable[[str], str]]:
    """Return a renderer's version and its Markdown-to-HTML call with GFM tables and links."""
    if name == "comrak":
        import comrak

        extensions = comrak.ExtensionOptions()
        extensions.table = extensions.strikethrough = True
        extensions.autolink = extensions.tasklist = True
        options = comrak.RenderOptions()
        options.unsafe_ = True
        return "", lambda t: comrak.render_markdown(
            t, extension_options=extensions, render_options=options
        )
    if name == "cmarkgfm":
        import cmarkgfm
        from cmarkgfm.cmark import Options

        return "", lambda t: cmarkgfm.markdown_to_html_with_extensions(
            t, options=Options.CMARK_OPT_UNSAFE, extensions=["table", "strikethrough", "autolink"]
        )
    if name == "pyromark":
        import pyromark

        flags = pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_STRIKETHROUGH
        return "", lambda t: pyromark.html(t, options=flags)
    if name == "mistune":
        import mistune

        return mistune.__version__, mistune.create_markdown()  # type: ignore[return-value]
    import markdown_it

    return markdown_it.__version__, markdown_it.MarkdownIt("commonmark").render


RENDERERS = ("comrak", "cmarkgfm", "pyromark", "mistune", "markdown-it-py")


def measure(name: str, folders: list[Path]) -> None:
    """Print one renderer's line: ms per post, MB/s, and peak RSS growth."""
    texts = bodies(folders)
    size_mb = sum(len(t.encode()) for t in texts) / 1e6
    _, render = renderer(name)
    render(texts[0])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds = best_of(render, texts)
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    per_post = 1000 * seconds / len(texts)
    print(f"{name:<16} {per_post:8.3f} {size_mb / seconds:8.1f} {grown:10.1f}", flush=True)


def main() -> None:
    here = Path(__file__).resolve().parent.parent
    if sys.argv[1:2] == ["--one"]:
        measure(sys.argv[2], [Path(a) for a in sys.argv[3:]])
        return
    folders = [Path(a) for a in sys.argv[1:]] or [here.parent / "shared/corpora", here / "content"]
    texts = bodies(folders)
    size_mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"{len(texts)} bodies, {size_mb:.1f} MB, three passes each")
    print(f"{'renderer':<16} {'ms/post':>8} {'MB/s':>8} {'RSS +MiB':>10}")
    for name in RENDERERS:
        subprocess.run([sys.executable, __file__, "--one", name, *map(str, folders)], check=False)


if __name__ == "__main__":
    main()
