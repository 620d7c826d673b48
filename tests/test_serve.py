"""The preview server under abuse: wrong Host headers, NUL bytes, symbolic links out of the
preview, directory listings, thousands of idle connections, and a build that crashes."""

from __future__ import annotations

import http.client
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.conftest import Serving
from wcitfeed.serve import IDLE_TIMEOUT, Preview


def get(url: str, path: str, host: str | None = None) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        headers = {"Host": host} if host is not None else {}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_only_local_host_names_are_answered(serving: Serving) -> None:
    url = serving.url
    port = urlsplit(url).port
    assert get(url, "/", f"127.0.0.1:{port}")[0] == 200
    assert get(url, "/", f"localhost:{port}")[0] == 200
    # DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1.
    status, body = get(url, "/", f"evil.example:{port}")
    assert status == 421
    assert b"Updates from WCIT" not in body


def test_nul_bytes_and_directory_listings_are_refused(serving: Serving) -> None:
    url = serving.url
    assert get(url, "/atom.xml%00.html")[0] == 400
    status, body = get(url, "/fragments/")
    assert status == 404
    assert b"Directory listing" not in body
    assert get(url, "/fragments/2012-12-07.html")[0] == 200


def test_symbolic_links_never_serve_files_outside_the_preview(
    serving: Serving, tmp_path: Path
) -> None:
    site, url = serving.site, serving.url
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the browser\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder/index.html").write_text("not for the browser either\n")
    preview = site / ".wcitfeed-cache/preview/output"
    (preview / "leak.txt").symlink_to(secret)
    (preview / "leak-folder").symlink_to(tmp_path / "folder")
    for path in ("/leak.txt", "/leak-folder/", "/leak-folder/index.html"):
        status, body = get(url, path)
        assert status == 404, path
        assert b"not for the browser" not in body


def test_idle_connections_do_not_deafen_the_server(serving: Serving) -> None:
    url = serving.url
    parts = urlsplit(url)
    idle = [socket.create_connection((parts.hostname, parts.port)) for _ in range(300)]
    try:
        started = time.monotonic()
        status = 0
        while status != 200 and time.monotonic() - started < 4 * IDLE_TIMEOUT:
            try:
                status = get(url, "/")[0]
            except (ConnectionError, http.client.HTTPException, TimeoutError):
                time.sleep(0.2)
        assert status == 200
        # Idle connections are closed after IDLE_TIMEOUT, so the wait is bounded by it.
        assert time.monotonic() - started < 3 * IDLE_TIMEOUT
    finally:
        for connection in idle:
            connection.close()


def test_a_crashing_build_is_shown_and_the_preview_keeps_going(tmp_path: Path) -> None:
    calls: list[str] = []
    reported: list[str] = []

    def build(base_url: str) -> tuple[Path, list[str]]:
        calls.append(base_url)
        if len(calls) == 1:
            raise TypeError("unhashable type: 'list'")
        return tmp_path, []

    preview = Preview(build, reported.append)
    preview.rebuild()
    assert preview.errors == [
        "unexpected TypeError in the build: unhashable type: 'list' (please report it)"
    ]
    assert reported == preview.errors
    preview.rebuild()
    assert (preview.errors, preview.folder) == ([], tmp_path)


def test_open_pages_reload_after_a_rebuild_and_drafts_are_marked(serving: Serving) -> None:
    site, url = serving.site, serving.url
    status, page = get(url, "/")
    assert status == 200
    match = re.search(rb'EventSource\("(/_wcitfeed/events)\?since=(\d+)"\)', page)
    assert match, page[-400:]
    # The script is added as the page is sent: the preview's files never carry it.
    preview = site / ".wcitfeed-cache/preview/output"
    assert not [p for p in preview.rglob("*.html") if b"EventSource" in p.read_bytes()]

    parts = urlsplit(url)
    stream = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    stream.request("GET", f"{match.group(1).decode()}?since={match.group(2).decode()}")
    response = stream.getresponse()
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/event-stream"
    (site / "content/periodic/draft-notes.md").write_text(
        "---\nid: urn:uuid:7b0d1f7e-1c1a-4c55-9d8e-0d3c2c7b9a11\ntitle: Notes in progress\n"
        "date: 2012-12-13T10:00:00+04:00\ndraft: true\n---\nNot ready yet.\n",
        encoding="utf-8",
    )
    said: list[bytes] = []
    deadline = time.monotonic() + 60  # the stream says something every 10 s meanwhile
    while not said or said[-1] != b"event: reload\n":
        assert time.monotonic() < deadline, f"no reload event within 60 s: {said}"
        line = response.readline()
        assert line, said
        said.append(line)
    stream.close()
    page = get(url, "/posts/draft-notes/")[1].decode()
    assert '<p class="draft">Draft: shown in the preview only, not published.</p>' in page
    index = get(url, "/")[1].decode()
    assert re.search(r'Notes in progress</a> <span class="draft">Draft</span>', index)


def test_a_busy_port_is_one_line_and_exit_2(site_copy: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "wcitfeed", "serve", "--port", str(port)],
            cwd=site_copy,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2
    assert proc.stderr == (
        f"Error: port {port} on 127.0.0.1 is in use (is another preview running?): choose "
        "another with --port, or --port 0 for any free one\n"
    )


def test_bind_serves_on_the_address_given(site_copy: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wcitfeed", "serve", "--port", "0", "--bind", "127.0.0.2"],
        cwd=site_copy,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        while "Serving" not in line:
            line = proc.stderr.readline()
            assert line
        url = re.search(r"Serving (http://127\.0\.0\.2:\d+/)", line)
        assert url, line
        status, body = get(url.group(1), "/")
        assert status == 200
        # Its links point at the address it serves on.
        assert url.group(1).encode() + b"feeds.html" in body
    finally:
        proc.terminate()
        proc.wait(timeout=10)
