"""Real web servers in front of the output: readers polling the feed get 304 until it changes,
and the shipped nginx, Caddy and Apache settings give each feed its own type."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from tests.helpers import make_generated_site
from wcitfeed.serverconfig import SNIPPETS

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# Debian's stock types (.xml as text/xml, .json as application/json): the shipped snippet
# must give each feed its own type over them.
MIME_TYPES = "/etc/nginx/mime.types"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until a server listens on 127.0.0.1:``port`` (or its process died)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                said = proc.stderr.read() if proc.stderr else b"it exited"
                raise AssertionError(said) from None
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """Serve tmp_path/output with nginx on 127.0.0.1; yield (site root, base URL)."""
    out = tmp_path / "output"
    out.mkdir()
    port = free_port()
    conf = tmp_path / "nginx.conf"
    # As root, workers must run as root to read pytest's private temporary folder.
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(f"""
{user}
daemon off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
worker_processes 1;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/tmp;
    include {MIME_TYPES};
    server {{
        listen 127.0.0.1:{port};
        root {out};
        include {SNIPPETS / "nginx.conf"};
    }}
}}
""")
    (tmp_path / "tmp").mkdir()
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)], stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}/"
    wait_for_port(port, proc)
    yield tmp_path, base
    proc.terminate()
    proc.wait(timeout=10)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_304_after_no_change_and_200_after_an_edit(
    served: tuple[Path, str], run_cli: Callable[..., Result]
) -> None:
    root, base = served
    config = make_generated_site(root, 3)
    assert run_cli("build", "--config", config).exit_code == 0
    status, headers, body = get(base + "atom.xml")
    assert status == 200
    assert headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    etag, modified = headers["ETag"], headers["Last-Modified"]
    conditional = {"If-None-Match": etag, "If-Modified-Since": modified}

    assert run_cli("build", "--config", config).output == ""
    assert get(base + "atom.xml", conditional)[0] == 304
    # Even a full rebuild without the cache leaves the file, and so the ETag, alone.
    shutil.rmtree(root / ".wcitfeed-cache")
    assert run_cli("build", "--config", config).exit_code == 0
    assert get(base + "atom.xml", conditional)[0] == 304

    # No sleep for Last-Modified's one-second resolution: the edit changes the file's size,
    # so nginx's ETag changes, and a changed ETag alone answers 200 (RFC 9110 13.2.2).
    post = root / "content/post-0003.md"
    post.write_text(post.read_text().replace("Body of post 3", "Edited body of post 3"))
    assert run_cli("build", "--config", config).exit_code == 0
    status, headers, body = get(base + "atom.xml", conditional)
    assert status == 200
    assert b"Edited body of post 3" in body
    assert headers["ETag"] != etag


EXPECTED = {
    "atom.xml": "application/atom+xml; charset=utf-8",
    "rss.xml": "application/rss+xml; charset=utf-8",
    "feed.json": "application/feed+json; charset=utf-8",
    "archive/1/atom.xml": "application/atom+xml; charset=utf-8",
    "tags/odd/rss.xml": "application/rss+xml; charset=utf-8",
    "sitemap.xml": "application/xml; charset=utf-8",
    "index.html": "text/html; charset=utf-8",
    "posts/post-0001/": "text/html; charset=utf-8",
}


def check_served(base: str) -> None:
    """Each file with its own type and charset, caching on feeds and pages, our 404 page."""
    for path, media_type in EXPECTED.items():
        status, headers, _ = get(base + path)
        assert (status, headers["Content-Type"]) == (200, media_type), path
        if path != "sitemap.xml":
            assert headers["Cache-Control"] == "public, max-age=600", path
    status, headers, body = get(base + "no/such/page/")
    assert status == 404
    assert b"Page not found" in body


def test_the_shipped_nginx_snippet_serves_feeds_right(
    served: tuple[Path, str], run_cli: Callable[..., Result]
) -> None:
    root, base = served
    config = make_generated_site(root, 60, settings="feed_limit = 20\n")
    assert run_cli("build", "--config", config).exit_code == 0
    check_served(base)


def test_the_shipped_caddy_snippet_serves_feeds_right(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    caddy = shutil.which("caddy")
    assert caddy, "make test installs Debian's caddy"
    config = make_generated_site(tmp_path, 60, settings="feed_limit = 20\n")
    assert run_cli("build", "--config", config).exit_code == 0
    port = free_port()
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text(
        "{\n\tadmin off\n\tauto_https off\n}\n"
        f"http://127.0.0.1:{port} {{\n\troot * {tmp_path / 'output'}\n"
        f"\timport {SNIPPETS / 'Caddyfile'}\n}}\n"
    )
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    proc = subprocess.Popen(
        [caddy, "run", "--config", str(caddyfile), "--adapter", "caddyfile"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, proc)
        check_served(f"http://127.0.0.1:{port}/")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_shipped_htaccess_serves_feeds_right(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    apache = shutil.which("apache2") or "/usr/sbin/apache2"
    assert Path(apache).exists(), "make test installs Debian's apache2"
    config = make_generated_site(tmp_path, 60, settings="feed_limit = 20\n")
    assert run_cli("build", "--config", config).exit_code == 0
    # Apache's workers run as www-data: the site goes where they may read it.
    root = Path(tempfile.mkdtemp(prefix="wcitfeed-apache-"))
    try:
        root.chmod(0o755)
        shutil.copytree(tmp_path / "output", root / "site")
        shutil.copy(SNIPPETS / "apache.htaccess", root / "site/.htaccess")
        for path in root.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        port = free_port()
        modules = "/usr/lib/apache2/modules"
        loads = "\n".join(
            f"LoadModule {name}_module {modules}/mod_{name}.so"
            for name in ("mpm_event", "authz_core", "mime", "headers", "dir")
        )
        (root / "httpd.conf").write_text(
            f"ServerRoot {root}\nListen 127.0.0.1:{port}\nPidFile {root}/httpd.pid\n"
            f"ErrorLog {root}/error.log\n{loads}\nTypesConfig /etc/mime.types\n"
            "User www-data\nGroup www-data\nServerName localhost\n"
            f"DocumentRoot {root}/site\nDirectoryIndex index.html\n"
            f"<Directory {root}/site>\n  AllowOverride FileInfo Indexes\n"
            "  Require all granted\n</Directory>\n"
        )
        subprocess.run([apache, "-f", str(root / "httpd.conf"), "-k", "start"], check=True)
        try:
            wait_for_port(port)
            check_served(f"http://127.0.0.1:{port}/")
        finally:
            subprocess.run([apache, "-f", str(root / "httpd.conf"), "-k", "stop"], check=False)
            for _ in range(100):
                if not (root / "httpd.pid").exists():
                    break
                time.sleep(0.05)
    finally:
        shutil.rmtree(root, ignore_errors=True)
