"""Switching a site from real Jekyll (with jekyll-feed and jekyll-redirect-from), real Hugo
and real Pelican to wcitfeed, as its subscribers live it.

Each test builds a sample of real posts with the old tool, serves it over HTTP on the
loopback, subscribes newsboat and feedparser to the old feeds and marks everything read;
then serves wcitfeed's build of the same posts (``from = "<tool>"``) at the same address
and reloads. Nobody may see a new or unread entry, every old post address must answer
with that post (or a redirect to it), links between posts must lead where the old tool's
did, and no template syntax the old tool ran may reach a feed.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import pytest

from tests.helpers import SHARED, mark_all_read, newsboat_reload

CORPORA = SHARED / "corpora"
JEKYLL_SAMPLE = [
    "2013-05-06-jekyll-1-0-0-released.markdown",
    "2014-05-06-jekyll-turns-2-0-0.markdown",  # {% post_url %}
    "2014-06-04-jekyll-stickers-1-dollar-stickermule.markdown",  # category "partners"
    "2016-10-06-jekyll-3-3-is-here.md",  # relative_url
    "2017-01-18-jekyll-3-4-0-released.markdown",
    "2017-03-02-jekyll-3-4-1-released.markdown",
    "2017-03-09-jekyll-3-4-2-released.markdown",  # {% link _posts/… %}
    "2017-03-21-jekyll-3-4-3-released.markdown",
    "2018-01-02-jekyll-3-7-0-released.md",
    "2018-01-25-jekyll-3-7-2-released.md",  # {% raw %}
    "2018-02-25-jekyll-3-7-3-released.markdown",
    "2019-08-19-jekyll-4-0-0-released.markdown",
]
HUGO_SAMPLE = [
    "hugoBasicExample-post/emoji-support.md",
    "hugoBasicExample-post/markdown-syntax.md",
    "hugoBasicExample-post/math-typesetting.md",
    "hugoBasicExample-post/placeholder-text.md",
    "hugoDocs-news/2021-12-17-no-more-releasenotes.md",
]
# Template syntax: Liquid tags and output, Hugo shortcodes.
TEMPLATE_SYNTAX = re.compile(r"\{%.*?%\}|\{\{.*?\}\}")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def static_server(root: Path) -> Iterator[str]:
    """Serve ``root`` (whatever it holds at each request) on the loopback; yield its URL."""
    root.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def fetch(url: str) -> tuple[int, str, str]:
    """GET a URL; return the status, the URL finally reached and the text."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.url, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, url, ""


def replace_tree(www: Path, built: Path) -> None:
    """Put a build where the server serves, replacing what was there."""
    shutil.rmtree(www)
    shutil.copytree(built, www)


def refresh_target(page: str, url: str) -> str | None:
    """Return where a meta-refresh page sends a reader, if it is one."""
    match = re.search(r'http-equiv="refresh"\s+content="\d+;\s*url=([^"]+)"', page, re.I)
    return urljoin(url, html.unescape(match.group(1))) if match else None


@dataclass(frozen=True)
class Entry:
    """One feed entry as feedparser reads it."""

    id: str
    title: str
    link: str
    content: str


def read_feed(url: str) -> list[Entry]:
    status, _, text = fetch(url)
    assert status == 200, url
    parsed = feedparser.parse(text)
    assert not parsed.bozo, (url, parsed.get("bozo_exception"))
    found = []
    for item in parsed.entries:
        content = item.get("content", [{}])[0].get("value") or item.get("summary", "")
        found.append(Entry(item.id, item.title, item.link, content))
    return found


def straight(text: str) -> str:
    """Return text with typographic quotes made straight."""
    return text.translate(str.maketrans("\u201c\u201d\u2018\u2019", "\"\"''"))


def template_syntax(entry: Entry) -> set[str]:
    """The template tags an entry's text shows (as text: highlighted code splits them)."""
    text = html.unescape(re.sub(r"<[^>]+>", "", entry.content))
    return {" ".join(tag.split()) for tag in TEMPLATE_SYNTAX.findall(text)}


def site_links(entry: Entry, base: str) -> set[str]:
    """The links of an entry's text to other pages of the site (not into the entry's own
    page, not to pictures), as absolute URLs."""
    found = set()
    for href in re.findall(r'<a [^>]*href="([^"]+)"', entry.content):
        url = urljoin(entry.link, html.unescape(href))
        if url.startswith(base) and url.split("#")[0] != entry.link.split("#")[0]:
            found.add(url)
    return found


def old_page(old_output: Path, base: str, link: str) -> Entry:
    """Read the old build's page at ``link`` as an entry (its whole HTML as content)."""
    path = urlsplit(link).path.lstrip("/")
    file = old_output / (path + "index.html" if path.endswith("/") else path)
    return Entry(link, "", link, file.read_text("utf-8"))


def switch_and_check(
    tmp_path: Path,
    www: Path,
    base: str,
    old_output: Path,
    feeds: list[str],
    settings: str,
) -> None:
    """Serve the old build, subscribe to ``feeds`` and read everything; serve wcitfeed's
    build (``settings`` beside the old site) and check what every subscriber sees."""
    replace_tree(www, old_output)
    urls = [urljoin(base, feed) for feed in feeds]
    reader = tmp_path / "newsboat"
    reader.mkdir()
    before = newsboat_reload(reader, urls)
    # newsboat keeps one item per guid, under the first feed that had it.
    assert before and all(unread for _, _, unread in before), "newsboat read nothing"
    mark_all_read(reader)
    old = {url: read_feed(url) for url in urls}
    pages = sorted({e.link for entries in old.values() for e in entries})
    titles = {e.link: e.title for entries in old.values() for e in entries}
    redirects = {}
    for page in old_output.rglob("*.html"):
        text = page.read_text("utf-8", errors="replace")
        url = urljoin(urljoin(base, "/"), page.relative_to(old_output).as_posix())
        if (target := refresh_target(text, url)) is not None:
            redirects[url] = target

    site = tmp_path / "wcitfeed"
    site.mkdir()
    (site / "wcitfeed.toml").write_text(settings, encoding="utf-8")
    # Built twice, the output thrown away between: what is served comes from posts the
    # second build read back from its cache, as every later build of the site does.
    for _ in range(2):
        shutil.rmtree(site / "output", ignore_errors=True)
        done = subprocess.run(
            [sys.executable, "-m", "wcitfeed", "build", "--config", str(site / "wcitfeed.toml")],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    prefix = urlsplit(base).path.lstrip("/")
    served = www.parent / "served"
    shutil.copytree(site / "output", served / prefix)
    replace_tree(www, served)

    after = newsboat_reload(reader, urls)
    assert [(feed, guid) for feed, guid, unread in after if unread] == []
    assert sorted(after) == sorted((feed, guid, 0) for feed, guid, _ in before)
    new = {url: read_feed(url) for url in urls}
    for url in urls:
        assert [e.id for e in new[url]] == [e.id for e in old[url]], url
        by_id = {e.id: e for e in old[url]}
        for entry in new[url]:
            was = by_id[entry.id]
            assert entry.link == was.link
            page = old_page(old_output, base, was.link)
            # Links between posts lead where the old tool's did: those of its feed, and no
            # other than its page had (Hugo's feed carries a summary without links).
            ours = site_links(entry, base)
            assert site_links(was, base) <= ours, entry.id
            assert ours <= site_links(was, base) | site_links(page, base), entry.id
            # No template syntax the old tool ran reaches a reader.
            assert template_syntax(entry) <= template_syntax(was) | template_syntax(page)
    for page in pages:
        status, reached, text = fetch(page)
        assert status == 200, page
        assert reached == page
        # jekyll-feed "smartifies" titles: compare them with straight quotes.
        assert straight(titles[page]) in straight(html.unescape(text)), page
    assert redirects, "the old site had no redirect pages to check"
    for alias, target in redirects.items():
        status, _, text = fetch(alias)
        assert status == 200, alias
        assert refresh_target(text, alias) == target, alias
        assert f'rel="canonical" href="{target}"' in text


def test_a_jekyll_site_switches_without_a_new_or_unread_entry(tmp_path: Path) -> None:
    jekyll = shutil.which("jekyll")
    assert jekyll, "Debian's jekyll is missing (make test installs it)"
    source = tmp_path / "jekyll"
    posts = source / "_posts"
    posts.mkdir(parents=True)
    for name in JEKYLL_SAMPLE:
        shutil.copy(CORPORA / "jekyll" / name, posts / name)
    # A post that moved: jekyll-redirect-from makes its old addresses redirect.
    (posts / "2019-09-01-a-post-that-moved.md").write_text(
        "---\ntitle: A post that moved\nredirect_from:\n  - /old/a-post-that-moved/\n"
        "  - /2019/moved.html\n---\nIt was at two other addresses before.\n",
        encoding="utf-8",
    )
    www = tmp_path / "www"
    repository = "https://github.com/jekyll/jekyll"
    with static_server(www) as root:
        (source / "_config.yml").write_text(
            f"title: Jekyll news\nurl: {root.rstrip('/')}\nbaseurl: /blog\ntimezone: UTC\n"
            f"repository: {repository}\nplugins: [jekyll-feed, jekyll-redirect-from]\n",
            encoding="utf-8",
        )
        subprocess.run(
            [jekyll, "build", "--quiet", "-s", str(source), "-d", str(tmp_path / "old" / "blog")],
            check=True,
            timeout=300,
        )
        switch_and_check(
            tmp_path,
            www,
            root + "blog/",
            tmp_path / "old",
            ["feed.xml"],
            f'title = "Jekyll news"\nbase_url = "{root}blog/"\nfrom = "jekyll"\n'
            f'content = "{posts}"\n[variables]\nrepository = "{repository}"\n',
        )


@pytest.mark.parametrize("permalinks", ["", '[permalinks]\npost = "/:year/:month/:title/"\n'])
def test_a_hugo_site_switches_without_a_new_or_unread_entry(
    tmp_path: Path, permalinks: str
) -> None:
    hugo = shutil.which("hugo")
    assert hugo, "Debian's hugo is missing (make test installs it)"
    source = tmp_path / "hugo"
    content = source / "content" / "post"
    content.mkdir(parents=True)
    for name in HUGO_SAMPLE:
        shutil.copy(CORPORA / "hugo" / name, content / Path(name).name)
    # A page bundle, an alias and a link by ref to another post.
    (content / "a-bundle").mkdir()
    (content / "a-bundle" / "index.md").write_text(
        '---\ntitle: "A bundle, with: punctuation!"\ndate: 2023-04-05T06:07:08+02:00\n'
        "tags: [Go Modules, markdown]\naliases: [/old/bundle/]\n---\n"
        'See [the emoji guide]({{< ref "emoji-support.md" >}}) and '
        '[the syntax]({{< relref "post/markdown-syntax" >}}).\n',
        encoding="utf-8",
    )
    layouts = source / "layouts" / "_default"
    layouts.mkdir(parents=True)
    page = "<html><head><title>{{ .Title }}</title></head><body>{{ .Content }}</body></html>"
    (layouts / "single.html").write_text(page, encoding="utf-8")
    (layouts / "list.html").write_text(page, encoding="utf-8")
    www = tmp_path / "www"
    with static_server(www) as root:
        (source / "hugo.toml").write_text(
            f'baseURL = "{root}"\ntitle = "Hugo news"\n{permalinks}', encoding="utf-8"
        )
        subprocess.run(
            [hugo, "--quiet", "-s", str(source), "-d", str(tmp_path / "old")],
            check=True,
            timeout=300,
        )
        feeds = sorted(
            p.relative_to(tmp_path / "old").as_posix()
            for p in (tmp_path / "old").rglob("index.xml")
            # The lists of terms are not feeds of posts.
            if p.parent.name not in ("tags", "categories")
        )
        assert {"index.xml", "post/index.xml", "tags/markdown/index.xml"} <= set(feeds)
        settings = f'title = "Hugo news"\nbase_url = "{root}"\nfrom = "hugo"\n'
        settings += f'content = "{source / "content"}"\n{permalinks}'
        switch_and_check(tmp_path, www, root, tmp_path / "old", feeds, settings)


PELICAN_POSTS = {
    "first.md": "Title: First steps\nDate: 2012-12-03 09:00\nCategory: Conference\n"
    "Tags: itu, wcit\n\nThe conference opens today.\n",
    "second.md": "Title: Proposals & counter-proposals\nDate: 2012-12-07 19:00\n"
    "Category: Conference\nTags: itu\nSlug: proposals\n\nDrafts were exchanged.\n",
    "notes/third.md": "Title: A note (with brackets)\nDate: 2012-12-14 18:30\n"
    "Summary: The end.\n\nThe treaty was signed by some.\n",
    "notes/fourth.md": "Title: Placed by hand\nDate: 2012-12-15 09:00\nURL: special/placed/\n"
    "Save_as: special/placed/index.html\n\nAn article with its own address.\n",
}


def test_a_pelican_site_switches_without_a_new_or_unread_entry(tmp_path: Path) -> None:
    pytest.importorskip("pelican", reason="pelican is in the test extras")
    content = tmp_path / "pelican" / "content"
    for name, text in PELICAN_POSTS.items():
        (content / name).parent.mkdir(parents=True, exist_ok=True)
        (content / name).write_text(text, encoding="utf-8")
    www = tmp_path / "www"
    with static_server(www) as root:
        settings = tmp_path / "pelican" / "pelicanconf.py"
        settings.write_text(
            f'SITENAME = "Pelican news"\nSITEURL = "{root.rstrip("/")}"\nTIMEZONE = "UTC"\n'
            "RELATIVE_URLS = False\nFEED_DOMAIN = SITEURL\n",
            encoding="utf-8",
        )
        subprocess.run(
            [sys.executable, "-m", "pelican", str(content), "-s", str(settings), "-o",
             str(tmp_path / "old"), "-q"],
            check=True,
            timeout=300,
        )  # fmt: skip
        feeds = sorted(
            p.relative_to(tmp_path / "old").as_posix()
            for p in (tmp_path / "old" / "feeds").glob("*.atom.xml")
        )
        assert feeds == [
            "feeds/all-en.atom.xml",
            "feeds/all.atom.xml",
            "feeds/conference.atom.xml",
            "feeds/notes.atom.xml",
        ]
        # Pelican makes no redirect pages; one alias shows wcitfeed's.
        (content / "first.md").write_text(
            PELICAN_POSTS["first.md"].replace("\n\n", "\nAliases: old/first.html\n\n"),
            encoding="utf-8",
        )
        (tmp_path / "old" / "old").mkdir()
        (tmp_path / "old" / "old" / "first.html").write_text(
            f'<meta http-equiv="refresh" content="0; url={root}first-steps.html">',
            encoding="utf-8",
        )
        ours = f'title = "Pelican news"\nbase_url = "{root}"\nfrom = "pelican"\n'
        switch_and_check(
            tmp_path, www, root, tmp_path / "old", feeds, ours + f'content = "{content}"\n'
        )


def test_an_edited_date_or_slug_keeps_the_old_id_and_the_old_address_redirects(
    tmp_path: Path,
) -> None:
    posts = tmp_path / "_posts"
    posts.mkdir()
    post = posts / "2013-05-06-launch.md"
    header = "---\ntitle: Launch\ndate: 2013-05-06 10:00:00 +0000\ncategory: news\n"
    post.write_text(header + "---\nWe launched.\n", encoding="utf-8")
    (tmp_path / "wcitfeed.toml").write_text(
        'title = "T"\nbase_url = "https://t.example.org/"\nfrom = "jekyll"\ncontent = "_posts"\n',
        encoding="utf-8",
    )
    out = tmp_path / "output"

    def build(now: str) -> list[Entry]:
        done = subprocess.run(
            [sys.executable, "-m", "wcitfeed", "build", "--config", str(tmp_path / "wcitfeed.toml"),
             "--now", now],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        parsed = feedparser.parse((out / "feed.xml").read_bytes())
        return [Entry(e.id, e.title, e.link, "") for e in parsed.entries]

    # A second post nobody edits: later builds read it from the cache, and it must keep
    # its address, its id, its link to the first post and its place in the old feed.
    (posts / "2013-05-01-before.md").write_text(
        "---\ntitle: Before\ncategory: news\nredirect_from: /was/before/\n---\n"
        "See [the launch]({% post_url 2013-05-06-launch %}).\n",
        encoding="utf-8",
    )
    before_id = "https://t.example.org/news/2013/05/01/before"
    before_page = out / "news/2013/05/01/before.html"
    first = build("2013-05-06T12:00:00+00:00")
    old_id = "https://t.example.org/news/2013/05/06/launch"
    assert [e.id for e in first] == [old_id, before_id]
    assert before_page.is_file() and (out / "was/before/index.html").is_file()
    post.write_text(header.replace("05-06 10", "05-07 10") + "---\nWe launched.\n", "utf-8")
    second = build("2013-05-08T12:00:00+00:00")
    assert [e.id for e in second] == [old_id, before_id]  # not .../2013/05/07/launch
    assert second[0].link == "https://t.example.org/news/2013/05/07/launch.html"
    post.write_text(header.replace("05-06 10", "05-07 10") + "slug: lift-off\n---\nUp.\n", "utf-8")
    third = build("2013-05-09T12:00:00+00:00")
    assert [e.id for e in third] == [old_id, before_id]
    assert before_page.is_file() and (out / "was/before/index.html").is_file()
    assert not (out / "posts").exists()
    # Its link follows the first post to its new address.
    entry = feedparser.parse((out / "feed.xml").read_bytes()).entries[1]
    assert 'href="https://t.example.org/news/2013/05/07/lift-off.html"' in entry.content[0].value
    now_at = "https://t.example.org/news/2013/05/07/lift-off.html"
    assert third[0].link == now_at
    for old in ("news/2013/05/06/launch.html", "news/2013/05/07/launch.html"):
        page = (out / old).read_text("utf-8")
        assert refresh_target(page, "https://t.example.org/" + old) == now_at, old


BAD_SWITCHES = [
    (
        "jekyll",
        "",
        {"2013-05-06-up.md": "---\ntitle: Up\npermalink: /../../escape/:title/\n---\nText.\n"},
        ["2013-05-06-up.md:3: 'permalink' gives the address '../../escape/up/'"],
    ),
    (
        "hugo",
        "",
        {"post/a.md": '+++\ntitle = "A"\ndate = 2020-01-01\naliases = ["../../x/"]\n+++\nA.\n'},
        ["post/a.md:4: 'aliases' gives the address"],
    ),
    (
        "pelican",
        "",
        {
            "a.md": "Title: Same title\nDate: 2012-12-03 10:00\n\nOne.\n",
            "b.md": "Title: Same title\nDate: 2012-12-04 10:00\n\nTwo.\n",
        },
        ["b.md: has the address same-title.html, which"],
    ),
    ("jekyll", 'permalink = "/:yaer/:title/"\n', {"2013-05-06-up.md": "---\n---\nUp.\n"},
     ["wcitfeed.toml: 'permalink' has :yaer, which is no placeholder"]),
    ("pelican", 'permalink = "{slgu}.html"\n', {"a.md": "Title: A\nDate: 2012-12-03\n\nA.\n"},
     ["wcitfeed.toml: 'permalink' cannot be filled (KeyError: 'slgu')"]),
]  # fmt: skip


@pytest.mark.parametrize(("tool", "settings", "posts", "messages"), BAD_SWITCHES)
def test_an_address_outside_the_site_a_shared_address_or_a_bad_pattern_is_one_located_error(
    tool: str, settings: str, posts: dict[str, str], messages: list[str], tmp_path: Path
) -> None:
    for name, text in posts.items():
        (tmp_path / "content" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "content" / name).write_text(text, encoding="utf-8")
    (tmp_path / "wcitfeed.toml").write_text(
        f'title = "T"\nbase_url = "https://t.example.org/"\nfrom = "{tool}"\n{settings}',
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "wcitfeed", "build", "--config", str(tmp_path / "wcitfeed.toml")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines() + done.stderr.splitlines()
    for message in messages:
        assert any(message in line for line in lines), (message, lines)
    assert not (tmp_path / "output").exists()
    assert not (tmp_path.parent / "escape").exists() and not (tmp_path / "x").exists()


def test_template_tags_strip_does_not_undo_what_from_resolves(tmp_path: Path) -> None:
    """``template_tags = "strip"`` is for sites without ``from``: with it, a link Jekyll's
    tags make must still be there, in the page and in the feed."""
    posts = tmp_path / "_posts"
    posts.mkdir()
    (posts / "2013-05-06-first.md").write_text("---\ntitle: First\n---\nOne.\n", "utf-8")
    (posts / "2013-05-07-second.md").write_text(
        "---\ntitle: Second\n---\nAfter [the first]({% post_url 2013-05-06-first %}).\n", "utf-8"
    )
    (tmp_path / "wcitfeed.toml").write_text(
        'title = "T"\nbase_url = "https://t.example.org/"\nfrom = "jekyll"\n'
        'content = "_posts"\ntemplate_tags = "strip"\n',
        encoding="utf-8",
    )
    # Twice, the output thrown away between: the second build reads the bodies again.
    command = [
        sys.executable,
        "-m",
        "wcitfeed",
        "build",
        "--config",
        str(tmp_path / "wcitfeed.toml"),
    ]
    for _ in range(2):
        shutil.rmtree(tmp_path / "output", ignore_errors=True)
        done = subprocess.run(
            command,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    link = 'href="https://t.example.org/2013/05/06/first.html"'
    assert link in (tmp_path / "output/2013/05/07/second.html").read_text("utf-8")
    entry = feedparser.parse((tmp_path / "output/feed.xml").read_bytes()).entries[0]
    assert link in entry.content[0].value
