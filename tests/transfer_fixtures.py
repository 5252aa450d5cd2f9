"""Test data for the transfer and few-shot tests: sentences of random words (seeded, so the
same seed gives the same sentence) and JSONL files of rows."""

from __future__ import annotations

import json
import random
from pathlib import Path

WORDS = [
    "river",
    "mountain",
    "copper",
    "violin",
    "harbor",
    "lantern",
    "meadow",
    "pepper",
    "quartz",
    "saddle",
    "tunnel",
    "velvet",
    "walnut",
    "yonder",
    "zephyr",
    "anchor",
    "bramble",
    "cobalt",
    "dune",
    "ember",
    "falcon",
    "glacier",
    "hazel",
    "ivory",
    "jasmine",
    "kettle",
    "lagoon",
    "marble",
    "nectar",
    "orchid",
    "pebble",
    "quiver",
    "raven",
    "sierra",
    "thimble",
    "umber",
    "vortex",
]


def sentence(seed: int, n: int = 14, vocabulary: int = len(WORDS), end: str = "") -> str:
    """`n` words drawn from the first `vocabulary` of WORDS, then the seed (and `end`)."""
    rng = random.Random(seed)
    words = WORDS[:vocabulary]
    return " ".join(rng.choice(words) for _ in range(n)) + f" {seed}{end}"


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
