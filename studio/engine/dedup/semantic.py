"""Semantic duplicates: mean-pooled embeddings from a transformers encoder, cosine neighbours
found a block of rows at a time (one matrix product per block), clusters by components.

The model is named like any Hugging Face model (`sentence-transformers/all-MiniLM-L6-v2`) or
given as a local folder; both go through `AutoTokenizer`/`AutoModel.from_pretrained`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import polars as pl

from studio.engine.dedup.clusters import Clusters, cluster_similarity, labels_from_pairs
from studio.engine.errors import MissingDependency, StepError, require
from studio.engine.progress import check_cancelled, report
from studio.engine.tokens import _hub_resolves

_MODELS: dict[str, tuple[object, object]] = {}
_LOCK = threading.Lock()


def load_encoder(name: str) -> tuple[object, object]:
    """(tokenizer, model) for a model name or local path, cached per process."""
    with _LOCK:
        if name in _MODELS:
            return _MODELS[name]
        require("torch", "Semantic dedup", "torch")
        transformers = require("transformers", "Semantic dedup", "transformers")
        path = Path(name).expanduser()
        looks_local = path.is_dir() or name.startswith((".", "/", "~")) or name.count("/") > 1
        if looks_local and not path.is_dir():
            raise StepError(
                f"{name}: no such model folder; pass a folder written by save_pretrained "
                "or a Hugging Face model name."
            )
        source = str(path) if path.is_dir() else name
        # no tqdm bar on stderr ("Loading weights"): the CLI and the app report their own
        transformers.utils.logging.disable_progress_bar()
        # the cache first; the hub only when its host resolves (offline, the hub's own
        # retries take most of a minute before failing)
        attempts = [True]
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        if not path.is_dir() and not offline and _hub_resolves():
            attempts.append(False)
        last: Exception | None = None
        for local_only in attempts:
            try:
                tokenizer = transformers.AutoTokenizer.from_pretrained(
                    source, local_files_only=local_only
                )
                model = transformers.AutoModel.from_pretrained(source, local_files_only=local_only)
                break
            except MissingDependency:
                raise
            except Exception as exc:  # OSError, ValueError, hub and network errors
                last = exc
        else:
            if path.is_dir():
                detail = " ".join(str(last).split())
                detail = detail if len(detail) <= 200 else detail[:199] + "…"
                raise StepError(
                    f"{path}: no encoder could be loaded from this folder (it needs the files "
                    f"save_pretrained writes for a model and its tokenizer): {detail}"
                ) from last
            raise StepError(
                f"Encoder {name!r} is neither a local folder nor in the Hugging Face cache, and "
                f"it could not be downloaded: run `huggingface-cli download {name}` where there "
                "is network, or pass the path of a folder written by save_pretrained."
            ) from last
        model.train(False)  # inference mode (dropout off)
        _MODELS[name] = (tokenizer, model)
        return tokenizer, model


def embed(
    texts: list[str], model_name: str, batch_size: int = 64, max_length: int = 256
) -> np.ndarray:
    """L2-normalised mean-pooled embeddings (float32, one row per text)."""
    import torch

    tokenizer, model = load_encoder(model_name)
    out: list[np.ndarray] = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            check_cancelled()
            batch = tokenizer(  # type: ignore[operator]
                texts[start : start + batch_size],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            if "token_type_ids" in batch and "token_type_ids" not in _accepts(model):
                batch.pop("token_type_ids")
            hidden = model(**batch).last_hidden_state  # type: ignore[operator]
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, dim=1)
            out.append(pooled.float().numpy())
            report(min(start + batch_size, len(texts)), len(texts), "embedding")
    if not out:
        return np.zeros((0, 1), dtype=np.float32)
    return np.concatenate(out)


def _accepts(model: object) -> set[str]:
    import inspect

    try:
        return set(inspect.signature(model.forward).parameters)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return set()


def neighbours(
    emb: np.ndarray, threshold: float, block: int = 1024
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(left, right, cosine) for every pair left < right with cosine >= threshold."""
    lefts, rights, scores = [], [], []
    n = len(emb)
    for start in range(0, n, block):
        check_cancelled()
        sims = emb[start : start + block] @ emb.T
        rows, cols = np.nonzero(sims >= threshold)
        rows = rows + start
        upper = cols > rows
        lefts.append(rows[upper])
        rights.append(cols[upper])
        scores.append(sims[rows[upper] - start, cols[upper]])
        report(min(start + block, n), n, "comparing")
    if not lefts:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0)
    return np.concatenate(lefts), np.concatenate(rights), np.concatenate(scores).astype(np.float64)


def semantic_duplicates(
    texts: pl.Series,
    model_name: str,
    ids: np.ndarray | None = None,
    threshold: float = 0.95,
    batch_size: int = 64,
    max_length: int = 256,
) -> Clusters:
    n = len(texts)
    ids = np.arange(n, dtype=np.uint64) if ids is None else ids
    strings = texts.cast(pl.String).fill_null("")
    # rows with no text are not copies of one another, and are not embedded at all
    filled = np.flatnonzero((strings.str.strip_chars().str.len_bytes() > 0).to_numpy())
    emb = embed(strings.gather(filled).to_list(), model_name, batch_size, max_length)
    left, right, score = neighbours(emb, threshold)
    left, right = filled[left], filled[right]
    label = labels_from_pairs(n, left, right)
    return Clusters(ids=ids, label=label, similarity=cluster_similarity(label, left, right, score))
