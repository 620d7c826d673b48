"""Whatever is in content/, the build ends in valid feeds or a clear error; kills lose nothing."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.conftest import REPO, SHARED
from tests.helpers import make_generated_site
from wcitfeed.cli import main

ATOM_SCHEMA = etree.RelaxNG(etree.parse(str(SHARED / "tools/schemas/atom.rng")))
HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[link](javascript:alert(1))",
    "<iframe src=//evil></iframe>",
    "\x00\x07\x1b",
    "\ud83d\ude00 emoji",
    "\u202e rtl",
    "]]> <![CDATA[",
    "&amp; &bogus; &#0;",
    "{% liquid %} {{< shortcode >}}",
    "\ufeff",
    "\r\n",
    "---",
    "+++",
    "- list\n- items",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "[bracketed]",
]
text = st.one_of(st.text(max_size=60), st.sampled_from(HOSTILE))
scalar = st.one_of(
    text,
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.dates(),
    st.lists(text, max_size=3),
)
front = st.fixed_dictionaries(
    {},
    optional={
        "id": scalar,
        "title": scalar,
        "date": st.one_of(st.datetimes(), scalar),
        "updated": scalar,
        "tags": scalar,
        "summary": scalar,
        "author": scalar,
        "slug": scalar,
        "category": scalar,
        "draft": scalar,
        "image": scalar,
        "unknown": scalar,
    },
)


def write_post(path: Path, meta: dict, body: str, raw: bool) -> None:
    if raw:
        path.write_text(f"---\n{body}\n---\n{body}\n", encoding="utf-8", errors="surrogatepass")
        return
    dumped = yaml.safe_dump(meta, allow_unicode=True) if meta else ""
    path.write_bytes(f"---\n{dumped}---\n{body}\n".encode("utf-8", "surrogatepass"))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    posts=st.lists(
        st.tuples(front, st.lists(text, max_size=6).map("\n\n".join), st.booleans()),
        min_size=1,
        max_size=3,
    )
)
def test_any_input_gives_valid_feeds_or_a_clear_error(
    posts: list[tuple[dict, str, bool]], tmp_path_factory
) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "content").mkdir()
    (root / "wcitfeed.toml").write_text(
        f'title = "Fuzz"\nbase_url = "https://fuzz.example.org/"\n'
        f'templates = "{REPO / "templates"}"\n',
        encoding="utf-8",
    )
    for number, (meta, body, raw) in enumerate(posts):
        write_post(root / "content" / f"p{number}.md", meta, body, raw and number == 0)
    result = CliRunner().invoke(main, ["build", "--config", str(root / "wcitfeed.toml")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
        assert errors, result.output
        assert all(".md" in line or "wcitfeed.toml" in line for line in errors)
        return
    assert result.exit_code == 0, result.output
    out = root / "output"
    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse((out / name).read_bytes())
        assert parsed.bozo == 0, (name, parsed.get("bozo_exception"))
    assert ATOM_SCHEMA.validate(etree.parse(str(out / "atom.xml"))), ATOM_SCHEMA.error_log
    json.loads((out / "feed.json").read_text(encoding="utf-8"))
    for html in (out / "fragments").glob("*.html"):
        page = html.read_text(encoding="utf-8")
        assert "<script" not in page and "javascript:" not in page


def test_two_hundred_kills_leave_every_file_old_or_new(tmp_path: Path) -> None:
    """Kill builds at random moments; every output file is always one complete version."""
    config = make_generated_site(tmp_path, 40)
    templates = tmp_path / "templates"
    templates.mkdir()
    for template in (REPO / "templates").iterdir():
        (templates / template.name).write_bytes(template.read_bytes())
    config.write_text(config.read_text().replace(str(REPO / "templates"), "templates"))
    # The entry template shapes every feed, fragment and page: each variant rewrites them all.
    fragment = templates / "entry.html"
    variants = {
        "a": fragment.read_text(),
        "b": fragment.read_text().replace("{{ body_html }}", "<div>{{ body_html }}</div>"),
    }
    command = [sys.executable, "-m", "wcitfeed", "build", "-q", "--config", str(config)]

    def complete_build(variant: str) -> dict[str, bytes]:
        fragment.write_text(variants[variant])
        subprocess.run(command, check=True)
        out = tmp_path / "output"
        return {
            p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()
        }

    versions = {v: complete_build(v) for v in ("a", "b")}
    assert versions["a"]["atom.xml"] != versions["b"]["atom.xml"]
    rng = random.Random(2012)
    kills = 0
    variant = "b"
    while kills < 200:
        variant = "a" if variant == "b" else "b"
        fragment.write_text(variants[variant])
        proc = subprocess.Popen(command)
        time.sleep(rng.uniform(0.0, 0.7))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        out = tmp_path / "output"
        for path in out.rglob("*"):
            if not path.is_file() or path.name.startswith(".wcitfeed"):
                continue
            rel = path.relative_to(out).as_posix()
            data = path.read_bytes()
            assert data in (versions["a"].get(rel), versions["b"].get(rel)), (kills, rel)
    final = complete_build("a")
    assert {k: v for k, v in final.items() if not k.startswith(".wcitfeed")} == {
        k: v for k, v in versions["a"].items() if not k.startswith(".wcitfeed")
    }
    assert list(tmp_path.rglob(".wcitfeed-tmp-*")) == []
