"""Local preview: build, serve the result on 127.0.0.1, rebuild when a source changes.

The preview is built into the cache folder with drafts shown and links pointing at the local
server, so ``output/`` and the ledger are never touched by previewing. A build error does not
stop the server: it is printed and shown on every page until the next good build.

Open pages reload themselves after each rebuild: the server adds a small script to the
HTML it sends (never to the files it serves from) that listens to ``/_wcitfeed/events``,
a stream of server-sent events that says "reload" once the build the page came from is
no longer the newest.
"""

from __future__ import annotations

import errno
import html
import io
import socket
import threading
import time
from collections.abc import Callable
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

CONTENT_TYPES = {
    "atom.xml": "application/atom+xml; charset=utf-8",
    "rss.xml": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}
# Editors save in bursts (temporary file, rename, chmod): wait for quiet before rebuilding.
DEBOUNCE = 0.3
# A connection that sends nothing for this long is closed, and at most this many are
# served at once: a page that opens thousands of idle connections cannot deafen the server.
IDLE_TIMEOUT = 5.0
MAX_CONNECTIONS = 32
EVENTS = "/_wcitfeed/events"
# An open event stream says something this often, so a closed tab frees its connection.
KEEPALIVE = 10.0
_RELOAD = (
    '<script>new EventSource("{events}?since={generation}")'
    '.addEventListener("reload", () => location.reload());</script>'
)


# The addresses that mean "every interface": the preview is then open to the network.
EVERY_INTERFACE = ("0.0.0.0", "::")  # noqa: S104 - compared with --bind, never bound here


class PortBusy(Exception):
    """The address and port to serve on are taken (or not ours to take)."""


class Preview:
    """The state the server shows: the folder to serve, or the errors of the last build."""

    def __init__(
        self, build: Callable[[str], tuple[Path, list[str]]], report: Callable[[str], Any]
    ) -> None:
        self._build = build
        self._report = report
        self.base_url = ""
        self.folder: Path | None = None
        self.errors: list[str] = []
        self.lock = threading.Lock()
        # Counts finished builds; pages and event streams compare it to reload.
        self.generation = 0
        self.changed = threading.Condition()

    def rebuild(self) -> None:
        """Build once; keep serving the last good build's folder when this one fails.

        Whatever goes wrong in a build, even a bug, is shown on the page and the server
        keeps serving; a later save tries again.
        """
        with self.lock:
            try:
                folder, errors = self._build(self.base_url)
            except Exception as exc:  # a preview outlives any one build
                folder = Path()
                errors = [f"unexpected {type(exc).__name__} in the build: {exc} (please report it)"]
            self.errors = errors
            if not errors:
                self.folder = folder
            for line in errors:
                self._report(line)
        with self.changed:
            self.generation += 1
            self.changed.notify_all()

    def wait_past(self, generation: int, timeout: float) -> int:
        """Wait until a build after ``generation`` finished (or ``timeout``); return the
        newest generation."""
        with self.changed:
            self.changed.wait_for(lambda: self.generation > generation, timeout)
            return self.generation


def make_handler(preview: Preview, bind: str) -> type[SimpleHTTPRequestHandler]:
    """Create a request handler that serves the preview folder with feed content types."""

    class Handler(SimpleHTTPRequestHandler):
        timeout = IDLE_TIMEOUT

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(preview.folder or "."), **kwargs)

        def parse_request(self) -> bool:
            if not super().parse_request():
                return False
            if "\x00" in unquote(self.path):
                self.send_error(HTTPStatus.BAD_REQUEST, "NUL byte in path")
                return False
            host = (self.headers.get("Host") or "").lower()
            port = self.server.server_address[1]  # type: ignore[index]
            hosts = allowed_hosts(bind, int(port))
            if hosts is not None and host not in hosts:
                # A name that resolves to 127.0.0.1 elsewhere (DNS rebinding) is not us.
                self.send_error(HTTPStatus.MISDIRECTED_REQUEST, "Unknown Host header")
                return False
            return True

        def do_GET(self) -> None:
            if urlsplit(self.path).path == EVENTS:
                self._events()
                return
            super().do_GET()

        def _events(self) -> None:
            """Stream "reload" once a build newer than the page's has finished."""
            query = parse_qs(urlsplit(self.path).query)
            try:
                seen = int(query.get("since", ["0"])[0])
            except ValueError:
                seen = 0
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            try:
                while True:
                    newest = preview.wait_past(seen, KEEPALIVE)
                    if newest > seen:
                        self.wfile.write(f"event: reload\ndata: {newest}\n\n".encode())
                        self.wfile.flush()
                        return
                    self.wfile.write(b": still here\n\n")
                    self.wfile.flush()
            except OSError:
                return  # the page went away

        def _with_reload(self, body: bytes) -> bytes:
            script = _RELOAD.format(events=EVENTS, generation=preview.generation).encode()
            at = body.rfind(b"</body>")
            return body[:at] + script + body[at:] if at >= 0 else body + script

        def list_directory(self, path: Any) -> Any:
            self.send_error(HTTPStatus.NOT_FOUND, "Not found")
            return None

        def guess_type(self, path: Any) -> str:
            name = str(path)
            for suffix, content_type in CONTENT_TYPES.items():
                if name.endswith(suffix):
                    return content_type
            return str(super().guess_type(path))

        def send_head(self) -> Any:
            if preview.errors:
                return self._error_page()
            path = Path(self.translate_path(self.path))
            root = Path(self.directory).resolve()
            if not path.resolve().is_relative_to(root):
                # A symbolic link in the preview never serves a file outside it.
                self.send_error(HTTPStatus.NOT_FOUND, "Not found")
                return None
            if path.is_dir():
                path = path / "index.html"
                if not path.resolve().is_relative_to(root):
                    self.send_error(HTTPStatus.NOT_FOUND, "Not found")
                    return None
            if path.is_file() and path.suffix == ".html":
                return self._page(path)
            if path.is_file():
                info = path.stat()
                etag = f'"{info.st_size:x}-{info.st_mtime_ns:x}"'
                if self.headers.get("If-None-Match") == etag or (
                    "If-None-Match" not in self.headers and self._not_modified_since(info.st_mtime)
                ):
                    self.send_response(HTTPStatus.NOT_MODIFIED)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return None
                self._etag = etag
            return super().send_head()

        def _page(self, path: Path) -> Any:
            """Send an HTML page with the reload script; never cached, as it changes."""
            body = self._with_reload(path.read_bytes())
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", CONTENT_TYPES[".html"])
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            super().end_headers()
            return io.BytesIO(body)

        def end_headers(self) -> None:
            etag = getattr(self, "_etag", None)
            if etag:
                self.send_header("ETag", etag)
            self.send_header("Cache-Control", "no-cache")
            super().end_headers()

        def _not_modified_since(self, mtime: float) -> bool:
            since = self.headers.get("If-Modified-Since")
            if not since:
                return False
            try:
                return int(mtime) <= parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError):
                return False

        def _error_page(self) -> Any:
            items = "".join(f"<li><code>{html.escape(e)}</code></li>" for e in preview.errors)
            body = (
                '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
                "<title>Build failed</title></head><body><h1>The build failed</h1>"
                f"<p>Fix these and save; this page comes back by itself:</p><ul>{items}</ul>"
                "</body></html>"
            ).encode()
            body = self._with_reload(body)
            self.send_response(HTTPStatus.INTERNAL_SERVER_ERROR)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Last-Modified", formatdate(usegmt=True))
            self.end_headers()
            return io.BytesIO(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def allowed_hosts(bind: str, port: int) -> set[str] | None:
    """Return the Host header values the preview answers to: loopback names and the bound
    address; None (any) when bound to every interface, for phones on the same network."""
    if bind in EVERY_INTERFACE:
        return None
    names = {"127.0.0.1", "localhost", "[::1]", _url_host(bind)}
    return {f"{name}:{port}" for name in names}


def _url_host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


class _BoundedServer(ThreadingHTTPServer):
    """A threading server with a cap on connections served at once; extra ones are closed."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class _BoundedServer6(_BoundedServer):
    address_family = socket.AF_INET6


class _OnChange(FileSystemEventHandler):
    def __init__(self, ignored: list[Path], changed: threading.Event) -> None:
        self.ignored = [str(p) for p in ignored]
        self.changed = changed

    def on_any_event(self, event: FileSystemEvent) -> None:
        path = str(event.src_path)
        if event.event_type in ("opened", "closed_no_write") or any(
            path.startswith(prefix) for prefix in self.ignored
        ):
            return
        self.changed.set()


def open_server(preview: Preview, bind: str, port: int) -> _BoundedServer:
    """Bind the preview server; raise ``PortBusy`` in one sentence when that fails."""
    server_class = _BoundedServer6 if ":" in bind else _BoundedServer
    try:
        server = server_class((bind, port), make_handler(preview, bind))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortBusy(
                f"port {port} on {bind} is in use (is another preview running?): "
                "choose another with --port, or --port 0 for any free one"
            ) from None
        raise PortBusy(f"cannot serve on {bind} port {port}: {exc.strerror}") from None
    shown = socket.gethostname() if bind in EVERY_INTERFACE else _url_host(bind)
    preview.base_url = f"http://{shown}:{server.server_port}/"
    return server


def serve(
    preview: Preview,
    watched: list[Path],
    ignored: list[Path],
    server: _BoundedServer,
    ready: Callable[[str], Any],
) -> None:
    """Serve until interrupted, rebuilding after every change below the watched paths."""
    preview.rebuild()
    changed = threading.Event()
    observer = Observer()
    handler = _OnChange(ignored, changed)
    for path in watched:
        target = path if path.is_dir() else path.parent
        observer.schedule(handler, str(target), recursive=path.is_dir())
    observer.start()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ready(preview.base_url)
    try:
        while True:
            changed.wait()
            time.sleep(DEBOUNCE)
            changed.clear()
            preview.rebuild()
    finally:
        observer.stop()
        server.shutdown()
