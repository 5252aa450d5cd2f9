"""Likely label errors, confident-learning style.

Out-of-fold class probabilities come from a scikit-learn TF-IDF + logistic regression model
trained with stratified k-fold. A row is a suspect when the probability of its given label is
below that class's average self-confidence (its threshold) and another class's probability is
at or above that class's threshold (Northcutt et al., confident learning). Suspects are ranked
by self-confidence (lowest first), ties by margin (given minus best other, lowest first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from studio.engine.errors import StepError
from studio.engine.progress import check_cancelled, report
from studio.engine.steps.base import ID


@dataclass
class LabelErrors:
    table: pl.DataFrame  # _id, given, predicted, self_confidence, margin, suspect (bool), rank
    folds: int

    @property
    def suspects(self) -> pl.DataFrame:
        return self.table.filter(pl.col("suspect")).sort("rank")

    @property
    def noise_rate(self) -> float:
        return self.suspects.height / self.table.height if self.table.height else 0.0


def find_label_errors(
    frame: pl.LazyFrame | pl.DataFrame,
    text: str,
    label: str,
    *,
    folds: int = 5,
    seed: int = 0,
    max_features: int = 20_000,
) -> LabelErrors:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    data = (
        (frame.lazy() if isinstance(frame, pl.DataFrame) else frame)
        .select(ID, pl.col(text).cast(pl.String).fill_null(""), pl.col(label).cast(pl.String))
        .drop_nulls(label)
        .collect()
    )
    counts = data[label].value_counts()
    if counts.height < 2:
        raise StepError(f"Label errors need at least two classes in {label!r}.")
    smallest = int(counts["count"].min())  # type: ignore[arg-type]
    k = max(2, min(folds, smallest))
    classes = sorted(counts[label].to_list())
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[v] for v in data[label].to_list()])
    texts = data[text].to_list()
    probs = np.zeros((len(texts), len(classes)))
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    for fold, (train, test) in enumerate(splitter.split(texts, y)):
        check_cancelled()
        report(fold, k, "training fold")
        vec = TfidfVectorizer(
            ngram_range=(1, 2),
            min_df=1,
            max_features=max_features,
            sublinear_tf=True,
            dtype=np.float32,
        )
        x_train = vec.fit_transform([texts[i] for i in train])
        model = LogisticRegression(max_iter=300, C=4.0)
        model.fit(x_train, y[train])
        fold_probs = model.predict_proba(vec.transform([texts[i] for i in test]))
        # a fold may lack a class: place its columns by the model's classes
        probs[np.ix_(test, model.classes_)] = fold_probs
    report(k, k, "ranking")
    rows = np.arange(len(y))
    self_conf = probs[rows, y]
    other = probs.copy()
    other[rows, y] = -1.0
    best_other = other.max(axis=1)
    predicted = probs.argmax(axis=1)
    thresholds = np.array(
        [self_conf[y == j].mean() if (y == j).any() else 1.0 for j in range(len(classes))]
    )
    above = probs >= thresholds[None, :]
    above[rows, y] = False
    suspect = (self_conf < thresholds[y]) & above.any(axis=1) & (predicted != y)
    order = np.lexsort((self_conf - best_other, self_conf))
    rank = np.empty(len(y), dtype=np.int64)
    rank[order] = np.arange(1, len(y) + 1)
    table = pl.DataFrame(
        {
            ID: data[ID],
            "given": data[label],
            "predicted": [classes[i] for i in predicted],
            "self_confidence": self_conf,
            "margin": self_conf - best_other,
            "suspect": suspect,
            "rank": rank,
        }
    ).sort("rank")
    return LabelErrors(table, k)
