"""Model-based augmentation: paraphrase with a sequence-to-sequence model, and back-translation
through a pivot language with two translation models (e.g. the Marian `opus-mt` pairs).

Models are loaded like any transformers user expects: a hub name (from the local cache when
offline) or a local folder, with `AutoTokenizer` and `AutoModelForSeq2SeqLM`. They run on CUDA
when it is available (or the device named in the options), else on the CPU, in batches.
Generation is seeded per batch, and batches are fixed by the input, so replays repeat.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from studio.engine.augment import AugmentConfig, AugmentMethod, register_method
from studio.engine.errors import MissingDependency, StepError

_MODELS: dict[tuple[str, str], tuple[Any, Any]] = {}
_LOCK = threading.Lock()


def pick_device(requested: str = "") -> str:
    import torch

    if requested:
        return requested
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_seq2seq(name: str, device: str = "") -> tuple[Any, Any]:
    """(tokenizer, model) for a name or local path, cached per process."""
    if not name:
        raise StepError("Choose a model: a Hugging Face name or a local folder.")
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise MissingDependency("torch", "Model-based augmentation") from exc
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    device = pick_device(device)
    key = (name, device)
    with _LOCK:
        if key in _MODELS:
            return _MODELS[key]
        # the local folder or cache first; the hub only when it can be reached at all, so an
        # offline box fails at once instead of sitting through the hub client's retries
        from studio.engine.tokens import _hub_resolves

        attempts = [True]
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        if not os.path.isdir(name) and not offline and _hub_resolves():
            attempts.append(False)
        error: Exception | None = None
        for local_only in attempts:
            try:
                tokenizer = AutoTokenizer.from_pretrained(name, local_files_only=local_only)
                model = AutoModelForSeq2SeqLM.from_pretrained(name, local_files_only=local_only)
                break
            except Exception as exc:  # OSError, ValueError, network errors
                error = exc
        else:
            raise StepError(
                f"Cannot load the model {name!r}: it is neither a local folder nor in the Hugging Face cache "
                f"(offline). Download it first (huggingface-cli download {name}) or pass a local path."
            ) from error
        model.to(device)
        model.train(False)  # inference mode (dropout off)
        _MODELS[key] = (tokenizer, model)
        return tokenizer, model


@dataclass
class Generation:
    temperature: float = 1.0
    top_p: float = 0.95
    num_beams: int = 1
    max_new_tokens: int = 128
    batch_size: int = 16
    device: str = ""

    @property
    def sampling(self) -> bool:
        return self.temperature > 0

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Generation:
        known = {k: options[k] for k in cls.__dataclass_fields__ if k in options}
        return cls(**known)


def generate(
    name: str, texts: Sequence[str], n: int, seed: int, gen: Generation, prefix: str = ""
) -> list[list[str]]:
    """`n` outputs for each text, in batches; seeded per batch."""
    import torch

    tokenizer, model = load_seq2seq(name, gen.device)
    out: list[list[str]] = []
    for start in range(0, len(texts), gen.batch_size):
        chunk = [prefix + t for t in texts[start : start + gen.batch_size]]
        torch.manual_seed(seed + start)
        batch = tokenizer(
            chunk, return_tensors="pt", padding=True, truncation=True, max_length=512
        ).to(model.device)
        kwargs: dict[str, Any] = {"max_new_tokens": gen.max_new_tokens, "num_return_sequences": n}
        if gen.sampling:
            kwargs.update(
                do_sample=True,
                temperature=gen.temperature,
                top_p=gen.top_p,
                num_beams=max(1, gen.num_beams),
            )
        else:
            kwargs.update(do_sample=False, num_beams=max(n, gen.num_beams))
        with torch.no_grad():
            ids = model.generate(**batch, **kwargs)
        decoded = tokenizer.batch_decode(ids, skip_special_tokens=True)
        for i in range(len(chunk)):
            out.append([d.strip() for d in decoded[i * n : (i + 1) * n]])
    return out


class _ModelMethod:
    """Shared driver: the augment runner hands (source id, variant) keys; we generate every
    variant of a source text in one `num_return_sequences` call."""

    name = "model"

    def __init__(self, config: AugmentConfig) -> None:
        self.options = dict(config.options)
        self.gen = Generation.from_options(self.options)

    def _variants(
        self, texts: Sequence[str], keys: Sequence[tuple[int, int]], seed: int
    ) -> list[tuple[str | None, str]]:
        order: dict[str, int] = {}
        for text in texts:
            order.setdefault(text, len(order))
        n = max(v for _, v in keys) + 1 if keys else 1
        uniques = list(order)
        outputs = self.produce(uniques, n, seed)
        label = self.label()
        return [
            (outputs[order[t]][v] if v < len(outputs[order[t]]) else None, label)
            for t, (_, v) in zip(texts, keys, strict=True)
        ]

    def generate(
        self, texts: Sequence[str], keys: Sequence[tuple[int, int]], seed: int
    ) -> list[tuple[str | None, str]]:
        return self._variants(texts, keys, seed)

    def produce(self, texts: list[str], n: int, seed: int) -> list[list[str]]:
        raise NotImplementedError

    def label(self) -> str:
        raise NotImplementedError

    def notes(self) -> list[str]:
        return [f"device: {pick_device(self.gen.device)}"]


class Paraphrase(_ModelMethod):
    name = "paraphrase"

    def __init__(self, config: AugmentConfig) -> None:
        super().__init__(config)
        self.model = str(self.options.get("model", ""))
        self.prefix = str(self.options.get("prefix", ""))

    def produce(self, texts: list[str], n: int, seed: int) -> list[list[str]]:
        return generate(self.model, texts, n, seed, self.gen, self.prefix)

    def label(self) -> str:
        return f"paraphrase:{self.model}"

    def model_name(self) -> str:
        return self.model


class BackTranslate(_ModelMethod):
    name = "backtranslate"

    def __init__(self, config: AugmentConfig) -> None:
        super().__init__(config)
        self.model = str(self.options.get("model", ""))
        self.pivot_model = str(self.options.get("pivot_model", ""))
        if not self.pivot_model:
            raise StepError(
                "Back-translation needs two models: --model (to the pivot language) and --pivot-model (back)."
            )

    def produce(self, texts: list[str], n: int, seed: int) -> list[list[str]]:
        # one pivot translation per text (beam or sampled), then n variants back
        pivot = [v[0] for v in generate(self.model, texts, 1, seed, self.gen)]
        return generate(self.pivot_model, pivot, n, seed + 7919, self.gen)

    def label(self) -> str:
        return f"backtranslate:{self.model}>{self.pivot_model}"

    def model_name(self) -> str:
        return f"{self.model} -> {self.pivot_model}"


@register_method("paraphrase")
def _paraphrase(config: AugmentConfig) -> AugmentMethod:
    return Paraphrase(config)  # type: ignore[return-value]


@register_method("backtranslate")
def _backtranslate(config: AugmentConfig) -> AugmentMethod:
    return BackTranslate(config)  # type: ignore[return-value]
