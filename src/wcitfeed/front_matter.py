"""Front matter: finding it in a post file and parsing it, whichever tool wrote it.

YAML between ``---`` lines, TOML between ``+++`` lines, Eleventy's ``---js`` with plain
values, and Pelican's ``Key: value`` lines before a blank line. YAML is parsed safely and
refused when its aliases would expand it past a small size. Each parse also says on which
line each key is, so every message can name it.
"""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

_HANDLER = YAMLHandler()  # its boundary patterns: our loader parses the YAML itself
_TOML_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
_PELICAN_LINE = re.compile(r"^([A-Za-z][\w-]*):[ \t]*(.*)$")
_JS_LINE = re.compile(r"^\s*(?:const|let|var)\s+(\w+)\s*=\s*(.+?);?\s*$")
# Values front matter may stand for once its YAML aliases are expanded.
MAX_EXPANDED_VALUES = 10_000
# libyaml's parser when PyYAML was built with it: the pure-Python one is ten times slower.
_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SafeLoader(_BASE_LOADER):  # type: ignore[misc,valid-type]
    """The safe loader, except that a timestamp that is no real date (2012-02-30) stays
    text, so the date check can name its field and line instead of failing the file."""


def _timestamp(loader: Any, node: yaml.ScalarNode) -> object:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        return str(node.value)


_SafeLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def split(text: str) -> tuple[str, str, str, int, int] | str:
    """Find the front matter: YAML between '---', TOML between '+++', or Eleventy's '---js'.

    Return (kind, front matter, body, its first line, the closing line) or a message.
    """
    start = len(text) - len(text.lstrip("\n"))  # some tools leave blank lines first
    head = text[start:]
    for kind, boundary, opener in (
        ("js", _HANDLER.FM_BOUNDARY, "---js"),
        ("yaml", _HANDLER.FM_BOUNDARY, "---"),
        ("toml", _TOML_BOUNDARY, "+++"),
    ):
        if not head.startswith(opener):
            continue
        if kind == "js":
            first_end = head.index("\n") if "\n" in head else len(head)
            closing = next((m for m in boundary.finditer(head) if m.start() > first_end), None)
            if closing is None:
                break
            opening_end = first_end
        else:
            # The opening and closing lines only: the body may be long.
            found = list(itertools.islice(boundary.finditer(head), 2))
            if not found or found[0].start() != 0:
                continue
            if len(found) < 2:
                return f"front matter is not closed (add a line '{opener}' after the last field)"
            opening_end, closing = found[0].end(), found[1]
        fm_text = head[opening_end : closing.start()]
        first_line = text.count("\n", 0, start + opening_end) + 1
        closing_line = text.count("\n", 0, start + closing.start()) + 1
        return kind, fm_text, head[closing.end() :], first_line, closing_line
    if _PELICAN_LINE.match(head.partition("\n")[0]):
        # Pelican's (and Python-Markdown's) metadata: 'Key: value' lines, then a blank line.
        end = head.find("\n\n")
        end = len(head) if end < 0 else end
        first_line = text.count("\n", 0, start) + 1
        return "pelican", head[:end], head[end + 1 :], first_line, first_line
    return (
        "has no front matter (begin the file with a line '---', then title:, date:, "
        "id:, then a line '---')"
    )


def parse(kind: str, fm_text: str, first_line: int) -> tuple[Any, Any]:
    """Parse front matter of any kind; return the values and where each key is."""
    if kind == "pelican":
        data: dict[str, Any] = {}
        key = None
        for line in fm_text.splitlines():
            match = _PELICAN_LINE.match(line)
            if match:
                key = match.group(1)
                data[key] = match.group(2).strip()
            elif key is not None and line.strip():
                data[key] += " " + line.strip()  # a value continued on an indented line
        return data, FieldLines(fm_text, first_line)
    if kind == "toml":
        data = tomllib.loads(fm_text)
        return data, TomlLines(fm_text, first_line)
    if kind == "js":
        data = {}
        for line in fm_text.splitlines():
            match = _JS_LINE.match(line)
            if match:
                try:
                    data[match.group(1)] = json.loads(match.group(2))
                except ValueError:
                    raise ValueError(
                        f"JavaScript front matter is run by Eleventy, not read "
                        f"by wcitfeed: '{line.strip()}' is not a plain value "
                        "(use YAML front matter)"
                    ) from None
            elif line.strip() and not line.strip().startswith("//"):
                raise ValueError(
                    "JavaScript front matter is run by Eleventy, not read by "
                    f"wcitfeed: '{line.strip()}' (use YAML front matter)"
                )
        return data, TomlLines("", first_line)
    return load_yaml(fm_text), FieldLines(fm_text, first_line)


def load_yaml(fm_text: str) -> Any:
    """Parse YAML front matter, refusing any whose aliases expand it past a small size.

    The node graph is composed first (aliases share nodes there, so it stays as small as
    the text); only when its expanded size is within bounds are Python values built.
    """
    loader = _SafeLoader(fm_text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise ValueError("front matter is nested too deeply (flatten it)") from None
        if node is None:
            return None
        if "*" in fm_text and _expanded_size(node) > MAX_EXPANDED_VALUES:
            raise ValueError(
                f"front matter expands to more than {MAX_EXPANDED_VALUES:,} values through "
                "YAML aliases (*name), a possible alias bomb; write the values out instead"
            )
        try:
            return loader.construct_document(node)
        except RecursionError:
            raise ValueError("front matter is nested too deeply (flatten it)") from None
    finally:
        loader.dispose()


def _expanded_size(root: yaml.Node) -> int:
    """Count the values a node stands for with every alias expanded, in linear time."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        sizes[id(node)] = 1  # a recursive alias counts once instead of looping
        if isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(item) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(key) + size(value) for key, value in node.value)
        else:
            total = 1
        sizes[id(node)] = total = min(total, MAX_EXPANDED_VALUES + 1)
        return total

    return size(root)


class TomlLines:
    """Where each top-level TOML key is (tomllib keeps no positions)."""

    def __init__(self, fm_text: str, first_line: int) -> None:
        self._lines: dict[str, int] = {}
        for number, line in enumerate(fm_text.splitlines()):
            match = re.match(r"^\s*([A-Za-z0-9_-]+)\s*=", line)
            if match and match.group(1) not in self._lines:
                self._lines[match.group(1)] = number + first_line

    def get(self, key: Any, default: int | None = None) -> int | None:
        return self._lines.get(key, default)


class FieldLines:
    """The line of each top-level front-matter key, worked out only when a message needs it."""

    def __init__(self, fm_text: str, first_line: int) -> None:
        self._text = fm_text
        self._first = first_line
        self._lines: dict[Any, int] | None = None

    def get(self, key: Any, default: int | None = None) -> int | None:
        if self._lines is None:
            node = yaml.compose(self._text, Loader=_SafeLoader)
            pairs = node.value if isinstance(node, yaml.MappingNode) else []
            self._lines = {k.value: k.start_mark.line + self._first for k, _ in pairs}
        return self._lines.get(key, default)
