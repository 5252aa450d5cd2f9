from __future__ import annotations

import random

import numpy as np
import polars as pl
import pytest

from studio.engine.errors import StepError
from studio.engine.io import load_dataset, write_frame
from studio.engine.progress import RunContext, running
from studio.engine.recipe import Recipe, apply_step, run_recipe
from studio.engine.steps.base import ID
from studio.engine.steps.filter import MinScore
from studio.engine.steps.select import (
    DiverseSample,
    DomainScore,
    Sample,
    cluster_summary,
    score_histogram,
)
from studio.engine.workspace import Workspace

TOPICS = {
    "cooking": (
        "How long should I {a} the {b} in the oven?",
        [
            "recipe",
            "oven",
            "bake",
            "flour",
            "sugar",
            "butter",
            "dough",
            "simmer",
            "sauce",
            "garlic",
            "onion",
            "roast",
        ],
    ),
    "finance": (
        "Should I move my {a} savings into a {b} portfolio?",
        [
            "stock",
            "market",
            "bond",
            "interest",
            "dividend",
            "inflation",
            "bank",
            "loan",
            "equity",
            "pension",
        ],
    ),
    "sports": (
        "Which {a} won the {b} match last season?",
        [
            "football",
            "goal",
            "team",
            "player",
            "coach",
            "league",
            "score",
            "referee",
            "stadium",
            "tennis",
        ],
    ),
    "poems": (
        "Compose a sonnet about the {a} and the {b} moonlight",
        ["nightingale", "willow", "ember", "lantern", "meadow", "frost", "twilight", "velvet"],
    ),
}


def planted(counts: dict[str, int], seed: int = 0) -> pl.DataFrame:
    rng = random.Random(seed)
    rows = []
    for topic, n in counts.items():
        template, words = TOPICS[topic]
        for _ in range(n):
            text = template.format(a=rng.choice(words), b=rng.choice(words))
            rows.append({"text": text + " " + " ".join(rng.sample(words, 3)), "topic": topic})
    rng.shuffle(rows)
    return pl.DataFrame(rows)


@pytest.fixture
def corpus(tmp_path):  # noqa: ANN001, ANN201
    path = tmp_path / "corpus.jsonl"
    write_frame(planted({"cooking": 200, "finance": 170, "sports": 127, "poems": 3}), path)
    return load_dataset(path)


def topics_of(frame: pl.DataFrame) -> list[str]:
    return frame["topic"].to_list()


def test_seeded_sample_is_reproducible(corpus) -> None:  # noqa: ANN001
    a, _ = apply_step(corpus.frame, Sample(n=50, seed=7))
    b, _ = apply_step(corpus.frame, Sample(n=50, seed=7))
    c, _ = apply_step(corpus.frame, Sample(n=50, seed=8))
    assert a.height == 50 and a.equals(b) and not a.equals(c)
    assert a[ID].is_sorted()  # rows keep their order
    d, _ = apply_step(corpus.frame, Sample(fraction=0.1, seed=1))
    assert d.height == 50
    whole, _ = apply_step(corpus.frame, Sample(n=10_000))
    assert whole.height == 500


def test_stratified_sample_keeps_shares(corpus) -> None:  # noqa: ANN001
    out, _ = apply_step(corpus.frame, Sample(n=100, stratify="topic", seed=3))
    counts = dict(out["topic"].value_counts().rows())
    assert counts == {"cooking": 40, "finance": 34, "sports": 25, "poems": 1}
    with pytest.raises(StepError, match="No column named 'nope'"):
        apply_step(corpus.frame, Sample(n=10, stratify="nope"))


def test_diverse_sample_covers_the_rare_cluster(corpus) -> None:  # noqa: ANN001
    seen: list[float] = []
    with running(RunContext(on_progress=lambda done, total, note: seen.append(done / total))):
        summary = cluster_summary(corpus.frame, "text", k=4, seed=0)
    assert seen and seen[-1] == 1.0
    assert sorted(c.size for c in summary) == [3, 127, 170, 200]
    rare = next(c for c in summary if c.size == 3)
    assert {"sonnet", "moonlight"} & set(rare.top_terms)
    frame = corpus.frame.collect()
    assert all(frame.filter(pl.col(ID) == i)["topic"].item() == "poems" for i in rare.example_ids)
    out, _ = apply_step(corpus.frame, DiverseSample(column="text", k=4, n=20, seed=0))
    assert out.height == 20
    assert out["cluster"].n_unique() == 4
    assert topics_of(out).count("poems") == 3  # the whole rare cluster is kept
    random_pick, _ = apply_step(corpus.frame, Sample(n=20, seed=0))
    assert "poems" not in topics_of(random_pick)


def test_cluster_column_only_when_n_is_zero(corpus) -> None:  # noqa: ANN001
    out, result = apply_step(corpus.frame, DiverseSample(k=4, seed=0))
    assert out.height == 500 and result.dropped == 0
    assert out.columns[-1] == "cluster" and out["cluster"].null_count() == 0


def test_domain_score_ranks_in_domain_rows_first(corpus, tmp_path) -> None:  # noqa: ANN001
    reference = tmp_path / "ref.txt"
    reference.write_text(
        "Which team won the football final?\nThe referee stopped the tennis match\n",
        encoding="utf-8",
    )
    out, _ = apply_step(corpus.frame, DomainScore(column="text", reference=str(reference)))
    ranked = out.sort("domain_score", descending=True, maintain_order=True)
    assert set(topics_of(ranked.head(127))) == {"sports"}
    assert ranked["domain_score"].max() <= 1.0
    kw, _ = apply_step(corpus.frame, DomainScore(keywords=("sonnet", "moonlight")))
    assert set(topics_of(kw.sort("domain_score", descending=True).head(3))) == {"poems"}
    kept, result = apply_step(kw.lazy(), MinScore(min_score=0.05))
    assert set(topics_of(kept)) == {"poems"} and result.rows_out == 3
    bins = score_histogram(out["domain_score"], bins=10, lo=0.0, hi=1.0)
    assert sum(b[2] for b in bins) == 500 and len(bins) == 10
    with pytest.raises(StepError, match="in-domain examples or some keywords"):
        apply_step(corpus.frame, DomainScore())
    with pytest.raises(StepError, match="no such reference file"):
        apply_step(corpus.frame, DomainScore(reference=str(tmp_path / "missing.txt")))


def test_every_selection_replays_headless(corpus, tmp_path) -> None:  # noqa: ANN001
    ws = Workspace(corpus)
    ws.apply(DomainScore(keywords=("oven", "bake", "sonnet", "football")))
    ws.apply(Sample(fraction=0.8, stratify="topic", seed=5))
    ws.apply(DiverseSample(k=4, n=60, seed=2))
    live = ws.frame.collect()
    path = tmp_path / "s.recipe.json"
    ws.recipe().save(path)
    replayed, results = run_recipe(load_dataset(corpus.paths[0]).frame, Recipe.load(path))
    assert replayed.equals(live)
    assert [r.rows_out for r in results] == [500, 400, 60]
    assert np.array_equal(replayed[ID].to_numpy(), live[ID].to_numpy())


def test_polars_tfidf_matches_sklearn_transform() -> None:
    """Clustering vectorises rows in polars: the matrix must equal the fitted vectorizer's own
    `transform` (accents, capitals, digits, underscores, stop words, empty and null texts)."""
    from studio.engine.steps.select import _transform, _vectorizer

    texts = [
        "Héllo WORLD, the café_x doesn't 42abc ab a",
        "",
        None,
        "ÀÉÎ straße ΣΊΣΥΦΟΣ hello hello hello world",
        "bake the bread, bake the cake; simmer the sauce",
    ]
    series = pl.Series(texts, dtype=pl.String).fill_null("")
    vectorizer = _vectorizer("tfidf", 50)
    vectorizer.fit(series.to_list() + ["hello world cafe straße bread sauce"])
    expected = vectorizer.transform(series.to_list())
    got = _transform(vectorizer, series, "vectorising", 0.0, 1.0)
    assert got.shape == expected.shape
    assert got.nnz == expected.nnz
    assert abs(got - expected).max() < 1e-6
