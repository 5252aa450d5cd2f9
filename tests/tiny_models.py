"""Tiny random-weight seq2seq models and a tokenizer trained here, saved to a folder and loaded
by path through the same code a user's model name takes. Nothing is downloaded."""

from __future__ import annotations

from pathlib import Path

SENTENCES = [
    "the cat sat on the mat",
    "a dog runs in the park every morning",
    "please send me the report before noon",
    "the weather is cold and windy today",
    "my order arrived late and the box was broken",
    "can you explain how a battery stores energy",
    "write a short note to thank the team",
    "the train was quiet so i read a book",
]


def train_tokenizer(folder: Path, texts: list[str] | None = None):  # noqa: ANN201
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(special_tokens=["<pad>", "</s>", "<unk>"])
    tok.train_from_iterator(texts or SENTENCES * 3, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    fast.save_pretrained(folder)
    return fast


def tiny_t5(
    folder: Path, seed: int = 0, texts: list[str] | None = None, width: int = 16, layers: int = 1
) -> Path:
    """A random-weight T5; the benchmark builds a wider one on its own texts."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    folder.mkdir(parents=True, exist_ok=True)
    tok = train_tokenizer(folder, texts)
    torch.manual_seed(seed)
    config = T5Config(
        vocab_size=len(tok),
        d_model=width,
        d_ff=width * 2,
        d_kv=max(8, width // 4),
        num_layers=layers,
        num_decoder_layers=layers,
        num_heads=2 if width <= 16 else 4,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.pad_token_id,
    )
    T5ForConditionalGeneration(config).save_pretrained(folder)
    return folder


def tiny_marian(folder: Path, seed: int = 0) -> Path:
    import torch
    from transformers import MarianConfig, MarianMTModel

    folder.mkdir(parents=True, exist_ok=True)
    tok = train_tokenizer(folder)
    torch.manual_seed(seed)
    config = MarianConfig(
        vocab_size=len(tok),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=64,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.pad_token_id,
        forced_eos_token_id=tok.eos_token_id,
    )
    MarianMTModel(config).save_pretrained(folder)
    return folder
