"""WebSub: hub links in every format, and one publish ping per changed live feed."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import feedparser
import pytest
from click.testing import Result

from tests.helpers import make_generated_site


class Hub:
    """A minimal WebSub hub on 127.0.0.1 that records publish requests."""

    def __init__(self) -> None:
        self.pings: list[dict[str, str]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                hub.pings.append({k: v[0] for k, v in form.items()})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self) -> list[str]:
        urls = sorted(p["hub.url"] for p in self.pings)
        assert all(p["hub.mode"] == "publish" for p in self.pings)
        self.pings.clear()
        return urls


@pytest.fixture
def hub() -> Iterator[Hub]:
    server = Hub()
    yield server
    server.server.shutdown()


def test_pings_once_per_changed_feed_and_never_without_change(
    hub: Hub, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    config = make_generated_site(tmp_path, 4, settings=f'hub = "{hub.url}"\n')
    base = "https://gen.example.org/"
    assert run_cli("build", "--config", config).exit_code == 0
    every_live_feed = sorted(
        base + p
        for p in [
            "atom.xml",
            "rss.xml",
            "feed.json",
            "tags/even/atom.xml",
            "tags/even/rss.xml",
            "tags/even/feed.json",
            "tags/odd/atom.xml",
            "tags/odd/rss.xml",
            "tags/odd/feed.json",
        ]
    )
    assert hub.take() == every_live_feed

    assert run_cli("build", "--config", config).output == ""
    assert hub.take() == []

    post = tmp_path / "content/post-0003.md"
    post.write_text(post.read_text().replace("Body of post 3", "Edited body of post 3"))
    assert run_cli("build", "--config", config).exit_code == 0
    # Post 3 is tagged odd: the site feeds and the odd tag's feeds changed, nothing else.
    assert hub.take() == sorted(
        base + p
        for p in [
            "atom.xml",
            "rss.xml",
            "feed.json",
            "tags/odd/atom.xml",
            "tags/odd/rss.xml",
            "tags/odd/feed.json",
        ]
    )


def test_a_tag_named_archive_is_still_announced(
    hub: Hub, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    config = make_generated_site(tmp_path, 1, settings=f'hub = "{hub.url}"\n')
    post = tmp_path / "content/post-0001.md"
    post.write_text(post.read_text().replace("tags: [odd]", "tags: [archive]"))
    assert run_cli("build", "--config", config).exit_code == 0
    assert "https://gen.example.org/tags/archive/atom.xml" in hub.take()


def test_hub_is_advertised_in_every_format(
    hub: Hub, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    config = make_generated_site(tmp_path, 2, settings=f'hub = "{hub.url}"\n')
    assert run_cli("build", "--config", config).exit_code == 0
    out = tmp_path / "output"
    for name in ("atom.xml", "rss.xml"):
        links = {
            link.rel: link.href for link in feedparser.parse((out / name).read_bytes()).feed.links
        }
        assert links["hub"] == hub.url
        assert links["self"] == f"https://gen.example.org/{name}"
    data = json.loads((out / "feed.json").read_text())
    assert data["hubs"] == [{"type": "WebSub", "url": hub.url}]


def test_no_hub_no_traffic_and_unreachable_hub_only_warns(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    config = make_generated_site(tmp_path / "a", 2)
    result = run_cli("build", "--config", config)
    assert result.exit_code == 0
    assert "hub" not in (tmp_path / "a/output/atom.xml").read_text()

    # Port 9 on loopback: nothing listens there.
    config = make_generated_site(tmp_path / "b", 2, settings='hub = "http://127.0.0.1:9/"\n')
    result = run_cli("build", "--config", config)
    assert result.exit_code == 0
    warnings = [line for line in result.output.splitlines() if "WebSub" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("Warning: WebSub hub http://127.0.0.1:9/ could not be reached")
    assert "9 changed feed(s) not announced" in warnings[0]
