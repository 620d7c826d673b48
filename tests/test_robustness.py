"""Whatever is in content/, the build ends in valid feeds or a clear error; kills lose nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import lxml.html
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.conftest import REPO, SHARED
from tests.helpers import (
    THEME,
    make_generated_site,
    published_state,
    with_own_templates,
    write_generated_post,
)
from wcitfeed.cli import main
from wcitfeed.content import FORBIDDEN_RE, _clean_text, _forbidden_free

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


# Valid by construction: whatever hostile text it carries, such a post must build. (Lone
# surrogates are left out: a file that holds them is not UTF-8, an error of its own.)
clean_text = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60),
    st.sampled_from([h for h in HOSTILE if not any("\ud800" <= c <= "\udfff" for c in h)]),
)
visible = clean_text.map(lambda t: f"T {t}")
valid_front = st.fixed_dictionaries(
    {
        "title": visible,
        "date": st.datetimes(
            min_value=datetime(1990, 1, 1), max_value=datetime(2020, 1, 1), timezones=st.just(UTC)
        ),
    },
    optional={
        "tags": st.lists(visible, max_size=3),
        "summary": st.one_of(clean_text, st.none()),
        "author": st.one_of(visible, st.fixed_dictionaries({"name": visible})),
        "draft": st.booleans(),
        "extra": st.dictionaries(st.text("abcxyz", min_size=1, max_size=8), clean_text, max_size=2),
    },
)
valid_posts = st.lists(
    st.tuples(
        valid_front, st.lists(clean_text, max_size=6).map(lambda b: "Body\n\n" + "\n\n".join(b))
    ),
    min_size=1,
    max_size=3,
)
any_posts = st.lists(
    st.tuples(front, st.lists(text, max_size=6).map("\n\n".join), st.booleans()),
    min_size=1,
    max_size=3,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(valid=st.booleans(), posts=any_posts, good=valid_posts)
def test_any_input_gives_valid_feeds_or_a_clear_error(
    valid: bool, posts: list[tuple[dict, str, bool]], good: list[tuple[dict, str]], tmp_path_factory
) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "content").mkdir()
    (root / "wcitfeed.toml").write_text(
        f'title = "Fuzz"\nbase_url = "https://fuzz.example.org/"\ntemplates = "{THEME}"\n'
        'formats = ["atom", "rss", "json"]\n',
        encoding="utf-8",
    )
    if valid:
        for number, (meta, body) in enumerate(good):
            meta = {**meta, "id": f"urn:uuid:fuzz-{number}"}
            write_post(root / "content" / f"p{number}.md", meta, body, False)
    else:
        for number, (meta, body, raw) in enumerate(posts):
            write_post(root / "content" / f"p{number}.md", meta, body, raw and number == 0)
    result = CliRunner().invoke(main, ["build", "--config", str(root / "wcitfeed.toml")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 1 and not valid:
        errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
        assert errors, result.output
        assert all(".md" in line or "wcitfeed.toml" in line for line in errors)
        return
    # A valid site always builds, and its feeds are checked.
    assert result.exit_code == 0, result.output
    out = root / "output"
    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse((out / name).read_bytes())
        assert parsed.bozo == 0, (name, parsed.get("bozo_exception"))
    assert ATOM_SCHEMA.validate(etree.parse(str(out / "atom.xml"))), ATOM_SCHEMA.error_log
    items = json.loads((out / "feed.json").read_text(encoding="utf-8"))["items"]
    if valid:
        shown = [meta for meta, _ in good if not meta.get("draft")]
        assert len(items) == len(shown)
    for html in (out / "fragments").glob("*.html"):
        assert unsafe_markup(html.read_text(encoding="utf-8")) == [], html


def unsafe_markup(page: str) -> list[str]:
    """List the scripts, event handlers and javascript: URLs in a page, as a browser sees them."""
    found = []
    for element in lxml.html.fragment_fromstring(page, create_parent="div").iter():
        if element.tag in ("script", "iframe", "object", "embed", "form"):
            found.append(str(element.tag))
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                found.append(f"{element.tag} {name}")
            if "".join(value.split()).lower().startswith(("javascript:", "vbscript:", "data:")):
                found.append(f"{element.tag} {name}={value}")
    return found


def kill_at(step: int, config: Path, now: str) -> subprocess.CompletedProcess[str]:
    """Build, killed by SIGKILL at its ``step``-th file-system step (0: never)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.kill_at",
            str(step),
            "-q",
            "--config",
            str(config),
            "--now",
            now,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )


def test_a_kill_at_any_step_ends_as_an_unkilled_build(tmp_path: Path) -> None:
    """Kill a build at every step of its writing: each published file is always one whole
    version, and the next build yields exactly the output and ledger of an unkilled build."""

    def change(root: Path, templates: Path) -> None:
        # A template every file shows, an edited post, a deleted one, a new one.
        entry = templates / "entry.html"
        entry.write_text(entry.read_text().replace("{{ body_html }}", "<div>{{ body_html }}</div>"))
        post = root / "site/content/post-0007.md"
        post.write_text(post.read_text() + "An edit announced exactly once.\n")
        (root / "site/content/post-0009.md").unlink()
        write_generated_post(root / "site/content", 31, datetime(2012, 12, 31, 9, tzinfo=UTC))

    kill_everywhere(tmp_path, change)


def test_a_kill_at_any_step_of_a_quick_build_ends_as_an_unkilled_build(tmp_path: Path) -> None:
    """The same for a build that takes the quick path (``edits``): two posts' text edited."""

    def change(root: Path, templates: Path) -> None:
        for number in (7, 30):
            post = root / f"site/content/post-{number:04d}.md"
            post.write_text(post.read_text() + "An edit announced exactly once.\n")

    kill_everywhere(tmp_path, change)


def kill_everywhere(tmp_path: Path, change: Callable[[Path, Path], None]) -> None:
    t0, t1, t2 = (
        "2013-01-01T00:00:00+00:00",
        "2013-02-01T00:00:00+00:00",
        "2013-03-01T00:00:00+00:00",
    )

    def site_before_change(root: Path) -> Path:
        config = make_generated_site(root / "site", 30)
        templates = with_own_templates(config)
        assert kill_at(0, config, t0).returncode == 0
        change(root, templates)
        return config

    def reference(now: str) -> dict[str, bytes]:
        root = tmp_path / f"reference-{now[:7]}"
        assert kill_at(0, site_before_change(root), now).returncode == 0
        return published_state(root / "site")

    base = tmp_path / "probe"
    config = site_before_change(base)
    old = published_state(base / "site")
    counted = kill_at(0, config, t1)
    steps = int(counted.stderr.split("steps ")[-1])
    assert steps > 10, counted.stderr
    new, later = published_state(base / "site"), reference(t2)
    assert new == reference(t1)
    assert new != old

    # Spread over the build, and every one of the last steps (the cache store is there).
    points = sorted({*range(1, steps + 1, max(1, steps // 24)), *range(steps - 4, steps + 1)})
    for step in points:
        root = tmp_path / f"kill-{step}"
        config = site_before_change(root)
        killed = kill_at(step, config, t1)
        assert killed.returncode == -signal.SIGKILL, (step, killed.stderr)
        # Every published file is one whole version, old or new.
        shown = {}
        for rel, data in published_state(root / "site").items():
            if rel.startswith("output/"):
                assert data in (old.get(rel), new.get(rel)), (step, rel)
                if data != old.get(rel):
                    shown[rel] = data
        edit_recorded = (
            '"updated": "2013-02-01T00:00:00+00:00"'
            in (root / "site/wcitfeed-ledger.json").read_text()
        )
        assert kill_at(0, config, t2).returncode == 0
        recovered = published_state(root / "site")
        # Ledger first: once it holds the edit's time, the recovery publishes that time.
        assert recovered == (new if edit_recorded else later), step
        # What a reader may already have fetched is never republished differently (an
        # edit announced at one time, then at another).
        for rel, data in shown.items():
            assert recovered.get(rel) == data, (step, rel)
        assert list((root / "site").rglob(".wcitfeed-tmp-*")) == [], step


@settings(max_examples=400, deadline=None)
@given(st.text(st.characters(exclude_categories=())) | st.text(st.characters(max_codepoint=0x7F)))
def test_the_quick_check_for_forbidden_characters_agrees_with_the_pattern(text: str) -> None:
    """Posts are cleaned of the characters XML forbids by a quick check first (ASCII text
    through bytes); it must find exactly what the pattern finds, in any text."""
    assert _forbidden_free(text) == (FORBIDDEN_RE.search(text) is None)
    expected = FORBIDDEN_RE.sub("", text.removeprefix("\ufeff").replace("\r\n", "\n"))
    assert _clean_text(text) == expected
