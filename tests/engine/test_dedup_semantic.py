"""Semantic dedup with a tiny random-weight BERT and a WordPiece tokenizer trained here, saved
to a temp folder and loaded by path through the same code a model name takes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from studio.engine.dedup.semantic import embed, load_encoder
from studio.engine.errors import StepError
from studio.engine.recipe import apply_step
from studio.engine.steps.base import ID
from studio.engine.steps.dedup import DedupSemantic

CORPUS = [
    "the cat sat on the mat",
    "a dog ran in the park",
    "stocks fell sharply on monday",
    "bake the bread for forty minutes",
    "the weather is sunny and warm",
    "quantum computers use qubits",
]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-encoder")
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=200, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    )
    tok.train_from_iterator(CORPUS * 5, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=fast.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(folder)
    return folder


def test_embeddings_are_normalised(tiny_model: Path) -> None:
    emb = embed(CORPUS, str(tiny_model), batch_size=4)
    assert emb.shape == (len(CORPUS), 32)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert load_encoder(str(tiny_model)) is load_encoder(str(tiny_model))


def test_semantic_dedup_finds_planted_duplicates(tiny_model: Path) -> None:
    texts = CORPUS + ["The cat sat on the mat", "STOCKS FELL SHARPLY ON MONDAY"]
    lazy = pl.DataFrame({ID: pl.Series(range(len(texts)), dtype=pl.UInt64), "text": texts}).lazy()
    step = DedupSemantic(column="text", model=str(tiny_model), threshold=0.9999, batch_size=3)
    out, result = apply_step(lazy, step)
    assert sorted(result.removed[ID].to_list()) == [6, 7]
    reasons = dict(result.removed.iter_rows())
    assert reasons[6].startswith("semantic duplicate of row 0")
    assert out.height == len(CORPUS)


def test_semantic_dedup_leaves_rows_without_text_alone(tiny_model: Path) -> None:
    texts = ["", "   ", None, "The cat sat on the mat", "The cat sat on the mat"]
    lazy = pl.DataFrame({ID: pl.Series(range(5), dtype=pl.UInt64), "text": texts}).lazy()
    step = DedupSemantic(column="text", model=str(tiny_model), threshold=0.9999, batch_size=2)
    out, result = apply_step(lazy, step)
    assert result.removed[ID].to_list() == [4]
    assert out[ID].to_list() == [0, 1, 2, 3]


def test_semantic_dedup_needs_a_model() -> None:
    lazy = pl.DataFrame({ID: pl.Series([0], dtype=pl.UInt64), "text": ["x"]}).lazy()
    with pytest.raises(StepError, match="needs a model"):
        apply_step(lazy, DedupSemantic(column="text"))
    with pytest.raises(StepError, match="cosine threshold must be above 0 and at most 1"):
        apply_step(lazy, DedupSemantic(column="text", model="m", threshold=2.0))
    with pytest.raises(StepError, match="no such model folder"):
        apply_step(lazy, DedupSemantic(column="text", model="/nonexistent/model/folder"))
