"""Selection steps: seeded random or stratified samples, diverse samples across text clusters,
and domain relevance scores against reference examples or keywords.

All three need every row (`scope = "global"`). Randomness comes only from each step's `seed`
(numpy's PCG64), and rows keep their current order, so a replay gives the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from studio.engine.errors import StepError
from studio.engine.progress import check_cancelled, report
from studio.engine.steps.base import ID, Step, id_in, register, require_columns
from studio.engine.steps.filter import text_of

CLUSTER_COLUMN = "cluster"
SCORE_COLUMN = "domain_score"
BATCH = 20_000
LSA_COMPONENTS = 100
MICRO_PER_CLUSTER = 4
FIT_ROWS = 50_000
"""Rows used to learn the vocabulary and the cluster centres on big data (evenly spaced)."""
TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]+\b"
"""Words of two or more letters: the clustering vocabulary (no numbers, no underscores)."""
TRANSFORM_BATCH = 100_000


def main_text_column(frame: pl.LazyFrame) -> str:
    """The detected main text column, else the first text column."""
    from studio.engine.shape import detect_shape

    text = detect_shape(frame).text
    if text:
        return text
    schema = frame.collect_schema()
    for name, dtype in schema.items():
        if name != ID and dtype == pl.String:
            return name
    raise StepError("This dataset has no text column to work on.")


def _texts(frame: pl.LazyFrame, column: str) -> pl.DataFrame:
    dtype = frame.collect_schema()[column]
    return frame.select(ID, text_of(column, dtype).fill_null("").alias("__text")).collect()


def _spread(total: int, wanted: int) -> np.ndarray:
    """`wanted` evenly spaced positions out of `total` (deterministic, no seed needed)."""
    if wanted >= total:
        return np.arange(total)
    return np.linspace(0, total - 1, wanted).round().astype(np.int64)


def _choose(rng: np.random.Generator, positions: np.ndarray, take: int) -> np.ndarray:
    if take >= len(positions):
        return positions
    return np.sort(rng.choice(positions, size=take, replace=False))


def _even_quotas(sizes: list[int], target: int) -> list[int]:
    """Split `target` across groups as evenly as their sizes allow (small groups kept whole)."""
    quotas = [0] * len(sizes)
    remaining = target
    order = sorted(range(len(sizes)), key=lambda i: (sizes[i], i))
    for done, i in enumerate(order):
        left = len(order) - done
        take = min(sizes[i], math.ceil(remaining / left)) if remaining > 0 else 0
        quotas[i] = take
        remaining -= take
    return quotas


def _proportional_quotas(sizes: list[int], target: int) -> list[int]:
    """Largest-remainder split of `target` in proportion to `sizes`."""
    total = sum(sizes)
    exact = [s * target / total for s in sizes]
    quotas = [min(int(math.floor(e)), s) for e, s in zip(exact, sizes, strict=True)]
    order = sorted(range(len(sizes)), key=lambda i: (-(exact[i] - quotas[i]), i))
    short = target - sum(quotas)
    for i in order:
        if short <= 0:
            break
        if quotas[i] < sizes[i]:
            quotas[i] += 1
            short -= 1
    return quotas


@register("select.sample")
@dataclass(frozen=True, slots=True)
class Sample(Step):
    """A seeded random sample of `n` rows or a `fraction` (0-1) of them, optionally stratified
    by a column (each value keeps its share). Rows keep their order."""

    scope = "global"
    n: int = 0
    fraction: float = 0.0
    stratify: str = ""
    seed: int = 0

    def validate(self, schema: pl.Schema) -> None:
        if self.stratify:
            require_columns(schema, self.stratify)
        if self.n < 0:
            raise StepError("The sample size cannot be negative.")
        if not 0.0 <= self.fraction <= 1.0:
            raise StepError("The sample fraction must be between 0 and 1 (0 % to 100 %).")

    def group_keys(self) -> tuple[str, ...]:
        return (self.stratify,) if self.stratify else ()

    def target(self, total: int) -> int:
        if self.n:
            return min(self.n, total)
        if self.fraction:
            return min(total, int(round(self.fraction * total)))
        return total

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        cols = [ID, self.stratify] if self.stratify else [ID]
        keys = frame.select(cols).collect()
        total = keys.height
        target = self.target(total)
        if target >= total:
            return frame
        rng = np.random.default_rng(self.seed)
        if not self.stratify:
            chosen = _choose(rng, np.arange(total), target)
        else:
            groups = (
                keys.with_row_index("__pos")
                .group_by(self.stratify, maintain_order=True)
                .agg(pl.col("__pos"))
            )
            positions = [np.asarray(p, dtype=np.int64) for p in groups["__pos"].to_list()]
            quotas = _proportional_quotas([len(p) for p in positions], target)
            parts = [_choose(rng, p, q) for p, q in zip(positions, quotas, strict=True)]
            chosen = np.sort(np.concatenate(parts)) if parts else np.array([], dtype=np.int64)
        return frame.filter(id_in(keys[ID].gather(chosen)))

    def describe(self) -> str:
        size = (
            f"{self.n:,} rows"
            if self.n
            else f"{self.fraction * 100:g} %"
            if self.fraction
            else "all rows"
        )
        strat = f", stratified by {self.stratify}" if self.stratify else ""
        return f"random sample of {size}{strat} (seed {self.seed})"


# -- clustering ----------------------------------------------------------------------------
@dataclass
class Clustering:
    """Cluster of every row (`labels`, aligned with `ids`), sizes, top terms, example ids."""

    ids: np.ndarray
    labels: np.ndarray
    sizes: list[int]
    terms: list[list[str]]
    examples: list[list[int]]

    @property
    def k(self) -> int:
        return len(self.sizes)


@dataclass(frozen=True)
class ClusterInfo:
    cluster: int
    size: int
    top_terms: tuple[str, ...]
    example_ids: tuple[int, ...]


def _vectorizer(method: str, max_features: int) -> Any:
    from studio.engine.errors import require

    text = require("sklearn.feature_extraction.text", "Clustering", "scikit-learn")
    if method == "hashing":
        return text.HashingVectorizer(
            n_features=2**18,
            alternate_sign=False,
            norm="l2",
            stop_words="english",
            dtype=np.float32,
        )
    if method != "tfidf":
        raise StepError(f"Unknown vector method {method!r}; use 'tfidf' or 'hashing'.")
    return text.TfidfVectorizer(
        max_features=max_features,
        stop_words="english",
        sublinear_tf=True,
        dtype=np.float32,
        token_pattern=TOKEN_PATTERN,
    )


def _transform(vectorizer: Any, texts: pl.Series, note: str, start: float, span: float) -> Any:
    """Vectorise every text in batches: a fitted TF-IDF vectorizer through polars (the same
    matrix as its own `transform`, tokenised in Rust on all cores), a hashing one as is."""
    import scipy.sparse as sp

    tfidf = hasattr(vectorizer, "vocabulary_")
    terms = _vocabulary_frame(vectorizer) if tfidf else None
    step = TRANSFORM_BATCH if tfidf else BATCH
    parts = []
    total = max(len(texts), 1)
    for lo in range(0, len(texts), step):
        check_cancelled()
        chunk = texts.slice(lo, step)
        if terms is not None:
            parts.append(_tfidf_rows(vectorizer, terms, chunk))
        else:
            parts.append(vectorizer.transform(chunk.to_list()))
        report(start + span * min(lo + step, total) / total, 1.0, note)
    if not parts:
        return sp.csr_matrix((0, 1), dtype=np.float32)
    return sp.vstack(parts, format="csr")


def _vocabulary_frame(vectorizer: Any) -> pl.DataFrame:
    vocabulary: dict[str, int] = vectorizer.vocabulary_
    return pl.DataFrame(
        {
            "__word": pl.Series(list(vocabulary.keys()), dtype=pl.String),
            "__col": pl.Series(list(vocabulary.values()), dtype=pl.UInt32),
        }
    )


def _tfidf_rows(vectorizer: Any, terms: pl.DataFrame, texts: pl.Series) -> Any:
    """`vectorizer.transform(texts)` for a fitted sublinear, l2-normalised TfidfVectorizer:
    lower-case, find the words, count the known ones per row, 1 + log(count) times idf, l2."""
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    counts = (
        pl.DataFrame({"__text": texts})
        .with_row_index("__row")
        .select(
            "__row",
            pl.col("__text").str.to_lowercase().str.extract_all(TOKEN_PATTERN).alias("__word"),
        )
        .explode("__word")
        .join(terms, on="__word", how="inner")
        .group_by("__row", "__col")
        .len()
    )
    idf = np.asarray(vectorizer.idf_, dtype=np.float32)
    cols = counts["__col"].to_numpy()
    values = (np.log(counts["len"].to_numpy().astype(np.float32)) + 1.0) * idf[cols]
    matrix = sp.csr_matrix(
        (values, (counts["__row"].to_numpy(), cols)),
        shape=(len(texts), len(idf)),
        dtype=np.float32,
    )
    return normalize(matrix, copy=False)


def cluster_texts(
    ids: np.ndarray,
    texts: Sequence[str] | pl.Series,
    *,
    k: int = 8,
    seed: int = 0,
    method: str = "tfidf",
    max_features: int = 20_000,
) -> Clustering:
    """Cluster texts with TF-IDF (or hashing) vectors and MiniBatchKMeans, seeded.

    Clusters are numbered by size, largest first. Progress goes to `progress.report`."""
    from studio.engine.errors import require

    cluster = require("sklearn.cluster", "Clustering", "scikit-learn")
    series = texts if isinstance(texts, pl.Series) else pl.Series(list(texts), dtype=pl.String)
    series = series.fill_null("")
    total = len(series)
    if total == 0:
        return Clustering(ids, np.zeros(0, dtype=np.int64), [], [], [])
    k = max(1, min(k, total))
    report(0, 1.0, "learning the vocabulary")
    vectorizer = _vectorizer(method, max_features)
    fit_pos = _spread(total, FIT_ROWS)
    fit_texts = series.gather(fit_pos).to_list()
    try:
        if method == "tfidf":
            vectorizer.fit(fit_texts)
    except ValueError as exc:  # empty vocabulary
        raise StepError(f"Cannot cluster: {exc}.") from exc
    matrix = _transform(vectorizer, series, "vectorising", 0.05, 0.4)
    check_cancelled()
    # One BLAS/OpenMP thread: the dense part is small (100 dimensions, a sample of rows), the
    # result does not depend on the machine's core count, and a busy machine does not spin
    # idle worker threads (which made k-means 10x slower under load).
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        raw = _cluster_points(cluster, matrix, fit_pos, k, seed)
    counts = np.bincount(raw, minlength=k)
    order = sorted(range(k), key=lambda c: (-counts[c], c))
    remap = np.empty(k, dtype=np.int64)
    for new, old in enumerate(order):
        remap[old] = new
    labels = remap[raw]
    names = vectorizer.get_feature_names_out() if method == "tfidf" else None
    centers = _term_centers(matrix, labels, k)
    sizes, terms, examples = [], [], []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        sizes.append(int(len(members)))
        if names is not None:
            top = np.argsort(-centers[c])[:8]
            terms.append([str(names[i]) for i in top if centers[c][i] > 0])
        else:
            terms.append(_terms_of(series.gather(members[:500]).to_list()))
        if len(members):
            sims = np.asarray(matrix[members] @ centers[c]).ravel()
            best = members[np.argsort(-sims, kind="stable")[:3]]
            examples.append([int(ids[i]) for i in best])
        else:
            examples.append([])
    report(1.0, 1.0, "done")
    return Clustering(ids, labels, sizes, terms, examples)


def _cluster_points(
    cluster: Any, matrix: Any, fit_pos: np.ndarray, k: int, seed: int
) -> np.ndarray:
    """LSA, k-means micro-clusters on the fit rows, merged into `k`; a label for every row."""
    total = matrix.shape[0]
    report(0.45, 1.0, "reducing dimensions")
    points = _reduce(matrix, fit_pos, seed)
    check_cancelled()
    report(0.5, 1.0, f"finding {k} clusters")
    micro = min(total, k * MICRO_PER_CLUSTER)
    train = points[fit_pos] if total > FIT_ROWS else points
    model = cluster.MiniBatchKMeans(
        n_clusters=micro,
        init=_seed_centres(train, micro, max(1, k // 2), seed),
        random_state=seed,
        batch_size=4096,
        n_init=1,
        max_no_improvement=20,
        reassignment_ratio=0.0,
    )
    model.fit(train)
    check_cancelled()
    merge = _merge_centres(model.cluster_centers_, k)
    labels_parts = []
    for lo in range(0, total, BATCH * 5):
        check_cancelled()
        labels_parts.append(merge[model.predict(points[lo : lo + BATCH * 5])])
        report(0.7 + 0.25 * min(lo + BATCH * 5, total) / total, 1.0, "assigning rows")
    raw = np.concatenate(labels_parts).astype(np.int64)
    return raw


def _seed_centres(points: np.ndarray, count: int, far: int, seed: int) -> np.ndarray:
    """Initial centres: k-means++ for most, then the `far` points farthest from all of them.

    The farthest points give a small group that is unlike everything else a centre of its
    own, which k-means keeps (nothing else is closer to those rows)."""
    from sklearn.cluster import kmeans_plusplus

    far = min(far, count - 1)
    centres, _ = kmeans_plusplus(points, n_clusters=count - far, random_state=seed)
    centres = centres.astype(points.dtype)
    if far <= 0:
        return centres
    best = np.max(points @ centres.T, axis=1)
    picked = []
    for _ in range(far):
        i = int(np.argmin(best))
        picked.append(points[i])
        best = np.maximum(best, points @ points[i])
    return np.vstack([centres, np.asarray(picked)])


def _merge_centres(centres: np.ndarray, k: int) -> np.ndarray:
    """Merge micro-cluster centres into `k` clusters by average-linkage on cosine distance.

    k-means alone would rather split a big topic than give a small, distinct one its own
    cluster; over-clustering then merging close centres keeps small distinct groups apart."""
    if len(centres) <= k:
        return np.arange(len(centres))
    from sklearn.cluster import AgglomerativeClustering

    # a tiny constant column keeps all-zero centres (empty texts) at a defined distance
    padded = np.hstack([centres, np.full((len(centres), 1), 1e-6, dtype=centres.dtype)])
    merged = AgglomerativeClustering(n_clusters=k, metric="cosine", linkage="average")
    return merged.fit_predict(padded).astype(np.int64)


def _reduce(matrix: Any, fit_pos: np.ndarray, seed: int) -> np.ndarray:
    """LSA: project TF-IDF rows onto their top components and re-normalise, so clusters follow
    topics rather than word noise (and a small, distinct topic stays a cluster of its own)."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    components = min(LSA_COMPONENTS, matrix.shape[1] - 1, len(fit_pos) - 1)
    if components < 2:
        return matrix.toarray().astype(np.float32)
    svd = TruncatedSVD(n_components=components, random_state=seed, algorithm="randomized")
    svd.fit(matrix[fit_pos])
    out = np.empty((matrix.shape[0], components), dtype=np.float32)
    for lo in range(0, matrix.shape[0], BATCH * 5):
        check_cancelled()
        out[lo : lo + BATCH * 5] = svd.transform(matrix[lo : lo + BATCH * 5])
    return normalize(out, copy=False)


def _term_centers(matrix: Any, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean TF-IDF vector of each cluster (for top terms and example rows)."""
    import scipy.sparse as sp

    onehot = sp.csr_matrix(
        (np.ones(len(labels), dtype=np.float32), (labels, np.arange(len(labels)))),
        shape=(k, len(labels)),
    )
    sums = np.asarray((onehot @ matrix).todense())
    counts = np.maximum(np.bincount(labels, minlength=k), 1)[:, None]
    return sums / counts


def _terms_of(texts: list[str]) -> list[str]:
    from sklearn.feature_extraction.text import CountVectorizer

    try:
        counts = CountVectorizer(stop_words="english", max_features=8).fit(texts)
    except ValueError:
        return []
    return [str(t) for t in counts.get_feature_names_out()]


def cluster_frame(
    frame: pl.LazyFrame,
    column: str = "",
    *,
    k: int = 8,
    seed: int = 0,
    method: str = "tfidf",
) -> Clustering:
    column = column or main_text_column(frame)
    require_columns(frame.collect_schema(), column)
    data = _texts(frame, column)
    return cluster_texts(data[ID].to_numpy(), data["__text"], k=k, seed=seed, method=method)


def cluster_summary(
    frame: pl.LazyFrame, column: str = "", *, k: int = 8, seed: int = 0, method: str = "tfidf"
) -> list[ClusterInfo]:
    """Each cluster's size, top terms and up to 3 example row ids (closest to its centre)."""
    result = cluster_frame(frame, column, k=k, seed=seed, method=method)
    return summarize(result)


def summarize(result: Clustering) -> list[ClusterInfo]:
    return [
        ClusterInfo(c, result.sizes[c], tuple(result.terms[c]), tuple(result.examples[c]))
        for c in range(result.k)
    ]


def diverse_positions(labels: np.ndarray, k: int, n: int, seed: int) -> np.ndarray:
    """Positions of `n` rows sampled as evenly as possible across clusters (seeded)."""
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(labels == c) for c in range(k)]
    quotas = _even_quotas([len(m) for m in members], n)
    parts = [_choose(rng, m, q) for m, q in zip(members, quotas, strict=True)]
    return np.sort(np.concatenate(parts)) if parts else np.array([], dtype=np.int64)


@register("select.diverse")
@dataclass(frozen=True, slots=True)
class DiverseSample(Step):
    """Cluster the main text into `k` clusters and sample `n` rows evenly across them, so rare
    kinds of example are kept. `n = 0` keeps every row and only writes the `cluster` column."""

    scope = "global"
    column: str = ""
    k: int = 8
    n: int = 0
    seed: int = 0
    method: str = "tfidf"
    write_cluster: bool = True

    def validate(self, schema: pl.Schema) -> None:
        if self.column:
            require_columns(schema, self.column)
        if self.k < 1:
            raise StepError("The number of clusters must be at least 1.")
        if self.n < 0:
            raise StepError("The sample size cannot be negative.")
        if self.method not in ("tfidf", "hashing"):
            raise StepError(f"Unknown vector method {self.method!r}; use 'tfidf' or 'hashing'.")

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        result = cluster_frame(frame, self.column, k=self.k, seed=self.seed, method=self.method)
        out = frame
        if self.write_cluster:
            clusters = pl.DataFrame(
                {
                    ID: pl.Series(result.ids, dtype=pl.UInt64),
                    CLUSTER_COLUMN: pl.Series(result.labels).cast(pl.Int32),
                },
            )
            out = out.drop(CLUSTER_COLUMN, strict=False).join(
                clusters.lazy(), on=ID, how="left", maintain_order="left"
            )
        if self.n and self.n < len(result.ids):
            chosen = diverse_positions(result.labels, result.k, self.n, self.seed)
            out = out.filter(id_in(pl.Series(result.ids[chosen], dtype=pl.UInt64)))
        return out

    def describe(self) -> str:
        what = self.column or "the main text"
        if self.n:
            return f"diverse sample of {self.n:,} rows across {self.k} clusters of {what} (seed {self.seed})"
        return f"cluster {what} into {self.k} clusters (seed {self.seed})"


# -- domain relevance ----------------------------------------------------------------------
def read_reference(path: str | Path) -> list[str]:
    """In-domain examples: a .txt/.md file gives one example per non-empty line; any dataset
    file (JSONL, CSV, Parquet...) gives its main text column."""
    path = Path(path)
    if not path.exists():
        raise StepError(f"{path}: no such reference file.")
    if path.suffix.lower() in (".txt", ".md", ".text"):
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as exc:
            raise StepError(f"{path}: cannot read the reference file ({exc}).") from exc
        texts = [line.strip() for line in lines if line.strip()]
    else:
        from studio.engine.io import load_dataset

        dataset = load_dataset(path)
        column = main_text_column(dataset.frame)
        texts = [t for t in _texts(dataset.frame, column)["__text"].to_list() if t.strip()]
    if not texts:
        raise StepError(f"{path}: the reference file has no text.")
    return texts


def domain_scores(
    texts: list[str], reference: list[str], *, max_features: int | None = None
) -> np.ndarray:
    """TF-IDF cosine similarity of each text to the centroid of the reference texts (0..1)."""
    from studio.engine.errors import require

    text = require("sklearn.feature_extraction.text", "Domain scoring", "scikit-learn")
    vectorizer = text.TfidfVectorizer(
        stop_words="english", sublinear_tf=True, dtype=np.float32, max_features=max_features
    )
    fit = [texts[i] for i in _spread(len(texts), FIT_ROWS)] + list(reference)
    report(0, 1.0, "learning the vocabulary")
    try:
        vectorizer.fit(fit)
    except ValueError as exc:
        raise StepError(f"Cannot score: {exc}.") from exc
    ref = vectorizer.transform(reference)
    centroid = np.asarray(ref.mean(axis=0)).ravel().astype(np.float32)
    norm = float(np.linalg.norm(centroid))
    if norm == 0.0:
        raise StepError("None of the reference words occur in the data's vocabulary.")
    centroid /= norm
    out = np.empty(len(texts), dtype=np.float32)
    for lo in range(0, len(texts), BATCH):
        check_cancelled()
        block = vectorizer.transform(texts[lo : lo + BATCH])
        out[lo : lo + BATCH] = np.asarray(block @ centroid).ravel()
        report(0.1 + 0.9 * min(lo + BATCH, len(texts)) / max(len(texts), 1), 1.0, "scoring")
    return np.clip(out, 0.0, 1.0)


@register("select.domain_score")
@dataclass(frozen=True, slots=True)
class DomainScore(Step):
    """Score rows against in-domain examples (`reference` file) or `keywords` by TF-IDF cosine
    into `domain_score`; with `min_score`, keep only rows scoring at least that."""

    scope = "global"
    column: str = ""
    reference: str = ""
    keywords: tuple[str, ...] = ()
    min_score: float | None = None

    def validate(self, schema: pl.Schema) -> None:
        if self.column:
            require_columns(schema, self.column)
        if not self.reference and not any(k.strip() for k in self.keywords):
            raise StepError("Give a reference file of in-domain examples or some keywords.")

    def reference_texts(self) -> list[str]:
        texts = read_reference(self.reference) if self.reference else []
        words = [k.strip() for k in self.keywords if k.strip()]
        if words:
            texts.append(" ".join(words))
        return texts

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        column = self.column or main_text_column(frame)
        data = _texts(frame, column)
        scores = domain_scores(data["__text"].to_list(), self.reference_texts())
        scored = pl.DataFrame(
            {ID: data[ID], SCORE_COLUMN: pl.Series(scores, dtype=pl.Float64).round(4)}
        )
        out = frame.drop(SCORE_COLUMN, strict=False).join(
            scored.lazy(), on=ID, how="left", maintain_order="left"
        )
        if self.min_score is not None:
            out = out.filter(pl.col(SCORE_COLUMN) >= self.min_score)
        return out

    def describe(self) -> str:
        against = (
            f"examples in {Path(self.reference).name}"
            if self.reference
            else "keywords " + ", ".join(self.keywords)
        )
        if self.reference and self.keywords:
            against += " and keywords " + ", ".join(self.keywords)
        floor = (
            f", keep rows scoring at least {self.min_score:g}" if self.min_score is not None else ""
        )
        return f"score domain relevance against {against}{floor}"


def score_histogram(
    values: pl.Series, bins: int = 20, lo: float = 0.0, hi: float | None = None
) -> list[tuple[float, float, int]]:
    """(low, high, count) bins of a numeric series (nulls ignored); `hi` defaults to its max."""
    data = values.drop_nulls().cast(pl.Float64).to_numpy()
    if hi is None:
        hi = float(data.max()) if len(data) else 1.0
    if hi <= lo:
        hi = lo + 1.0
    counts, edges = np.histogram(data, bins=bins, range=(lo, hi))
    return [(float(edges[i]), float(edges[i + 1]), int(counts[i])) for i in range(bins)]
