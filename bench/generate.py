"""Generate a seeded corpus of realistic posts for benchmarks.

Usage: python bench/generate.py N OUT_DIR [--seed S]

Each post has YAML front matter (id, title, date with offset, category, tags, summary) and
600-1,200 words of Markdown: paragraphs, bullet lists, links, emphasis and literal
[square brackets]. The same N and seed always give the same files.
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

WORDS = [
    "treaty",
    "member",
    "states",
    "plenary",
    "committee",
    "working",
    "group",
    "ad",
    "hoc",
    "proposal",
    "scope",
    "internet",
    "telecommunications",
    "regulations",
    "security",
    "routing",
    "accounting",
    "rates",
    "spam",
    "numbering",
    "consensus",
    "delegation",
    "text",
    "resolution",
    "governance",
    "multistakeholder",
    "infrastructure",
    "interconnection",
    "quality",
    "service",
    "operators",
    "agreement",
    "session",
    "conference",
    "discussion",
    "definition",
    "provision",
    "network",
    "resources",
    "development",
    "access",
    "standards",
    "cooperation",
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "on",
    "with",
    "as",
    "by",
    "was",
    "are",
    "be",
    "this",
    "from",
    "at",
    "it",
    "an",
    "which",
]
TAGS = ["scope", "security", "routing", "spam", "numbering", "plenary", "governance", "rates"]
CATEGORIES = ["periodic", "issues"]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 22))]
    if rng.random() < 0.15:
        words.insert(rng.randrange(len(words)), "[bracketed]")
    if rng.random() < 0.1:
        index = rng.randrange(len(words))
        words[index] = f"[{words[index]}](https://example.org/{rng.randint(1, 999)})"
    if rng.random() < 0.1:
        index = rng.randrange(len(words))
        words[index] = f"*{words[index]}*"
    return " ".join(words).capitalize() + "."


def body(rng: random.Random) -> str:
    target = rng.randint(600, 1200)
    parts: list[str] = []
    count = 0
    while count < target:
        if rng.random() < 0.2:
            items = [sentence(rng) for _ in range(rng.randint(3, 6))]
            parts.append("\n".join(f"- {item}" for item in items))
            count += sum(len(i.split()) for i in items)
        else:
            paragraph = " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))
            parts.append(paragraph)
            count += len(paragraph.split())
    return "\n\n".join(parts) + "\n"


def generate(count: int, out: Path, seed: int = 2012) -> None:
    """Write ``count`` posts below ``out/content`` and a settings file at ``out``."""
    rng = random.Random(seed)
    start = datetime(2012, 12, 3, 9, 0, tzinfo=UTC)
    for number in range(1, count + 1):
        category = rng.choice(CATEGORIES)
        folder = out / "content" / category
        folder.mkdir(parents=True, exist_ok=True)
        when = start + timedelta(minutes=37 * number)
        tags = ", ".join(sorted(rng.sample(TAGS, rng.randint(1, 3))))
        title = sentence(rng)[:60].rstrip(".")
        text = body(rng)
        front = (
            f'---\nid: tag:bench.example.org,2012:{number}\ntitle: "{title}"\n'
            f"date: {when.isoformat()}\ncategory: {category}\ntags: [{tags}]\n"
            f'summary: "{sentence(rng)}"\n---\n'
        )
        (folder / f"post-{number:05d}.md").write_text(front + text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=2012)
    args = parser.parse_args()
    generate(args.count, args.out, args.seed)


if __name__ == "__main__":
    main()
