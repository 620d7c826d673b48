"""E-mail fragments and digests as a mail client and a person see them."""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import lxml.html
import pytest
from click.testing import Result

from tests.browser import dom, screenshot
from tests.helpers import GOOD, HOSTILE, make_site

WCITFEED = [sys.executable, "-m", "wcitfeed"]


def test_hostile_post_becomes_a_safe_email_fragment(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    config = make_site(tmp_path, {"periodic/bad.md": GOOD.replace("Body.\n", HOSTILE)})
    config.write_text("email_fragments = true\n" + config.read_text())
    assert run_cli("build", "--config", config).exit_code == 0
    html = (tmp_path / "output/email/bad.html").read_text(encoding="utf-8")
    for dangerous in (
        "<script",
        "alert(",
        "onerror",
        "onclick",
        "javascript:",
        "<iframe",
        "<form",
        "<input",
        "<style",
        "position:fixed",
        "class=",
    ):
        assert dangerous not in html, dangerous
    assert '<img src="https://example.org/periodic/pics/cat.png"' in html
    assert 'alt="cat.png"' in html
    # The 2000-px image is the one held to the 600-px column, and shrinks below it.
    huge = lxml.html.fragment_fromstring(html, create_parent="div").xpath('.//img[@alt="Huge"]')
    assert len(huge) == 1
    assert huge[0].get("width") == "600"
    assert "max-width:100%" in huge[0].get("style", "").replace(" ", "")
    assert "Before." in html
    assert "After." in html
    # Styles are inline: the heading carries its own font, whatever the client drops.
    assert re.search(r'<h2 style="[^"]*font-family', html)


def site_with_seed(tmp_path: Path) -> Path:
    from tests.conftest import copy_site

    return copy_site(tmp_path / "site")


def test_email_fragment_and_digest_in_chromium(tmp_path: Path) -> None:
    site = site_with_seed(tmp_path)
    subprocess.run([*WCITFEED, "build"], cwd=site, check=True)
    fragment = site / "output/email/2012-12-14.html"
    page = dom(fragment.as_uri(), 600, 900)
    assert "Friday December 14th | Final update from WCIT" in page
    assert "Friday, December 14, 2012, 10:00\u202fPM (UTC+04:00)" in page
    assert "<style" not in page
    hrefs = re.findall(r'href="([^"]+)"', page)
    assert hrefs and all(h.startswith("https://wcit-updates.example.org/") for h in hrefs)
    screenshot(fragment.as_uri(), "email-fragment.png", 600, 900)

    digest = subprocess.run(
        [*WCITFEED, "digest", "--last", "3", "--full"],
        cwd=site,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = tmp_path / "digest.html"
    path.write_text(digest, encoding="utf-8")
    page = dom(path.as_uri(), 600, 1200)
    for title in (
        "Friday December 14th | Final update from WCIT",
        "Sunday December 9th",
        "Friday, December 7th",
    ):
        assert title in page
    assert "Sunday, December 9, 2012, 9:00\u202fPM (UTC+04:00)" in page
    assert "<style" not in page and "class=" not in page
    links = re.findall(r'href="([^"]+)"', page)
    assert all(link.startswith("https://") for link in links)
    assert "https://wcit-updates.example.org/posts/2012-12-09/" in links
    screenshot(path.as_uri(), "email-digest.png", 600, 1200)


def test_text_digest_keeps_lists_and_footnotes_links(tmp_path: Path) -> None:
    site = site_with_seed(tmp_path)
    text = subprocess.run(
        [*WCITFEED, "digest", "--last", "1", "--full", "--format", "text"],
        cwd=site,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Friday December 14th | Final update from WCIT" in text
    assert text.count("\n  - ") == 11
    # Links are numbered like footnotes, with no Markdown left over.
    assert re.search(r"on the site \[(\d+)\]$", text, re.MULTILINE)
    assert re.search(
        r"^\[\d+\] https://wcit-updates\.example\.org/posts/2012-12-14/$", text, re.MULTILINE
    )
    assert not re.search(r"\]\[\d+\]|^#|\*\*|\]\(", text, re.MULTILINE), text
    assert text.startswith("Updates from WCIT: 1 new update")  # not the hidden preheader
    assert max(len(line) for line in text.splitlines()) <= 76
    assert "<" not in text


def test_eml_parses_into_matching_text_and_html_parts(tmp_path: Path) -> None:
    site = site_with_seed(tmp_path)
    args = ["digest", "--last", "2", "--now", "2013-01-01T08:00:00+0000"]

    def run(*extra: str) -> bytes:
        return subprocess.run(
            [*WCITFEED, *args, *extra], cwd=site, capture_output=True, check=True
        ).stdout

    eml = run(
        "--format",
        "eml",
        "--to",
        "list@example.org",
        "--from",
        "desk@example.org",
        "--subject",
        "WCIT this week",
    )
    message = email.message_from_bytes(eml, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "WCIT this week"
    assert message["To"] == "list@example.org"
    assert message["Date"] == "Tue, 01 Jan 2013 08:00:00 +0000"
    assert message["Message-ID"].endswith("@wcit-updates.example.org>")
    text_part = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    assert text_part is not None and html_part is not None
    assert text_part.get_content_charset() == "utf-8"
    assert (
        text_part.get_content() == run("--format", "text", "--subject", "WCIT this week").decode()
    )
    assert html_part.get_content() == run("--subject", "WCIT this week").decode()


@pytest.mark.skipif(
    shutil.which("sendmail") is None and not Path("/usr/sbin/sendmail").exists(),
    reason="needs an MTA: make test installs Debian's exim4-daemon-light",
)
def test_sendmail_delivers_the_digest_to_a_local_mailbox(tmp_path: Path) -> None:
    site = site_with_seed(tmp_path)
    subject = f"WCIT digest {uuid.uuid4()}"
    eml = subprocess.run(
        [
            *WCITFEED,
            "digest",
            "--last",
            "1",
            "--format",
            "eml",
            "--to",
            "root@localhost",
            "--from",
            "updates@wcit-updates.example.org",
            "--subject",
            subject,
        ],
        cwd=site,
        capture_output=True,
        check=True,
    ).stdout
    sendmail = shutil.which("sendmail") or "/usr/sbin/sendmail"
    # -odf: exim delivers before it returns, so the mailbox is complete when we read it.
    subprocess.run([sendmail, "-odf", "-t"], input=eml, check=True, timeout=60)
    found = [
        message
        for box in Path("/var/mail").glob("*")
        for message in mailbox.mbox(box)
        if message["Subject"] == subject
    ]
    assert len(found) == 1, "the digest did not reach a mailbox in /var/mail exactly once"
    found = found[0]
    parsed = email.message_from_bytes(found.as_bytes(), policy=email.policy.default)
    assert parsed.get_body(("html",)) is not None
    assert "Friday December 14th" in parsed.get_body(("plain",)).get_content()


def test_since_last_twice_sends_nothing_the_second_time(tmp_path: Path) -> None:
    site = site_with_seed(tmp_path)
    first = subprocess.run(
        [*WCITFEED, "digest", "--since-last", "--max", "10", "--format", "text"],
        cwd=site,
        capture_output=True,
        text=True,
    )
    assert first.returncode == 0
    assert first.stdout.count("\n-----") == 6  # six underlined post headings
    state = site / "wcitfeed-digest.json"
    saved = state.read_bytes()
    second = subprocess.run(
        [*WCITFEED, "digest", "--since-last"], cwd=site, capture_output=True, text=True
    )
    assert (second.returncode, second.stdout) == (3, "")
    assert second.stderr.strip() == "Nothing new for a digest."
    assert state.read_bytes() == saved

    post = site / "content/periodic/2012-12-20.md"
    post.write_text(
        "---\nid: urn:uuid:after\ntitle: Afterwards\ndate: 2012-12-20T10:00:00+04:00"
        "\n---\nLater news.\n",
        encoding="utf-8",
    )
    third = subprocess.run(
        [*WCITFEED, "digest", "--since-last", "--format", "text"],
        cwd=site,
        capture_output=True,
        text=True,
    )
    assert third.returncode == 0
    assert "Afterwards" in third.stdout
    assert "Sunday December 9th" not in third.stdout


def test_since_window_and_summary(tmp_path: Path) -> None:
    site = site_with_seed(tmp_path)
    out = subprocess.run(
        [*WCITFEED, "digest", "--since", "2012-12-08"],
        cwd=site,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Sunday December 9th" in out and "Friday, December 7th" not in out
    assert "A weekend of ad hoc groups" in out  # the summary, not the full text
    assert "Ad hoc groups met all weekend" not in out
