"""wcitfeed: dated Markdown updates in, Atom, RSS and JSON feeds, pages and newsletters out.

    from wcitfeed import build, check, load

``build``, ``check`` and ``load`` are described in ``wcitfeed.api``; ``Site`` is a site's
checked settings, and ``WcitfeedError``/``Problems`` what invalid input raises. They are
imported on first use, so ``import wcitfeed`` stays cheap for a build with nothing to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wcitfeed.api import CheckResult, build, check, load
    from wcitfeed.errors import Problems, WcitfeedError
    from wcitfeed.model import Site

__version__ = "0.1.0"
__all__ = ["CheckResult", "Problems", "Site", "WcitfeedError", "build", "check", "load"]

_WHERE = {
    "build": "wcitfeed.api",
    "check": "wcitfeed.api",
    "load": "wcitfeed.api",
    "CheckResult": "wcitfeed.api",
    "Site": "wcitfeed.model",
    "Problems": "wcitfeed.errors",
    "WcitfeedError": "wcitfeed.errors",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'wcitfeed' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_WHERE[name]), name)
