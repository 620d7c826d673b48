"""WebSub publishing: tell the hub which feeds changed, and only those."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable

from wcitfeed.errors import WcitfeedError

TIMEOUT = 10


def ping_hub(hub: str, feed_urls: Iterable[str]) -> list[WcitfeedError]:
    """POST a publish notification for each feed URL; return a warning per failure."""
    warnings: list[WcitfeedError] = []
    urls = list(feed_urls)
    for index, url in enumerate(urls):
        body = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": url}).encode()
        request = urllib.request.Request(  # noqa: S310 - the hub URL is checked as http(s)
            hub, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            # An unreachable hub will not answer the next request either: say it once.
            warnings.append(
                WcitfeedError(
                    f"WebSub hub {hub} could not be reached ({exc}); {len(urls) - index} "
                    "changed feed(s) not announced (the next build that changes them pings again)"
                )
            )
            break
        if not 200 <= status < 300:
            warnings.append(WcitfeedError(f"WebSub hub {hub} answered {status} for {url}"))
    return warnings
