"""Time wcitfeed, Hugo and Pelican on the same generated corpus, in one run, and print ratios.

Usage: python bench/run.py [--posts N] [--reps R] [--out bench/work] [--results FILE]

Each tool builds an HTML page per post plus full-content feeds from the same posts
(bench/generate.py, seeded). Every measurement is a whole process; the table gives medians
of R repetitions, the CPU time (user and system) and peak memory of each whole process
tree (bench/treemem.py), and the processor's name: machines of one kind differ, and the
ratios with them (RESULTS.md, session 22). Also
timed: the floor (reading every input with cat and writing wcitfeed's output files with
cp), and wcitfeed's no-change rebuild and one-post-changed rebuild. Needs Debian's hugo
and PyPI's pelican and markdown. --only-wcitfeed times wcitfeed alone, for 50,000 posts
and more. Before a cold build is timed, its last output is moved aside, not deleted: all
set-aside folders are deleted after the last run. wcitfeed's modules are compiled to
bytecode first, as pip does when it installs a package (an editable checkout run with
PYTHONDONTWRITEBYTECODE would compile them from source in every process: ~40 ms more
for a no-change rebuild).
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import platform
import shutil
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate
from treemem import Measured, adopt_orphans, run_measured

WCITFEED_SETTINGS = """\
title = "Bench"
base_url = "https://bench.example.org/"
{extra}
[categories]
periodic = "Periodic Updates"
issues = "Issue-specific Updates"
"""

HUGO_CONFIG = """\
baseURL = "https://bench.example.org/"
title = "Bench"
disableKinds = ["taxonomy", "term"]
[outputs]
home = ["RSS"]
section = []
[services.rss]
limit = -1
"""
HUGO_SINGLE = (
    "<!DOCTYPE html><html><head><title>{{ .Title }}</title></head>"
    "<body><h1>{{ .Title }}</h1>{{ .Content }}</body></html>\n"
)
HUGO_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{{ .Site.Title }}</title><link>{{ .Permalink }}</link>
<description>Bench</description>
{{ range .Site.RegularPages }}<item><title>{{ .Title }}</title><link>{{ .Permalink }}</link>
<pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</pubDate>
<guid>{{ .Permalink }}</guid><description>{{ .Content | html }}</description></item>
{{ end }}</channel></rss>
"""

PELICAN_SETTINGS = """\
SITENAME = "Bench"
SITEURL = "https://bench.example.org"
PATH = "content"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = "feeds/all.rss.xml"
RSS_FEED_SUMMARY_ONLY = False
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
FEED_MAX_ITEMS = None
DEFAULT_PAGINATION = False
LOAD_CONTENT_CACHE = False
"""


def run(command: list[str], cwd: Path) -> Measured:
    """Run a whole process and measure its whole tree (forkserver workers included)."""
    measured = run_measured(command, cwd)
    if measured.code != 0:
        raise SystemExit(f"{command[0]} failed in {cwd} with exit code {measured.code}")
    return measured


def processor() -> str:
    """Return the first processor's name, family, model and clock as the kernel gives them
    (a virtual machine's name alone can be as vague as "Intel(R) Xeon(R) Processor")."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.machine()
    fields: dict[str, str] = {}
    for line in text.split("\n\n", 1)[0].splitlines():
        name, _, value = line.partition(":")
        fields[name.strip()] = value.strip()
    return (
        f"{fields.get('model name', platform.machine())}, family {fields.get('cpu family', '?')} "
        f"model {fields.get('model', '?')}, {fields.get('cpu MHz', '?')} MHz"
    )


class SetAside:
    """Folders moved out of the way instead of deleted, and deleted all at once at the end.

    On ext4 without a journal (as here), creating files soon after deleting many makes the
    kernel search past each recently deleted inode: a cold build of 10,000 posts took 26 s
    right after deleting the last output and 20 s when it was moved aside (RESULTS.md,
    session 11). So no timed run follows a deletion made by this script.
    """

    def __init__(self, work: Path) -> None:
        # A killed run's leftovers stay in the folder, deleted at this run's end.
        self.folder = work / "set-aside"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = len(list(self.folder.iterdir()))

    def __call__(self, folder: Path) -> None:
        """Move ``folder`` (on the same file system) out of the way, if it is there."""
        if folder.exists():
            self.count += 1
            folder.rename(self.folder / f"{self.count}-{folder.name}")

    def delete(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def compile_wcitfeed() -> None:
    """Compile wcitfeed's modules as an installed copy has them (Pelican, Hugo's peers and
    every other library here were compiled when pip installed them)."""
    spec = importlib.util.find_spec("wcitfeed")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("wcitfeed is not installed in this Python")
    for folder in spec.submodule_search_locations:
        if not compileall.compile_dir(folder, quiet=1):
            raise SystemExit(f"could not compile wcitfeed's modules in {folder}")


def prepare(work: Path, posts: int, set_aside: SetAside) -> dict[str, Path]:
    """Generate the corpus once and lay out a site for each tool from it."""
    corpus = work / "corpus"
    if not (corpus / ".done").exists() or (corpus / ".done").read_text() != str(posts):
        set_aside(corpus)
        generate(posts, corpus)
        (corpus / ".done").write_text(str(posts))
    sites = {}
    # "wcitfeed": everything by default (pages, fragments, listings, Atom and RSS for the
    # site, every category and tag, RFC 5005 archives for the site and categories).
    # "wcitfeed-like": what Hugo builds here, a page per post and one full-content RSS feed
    # of the whole site (no listing pages, no fragments), so the peers do the same work.
    for name, extra in (
        ("wcitfeed", ""),
        (
            "wcitfeed-like",
            'feeds = ["site"]\nformats = ["rss"]\nfeed_limit = 0\nfeed_max_bytes = 0\n'
            "fragments = false\nemail_fragments = false\nlistings = false",
        ),
    ):
        wcit = work / name
        set_aside(wcit)
        wcit.mkdir(parents=True)
        (wcit / "content").symlink_to(corpus / "content")
        (wcit / "wcitfeed.toml").write_text(WCITFEED_SETTINGS.format(extra=extra))
        sites[name] = wcit

    hugo = work / "hugo"
    set_aside(hugo)
    (hugo / "layouts/_default").mkdir(parents=True)
    (hugo / "config.toml").write_text(HUGO_CONFIG)
    (hugo / "layouts/_default/single.html").write_text(HUGO_SINGLE)
    (hugo / "layouts/index.rss.xml").write_text(HUGO_RSS)
    (hugo / "content").symlink_to(corpus / "content")
    sites["hugo"] = hugo

    pelican = work / "pelican"
    set_aside(pelican)
    (pelican / "content").mkdir(parents=True)
    for path in sorted((corpus / "content").rglob("*.md")):
        front, body = path.read_text(encoding="utf-8").split("---\n", 2)[1:]
        meta = dict(line.split(": ", 1) for line in front.splitlines() if ": " in line)
        tags = meta["tags"].strip("[]")
        (pelican / "content" / path.name).write_text(
            f"Title: {meta['title'].strip(chr(34))}\nDate: {meta['date']}\n"
            f"Category: {meta['category']}\nTags: {tags}\nSlug: {path.stem}\n\n{body}",
            encoding="utf-8",
        )
    (pelican / "pelicanconf.py").write_text(PELICAN_SETTINGS)
    sites["pelican"] = pelican
    return sites


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "work")
    parser.add_argument("--results", type=Path, help="append the table to this Markdown file")
    parser.add_argument(
        "--only-wcitfeed", action="store_true", help="time wcitfeed alone (for 50,000+ posts)"
    )
    args = parser.parse_args()
    compile_wcitfeed()
    adopt_orphans()
    set_aside = SetAside(args.out.resolve())
    sites = prepare(args.out.resolve(), args.posts, set_aside)
    wcit, hugo, pelican = sites["wcitfeed"], sites["hugo"], sites["pelican"]
    like_site = sites["wcitfeed-like"]
    wcitfeed = [sys.executable, "-m", "wcitfeed", "build", "-q"]
    hugo_bin = shutil.which("hugo") or "hugo"
    pelican_bin = [
        sys.executable,
        "-m",
        "pelican",
        "content",
        "-o",
        "output",
        "-s",
        "pelicanconf.py",
        "-q",
    ]
    edited = sorted((wcit / "content").rglob("*.md"))[args.posts // 2]

    def clean(site: Path, *names: str) -> Callable[[], None]:
        def reset() -> None:
            for name in names:
                set_aside(site / name)

        return reset

    def touch_one() -> None:
        text = edited.read_text(encoding="utf-8")
        marker = "\nEdited for the benchmark.\n"
        edited.write_text(
            text.replace(marker, "") if marker in text else text + marker, encoding="utf-8"
        )

    floor_out = args.out.resolve() / "floor"
    floor = [
        "sh",
        "-c",
        f"find -L {wcit / 'content'} -type f -exec cat {{}} + > /dev/null && "
        f"cp -r {wcit / 'output'} {floor_out}",
    ]
    # name: (command, folder, before each run)
    cases: dict[str, tuple[list[str], Path, Callable[[], None]]] = {
        "wcitfeed cold": (wcitfeed, wcit, clean(wcit, "output", ".wcitfeed-cache")),
        "wcitfeed cold, like-for-like": (
            wcitfeed,
            like_site,
            clean(like_site, "output", ".wcitfeed-cache"),
        ),
        "wcitfeed no change": (wcitfeed, wcit, lambda: None),
        "wcitfeed one post changed": (wcitfeed, wcit, touch_one),
        "floor (cat inputs, cp outputs)": (floor, wcit, lambda: set_aside(floor_out)),
        "hugo": ([hugo_bin, "--quiet", "-d", "public"], hugo, clean(hugo, "public", "resources")),
        "pelican": (pelican_bin, pelican, clean(pelican, "output", "cache")),
    }
    if args.only_wcitfeed:
        cases = {k: v for k, v in cases.items() if k.startswith("wcitfeed")}
    runs: dict[str, list[Measured]] = {name: [] for name in cases}
    for _ in range(args.reps):
        # Paired: every tool once per repetition, so slow drift affects all alike.
        for name, (command, folder, before) in cases.items():
            before()
            runs[name].append(run(command, folder))
    set_aside.delete()
    median = {name: statistics.median(m.seconds for m in done) for name, done in runs.items()}
    memory = {name: max(m.peak for m in done) // 2**20 for name, done in runs.items()}
    lines = [
        f"### {args.posts} posts, {args.reps} repetitions, "
        f"{platform.machine()} {os.cpu_count()} cores ({processor()}), "
        f"Python {platform.python_version()}",
        "",
        "| case | median wall | CPU, user + system | peak memory | runs |",
        "|---|---|---|---|---|",
    ]
    for name, done in runs.items():
        walls = ", ".join(f"{m.seconds:.2f}" for m in done)
        lines.append(
            f"| {name} | {median[name]:.3f} s | {_cpu(done)} | {memory[name]} MiB | {walls} |"
        )
    output = wcit / "output"
    files = [p for p in output.rglob("*") if p.is_file()]
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    lines += [
        "",
        f"- default output: {len(files)} files, {size_mb:.0f} MB "
        f"({size_mb * 1000 / args.posts:.1f} MB per 1,000 posts; target at 10,000 posts: "
        "at most 150 MB and 35,000 files)",
        f"- cold time per post: {1000 * median['wcitfeed cold'] / args.posts:.2f} ms",
    ]
    if args.only_wcitfeed:
        print("\n".join(lines))
        if args.results:
            with args.results.open("a", encoding="utf-8") as handle:
                handle.write("\n".join(lines) + "\n")
        return
    cold, nochange = median["wcitfeed cold"], median["wcitfeed no change"]
    like, hugo_time = median["wcitfeed cold, like-for-like"], median["hugo"]
    edit = median["wcitfeed one post changed"]
    # Issue 13's targets; memory is measured in MiB, the targets are in MB (10^6 bytes).
    peak_mb = max(memory["wcitfeed cold"], memory["wcitfeed cold, like-for-like"]) * 2**20 / 1e6
    lines += [
        "",
        f"- cold build: {cold / hugo_time:.2f}× Hugo's time (target: at most 2×, "
        f"{_met(cold <= 2 * hugo_time)}); like-for-like {like / hugo_time:.2f}× "
        f"(target: at most 1×, {_met(like <= hugo_time)})",
        f"- cold build vs Pelican: {median['pelican'] / cold:.1f}× faster (target: at least "
        f"5×, {_met(median['pelican'] >= 5 * cold)}); like-for-like "
        f"{median['pelican'] / like:.1f}× faster",
        f"- no-change rebuild: {nochange / hugo_time:.3f}× Hugo's build, {nochange:.3f} s "
        f"(target: at most 0.05×, {_met(nochange <= 0.05 * hugo_time)})",
        f"- one post changed: {edit / nochange:.2f}× the no-change rebuild "
        f"(target: at most 2×, {_met(edit <= 2 * nochange)})",
        f"- cold build vs floor: {cold / median['floor (cat inputs, cp outputs)']:.1f}×",
        f"- peak memory of the process tree, cold: {memory['wcitfeed cold']} MiB, "
        f"like-for-like {memory['wcitfeed cold, like-for-like']} MiB "
        f"(target at 10,000 posts: under 300 MB, {_met(peak_mb < 300)})",
        "",
    ]
    print("\n".join(lines))
    if args.results:
        with args.results.open("a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")


def _cpu(done: list[Measured]) -> str:
    """Return the median user and system CPU seconds of a case's runs, or "not measured"."""
    user = [m.user for m in done if m.user is not None]
    system = [m.system for m in done if m.system is not None]
    if len(user) < len(done) or len(system) < len(done):
        return "not measured"
    return f"{statistics.median(user):.1f} + {statistics.median(system):.1f} s"


def _met(met: bool) -> str:
    return "met" if met else "not met"


if __name__ == "__main__":
    main()
