"""Sending the newsletter: windows that start where the user means, a list's headers, real
delivery over SMTP (aiosmtpd on 127.0.0.1), and a layout that fits phones."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lxml.etree
import pytest
from aiosmtpd.controller import Controller
from PIL import Image

from tests.browser import ARTIFACTS, CHROMIUM, ink_share
from tests.conftest import copy_site

WCITFEED = [sys.executable, "-m", "wcitfeed"]
SENDER = "WCIT desk <desk@wcit-updates.example.org>"


class Inbox:
    """An aiosmtpd handler that keeps each envelope, or refuses every message."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.refuse = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "550 5.7.1 Message refused by policy"
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def site_for_mail(tmp_path: Path, port: int, extra: str = "") -> Path:
    site = copy_site(tmp_path / "site")
    settings = site / "wcitfeed.toml"
    text = settings.read_text(encoding="utf-8").replace("\n[[authors]]", "\n\n[[authors]]", 1)
    head, tail = text.split("\n\n[[authors]]", 1)
    head += (
        f'\nmail_from = "{SENDER}"\nlist_id = "updates.wcit-updates.example.org"\n'
        'unsubscribe_url = "https://wcit-updates.example.org/unsubscribe?u=1"\n'
        'unsubscribe_mailto = "leave@wcit-updates.example.org"\n'
        f'smtp_host = "127.0.0.1"\nsmtp_port = {port}\nsmtp_security = "none"\n' + extra
    )
    settings.write_text(head + "\n\n[[authors]]" + tail, encoding="utf-8")
    return site


def digest(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*WCITFEED, "digest", *args], cwd=site, capture_output=True, text=True, timeout=120
    )


def test_send_delivers_one_message_with_a_lists_headers_to_bcc_recipients(
    tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    site = site_for_mail(tmp_path, port)
    sent = digest(
        site, "--since-last", "--max", "2", "--send", "--bcc",
        "--to", "ann@example.org", "--to", "Bob <bob@example.org>",
        "--now", "2013-01-01T08:00:00+00:00",
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout == "Sent 2 posts to 2 recipients through 127.0.0.1:" + f"{port}.\n"
    assert sent.stderr == "Passed over 4 older posts (--max).\n"
    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "desk@wcit-updates.example.org"
    assert envelope.rcpt_tos == ["ann@example.org", "bob@example.org"]
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    headers = "\n".join(f"{k}: {v}" for k, v in message.items())
    assert "ann@example.org" not in headers and "bob@example.org" not in headers
    assert message["To"] == "undisclosed-recipients:;"
    assert message["From"] == SENDER
    assert message["List-Id"] == "Updates from WCIT <updates.wcit-updates.example.org>"
    assert message["List-Unsubscribe"] == (
        "<mailto:leave@wcit-updates.example.org?subject=unsubscribe>, "
        "<https://wcit-updates.example.org/unsubscribe?u=1>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Date"] == "Tue, 01 Jan 2013 08:00:00 +0000"
    assert message["Message-ID"].endswith("@wcit-updates.example.org>")
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    assert "Friday December 14th" in plain.get_content()
    assert 'href="https://wcit-updates.example.org/unsubscribe?u=1"' in html.get_content()
    # No structural defect anywhere in the message (Python's own mail parser).
    assert [part.defects for part in message.walk()] == [[] for _ in message.walk()]
    # The state moved: the next --since-last has nothing (the 4 passed over included).
    again = digest(site, "--since-last", "--send", "--to", "ann@example.org")
    assert (again.returncode, again.stderr) == (3, "Nothing new for a digest.\n")
    assert len(inbox.envelopes) == 1


def test_a_refusing_server_exits_non_zero_and_keeps_the_state(
    tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    site = site_for_mail(tmp_path, port)
    assert digest(site, "--since-last", "--start-now").returncode == 0
    state = site / "wcitfeed-digest.json"
    (site / "content/periodic/2012-12-20.md").write_text(
        "---\nid: urn:uuid:a3c1e9a0-5b1e-4f7e-9a43-1d2c3b4a5f60\ntitle: Afterwards\n"
        "date: 2012-12-20T10:00:00+04:00\n---\nLater news.\n",
        encoding="utf-8",
    )
    before = state.read_bytes()
    inbox.refuse = True
    failed = digest(site, "--since-last", "--send", "--to", "ann@example.org")
    assert failed.returncode == 6
    assert failed.stderr == (
        f"Error: 127.0.0.1:{port} refused the digest: 550 5.7.1 Message refused by policy\n"
    )
    assert state.read_bytes() == before
    inbox.refuse = False
    sent = digest(site, "--since-last", "--send", "--to", "ann@example.org")
    assert sent.returncode == 0, sent.stderr
    message = email.message_from_bytes(
        inbox.envelopes[0].original_content, policy=email.policy.default
    )
    text = message.get_body(("plain",)).get_content()
    assert "Afterwards" in text and "Sunday December 9th" not in text


def test_start_now_then_a_new_post_sends_exactly_that_post(tmp_path: Path) -> None:
    site = copy_site(tmp_path / "site")
    first = digest(site, "--since-last")
    assert first.returncode == 1
    assert "add --start-now to start from now, or --max N" in first.stderr
    assert not (site / "wcitfeed-digest.json").exists()
    started = digest(site, "--since-last", "--start-now")
    assert started.returncode == 0 and started.stdout == ""
    assert "Recorded 6 posts as sent" in started.stderr
    assert digest(site, "--since-last").returncode == 3
    (site / "content/issues/late.md").write_text(
        "---\nid: urn:uuid:0f5e3c2a-9b8d-4e7f-a6b5-c4d3e2f1a0b9\ntitle: A late brief\n"
        "date: 2012-12-15T10:00:00+04:00\n---\nOne more brief.\n",
        encoding="utf-8",
    )
    text = digest(site, "--since-last", "--format", "text")
    assert text.returncode == 0
    assert text.stdout.count("\n-----") == 1 and "A late brief" in text.stdout


def test_dry_run_shows_the_message_and_changes_nothing(tmp_path: Path) -> None:
    site = copy_site(tmp_path / "site")
    shown = digest(
        site, "--last", "1", "--send", "--dry-run", "--to", "ann@example.org", "--from", SENDER
    )
    assert shown.returncode == 0, shown.stderr
    assert "Subject: Updates from WCIT: 1 new update" in shown.stdout
    assert "Envelope recipients: ann@example.org" in shown.stdout
    assert not (site / "wcitfeed-digest.json").exists()


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("mail_from", "desk@example.org\\r\\nBcc: evil@example.net"),
        ("list_id", "x.example.org\\nBcc: evil@example.net"),
        ("unsubscribe_url", "https://x.example/\\r\\nBcc: evil@example.net"),
    ],
)
def test_header_injection_through_settings_is_refused(
    tmp_path: Path, setting: str, value: str
) -> None:
    site = copy_site(tmp_path / "site")
    settings = site / "wcitfeed.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(f'{setting} = "{value}"\n' + text, encoding="utf-8")
    refused = digest(site, "--last", "1", "--format", "eml", "--to", "a@example.org")
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"Error: wcitfeed.toml:1: '{setting}' must be one line")
    assert refused.stdout == ""


def test_header_injection_through_options_and_titles_is_refused(tmp_path: Path) -> None:
    site = copy_site(tmp_path / "site")
    for option in ("--subject", "--to", "--from"):
        args = {"--subject": "x", "--to": "a@example.org", "--from": SENDER}
        args[option] = "a@example.org\r\nBcc: evil@example.net"
        flat = [item for pair in args.items() for item in pair]
        refused = digest(site, "--last", "1", "--format", "eml", *flat)
        assert refused.returncode == 2
        assert "must be one line (no CR, LF or control characters)" in refused.stderr
    post = site / "content/periodic/2012-12-09.md"
    post.write_text(
        post.read_text("utf-8").replace(
            "title: Sunday December 9th", 'title: "Sunday\\r\\nBcc: evil@example.net"'
        ),
        encoding="utf-8",
    )
    made = digest(site, "--last", "6", "--format", "eml", "--to", "a@example.org", "--from", SENDER)
    if made.returncode == 0:
        message = email.message_from_string(made.stdout, policy=email.policy.default)
        assert message["Bcc"] is None
    else:
        assert made.returncode == 1 and "title" in made.stderr and "Traceback" not in made.stderr


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = pytest.importorskip("playwright.sync_api")
    with driver.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def test_digest_and_fragment_fit_phones_and_keep_small_images_small(
    tmp_path: Path, browser: Any
) -> None:
    site = copy_site(tmp_path / "site")
    Image.new("RGB", (40, 20), (200, 30, 30)).save(site / "content/periodic/icon.png")
    Image.new("RGB", (1200, 400), (30, 30, 200)).save(site / "content/periodic/wide.png")
    (site / "content/periodic/2012-12-11.md").write_text(
        "---\nid: urn:uuid:5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a\ntitle: Pictures\n"
        "date: 2012-12-11T10:00:00+04:00\n---\nAn icon ![flag](icon.png) in a line, and a "
        "wide map:\n\n![map](wide.png)\n\nA long address: "
        "https://wcit-updates.example.org/a/very/long/path/that/does/not/break/anywhere/at/all/x\n",
        encoding="utf-8",
    )
    subprocess.run([*WCITFEED, "build", "-q"], cwd=site, check=True, timeout=300)
    made = digest(site, "--last", "2", "--full")
    assert made.returncode == 0, made.stderr
    (site / "digest.html").write_text(made.stdout, encoding="utf-8")
    output = site / "output"
    pages = {"digest": site / "digest.html", "fragment": output / "email/2012-12-11.html"}

    def serve_site(route: Any) -> None:
        # Images are published below base_url; the test answers for it from output/.
        path = route.request.url.split("wcit-updates.example.org/", 1)[1].split("?")[0]
        route.fulfill(path=str(output / path))

    for width in (320, 390, 640):
        for name, path in pages.items():
            context = browser.new_context(viewport={"width": width, "height": 800})
            page = context.new_page()
            page.route("https://wcit-updates.example.org/**", serve_site)
            page.goto(path.as_uri(), wait_until="load")
            sizes = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert sizes[0] <= sizes[1], f"{name} scrolls sideways at {width}px: {sizes}"
            images = page.evaluate(
                "[...document.images].map(i => [i.alt, i.naturalWidth, i.clientWidth])"
            )
            found = {alt: (natural, shown) for alt, natural, shown in images}
            assert found["flag"] == (40, 40), found  # an icon keeps its own size
            assert found["map"][0] == 1200 and found["map"][1] <= min(600, width), found
            sizes = page.evaluate(
                "[...document.querySelectorAll('p')].map(p => "
                "[p.textContent.slice(0, 10), parseFloat(getComputedStyle(p).fontSize)])"
            )
            assert min(size for _, size in sizes) >= 12, sizes  # readable text
            body = [size for text, size in sizes if text.startswith("An icon")]
            assert body and body[0] >= 16, sizes
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / f"mail-{name}-{width}.png"
            page.screenshot(path=str(shot))
            with Image.open(shot) as image:
                assert ink_share(image) > 0.01
            context.close()


def test_the_email_feed_carries_email_safe_html_and_is_valid(tmp_path: Path) -> None:
    import feedparser

    from tests.helpers import check_feeds

    site = copy_site(tmp_path / "site")
    settings = site / "wcitfeed.toml"
    settings.write_text("email_feed = true\n" + settings.read_text("utf-8"), encoding="utf-8")
    subprocess.run([*WCITFEED, "build", "-q"], cwd=site, check=True, timeout=300)
    feed = site / "output/email/rss.xml"
    checked = check_feeds([feed])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    parsed = feedparser.parse(feed.read_bytes())
    site_feed = feedparser.parse((site / "output/rss.xml").read_bytes())
    assert [e.id for e in parsed.entries] == [e.id for e in site_feed.entries]
    encoded = "{http://purl.org/rss/1.0/modules/content/}encoded"
    ours = lxml.etree.parse(str(feed)).findtext(f"channel/item/{encoded}")
    theirs = lxml.etree.parse(str(site / "output/rss.xml")).findtext(f"channel/item/{encoded}")
    assert 'style="' in ours and "font-family" in ours  # inlined for mail clients
    assert 'style="' not in theirs
    assert parsed.entries[0].summary == site_feed.entries[0].summary
    # Off by default: no one gets a feed they did not ask for.
    plain = copy_site(tmp_path / "plain")
    subprocess.run([*WCITFEED, "build", "-q"], cwd=plain, check=True, timeout=300)
    assert not (plain / "output/email/rss.xml").exists()


@pytest.mark.parametrize("tag", ["*|UNSUB|*", "{{ unsubscribe_url }}", "{{UnsubscribeURL}}"])
def test_a_mail_services_merge_tag_survives_and_stays_out_of_the_headers(
    tmp_path: Path, tag: str
) -> None:
    site = copy_site(tmp_path / "site")
    settings = site / "wcitfeed.toml"
    settings.write_text(
        f'unsubscribe_url = "{tag}"\nmail_footer = "Leave this list: {tag}"\n'
        + settings.read_text("utf-8"),
        encoding="utf-8",
    )
    made = digest(site, "--last", "1", "--format", "eml", "--to", "a@example.org", "--from", SENDER)
    assert made.returncode == 0, made.stderr
    message = email.message_from_string(made.stdout, policy=email.policy.default)
    html = message.get_body(("html",)).get_content()
    assert f"Leave this list: {tag}" in html
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None


def test_subjects_and_names_are_encoded_per_rfc_2047(tmp_path: Path) -> None:
    site = copy_site(tmp_path / "site")
    made = digest(
        site, "--last", "1", "--format", "eml", "--to", "Zoë <zoe@example.org>",
        "--from", "Rédaction WCIT <desk@example.org>", "--subject", "Résumé de la semaine",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    head = made.stdout.split("\n\n", 1)[0]
    assert head.isascii(), head
    assert "Subject: =?utf-8?" in head
    message = email.message_from_string(made.stdout, policy=email.policy.default)
    assert message["Subject"] == "Résumé de la semaine"
    assert message["From"].addresses[0].display_name == "Rédaction WCIT"


@pytest.mark.skipif(
    shutil.which("sendmail") is None and not Path("/usr/sbin/sendmail").exists(),
    reason="needs an MTA: make test installs Debian's exim4-daemon-light",
)
def test_send_without_smtp_host_goes_through_the_local_sendmail(tmp_path: Path) -> None:
    import mailbox
    import uuid

    site = copy_site(tmp_path / "site")
    subject = f"WCIT sent {uuid.uuid4()}"
    sent = digest(
        site, "--last", "1", "--send", "--to", "root@localhost", "--from", SENDER,
        "--subject", subject,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.startswith("Sent 1 post to 1 recipient through ")
    deadline = time.monotonic() + 60
    found: list[Any] = []
    while not found and time.monotonic() < deadline:
        found = [
            m
            for box in Path("/var/mail").glob("*")
            for m in mailbox.mbox(box)
            if m["Subject"] == subject
        ]
        time.sleep(0.2)
    assert len(found) == 1
