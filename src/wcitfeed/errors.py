"""The errors a user can act on: each names a file, a line and a field."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


class WcitfeedError(Exception):
    """A problem in the user's input, located and with a hint of what to write instead."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.field = field

    def location(self) -> str:
        """Return ``path:line`` as far as it is known."""
        if self.path is None:
            return ""
        shown = _display_path(self.path)
        return f"{shown}:{self.line}" if self.line else shown

    def __str__(self) -> str:
        where = self.location()
        what = f"'{self.field}' {self.message}" if self.field else self.message
        return f"{where}: {what}" if where else what


class ConfigError(WcitfeedError):
    """The settings file is missing, unreadable or has a wrong key or value."""


class ContentError(WcitfeedError):
    """A post cannot be read or its front matter is wrong."""


class TemplateError(WcitfeedError):
    """A template cannot be parsed or refers to something that does not exist."""


class Problems(WcitfeedError):
    """Every problem found in one run, so an author fixes them all at once."""

    def __init__(self, problems: Iterable[WcitfeedError]) -> None:
        self.problems = sorted(problems, key=lambda p: (str(p.path or ""), p.line or 0))
        super().__init__("\n".join(str(p) for p in self.problems))


def _display_path(path: Path) -> str:
    """Show a path relative to the working directory when it lies below it."""
    # abspath, not resolve: a symbolic link is named as itself, not as its target.
    try:
        return str(Path(os.path.abspath(path)).relative_to(Path.cwd().resolve()))  # noqa: PTH100
    except ValueError:
        return str(path)
