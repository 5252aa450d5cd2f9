from __future__ import annotations

import numpy as np
import polars as pl

from studio.engine.label_errors import find_label_errors
from studio.engine.steps.base import ID

TOPICS = {
    "sport": [
        "ball",
        "goal",
        "team",
        "match",
        "score",
        "coach",
        "league",
        "player",
        "win",
        "season",
    ],
    "food": [
        "bread",
        "cheese",
        "soup",
        "recipe",
        "bake",
        "salt",
        "pepper",
        "dinner",
        "lunch",
        "taste",
    ],
    "tech": [
        "code",
        "server",
        "laptop",
        "bug",
        "deploy",
        "cloud",
        "chip",
        "screen",
        "app",
        "network",
    ],
    "music": [
        "song",
        "guitar",
        "band",
        "album",
        "drum",
        "concert",
        "melody",
        "piano",
        "tune",
        "lyric",
    ],
}
FILLER = [
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "is",
    "it",
    "that",
    "with",
    "for",
    "on",
    "this",
    "was",
]


def separable(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = list(TOPICS)[i % 4]
        words = list(rng.choice(TOPICS[label], 6)) + list(rng.choice(FILLER, 6))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label)
    return (
        pl.DataFrame({"text": texts, "label": labels})
        .with_row_index(ID)
        .with_columns(pl.col(ID).cast(pl.UInt64))
    )


def test_planted_label_flips_rank_in_the_top_ten_percent() -> None:
    data = separable(600, seed=1)
    rng = np.random.default_rng(2)
    flipped = rng.choice(data.height, size=30, replace=False)  # 5 %
    labels = data["label"].to_list()
    for i in flipped:
        others = [t for t in TOPICS if t != labels[i]]
        labels[i] = others[int(rng.integers(0, 3))]
    data = data.with_columns(pl.Series("label", labels))
    found = find_label_errors(data, "text", "label", seed=0)
    top = set(found.table.head(data.height // 10)[ID].to_list())
    hit = len(top & {int(i) for i in flipped}) / len(flipped)
    assert hit >= 0.7
    assert 0.02 <= found.noise_rate <= 0.15
    suspect = found.suspects.row(0, named=True)
    assert suspect["given"] != suspect["predicted"]


def test_clean_data_has_few_suspects() -> None:
    found = find_label_errors(separable(400, seed=3), "text", "label")
    assert found.noise_rate < 0.03
