"""Web server settings that serve the output as feed readers expect: each feed with its own
media type and ``charset=utf-8``, caching headers, and the 404 page.

nginx, Apache and Caddy get a fixed snippet (in ``servers/``); Netlify and Cloudflare
Pages read a ``_headers`` file that names each path, so that one is made from the feeds
a build wrote.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from wcitfeed.model import Site

SNIPPETS = Path(__file__).resolve().parent / "servers"
KINDS = {"nginx": "nginx.conf", "apache": "apache.htaccess", "caddy": "Caddyfile"}
TYPES = {
    "atom.xml": "application/atom+xml; charset=utf-8",
    "rss.xml": "application/rss+xml; charset=utf-8",
    "feed.json": "application/feed+json; charset=utf-8",
}
CACHE = "public, max-age=600"


def snippet(kind: str, site: Site) -> str:
    """Return the settings for one server: ``nginx``, ``apache``, ``caddy`` or ``headers``
    (the ``_headers`` file of Netlify and Cloudflare Pages, for the site's built feeds)."""
    if kind in KINDS:
        return (SNIPPETS / KINDS[kind]).read_text(encoding="utf-8")
    return headers_file(site)


def headers_file(site: Site) -> str:
    """List every feed in the output folder with its type and caching, by URL path."""
    base = urlsplit(site.base_url).path or "/"
    lines = [
        "# wcitfeed: each feed with its own media type. Save as output/_headers for Netlify",
        "# or Cloudflare Pages; make it again (wcitfeed server-config headers) when feeds",
        "# are added.",
    ]
    found = sorted(
        p.relative_to(site.output_dir).as_posix()
        for p in site.output_dir.rglob("*")
        if p.name in TYPES and p.is_file()
    )
    for rel in found:
        lines += [
            f"{base}{rel}",
            f"  Content-Type: {TYPES[rel.rsplit('/', 1)[-1]]}",
            f"  Cache-Control: {CACHE}",
        ]
    lines += [f"{base}*.html", f"  Cache-Control: {CACHE}"]
    return "\n".join(lines) + "\n"
