"""Rule-based augmentation (EDA, Wei & Zou 2019) with no model: random swap, random deletion,
random insertion of words from the row, and synonym replacement from WordNet when nltk's
WordNet corpus is installed (otherwise that operation is skipped, with a note).

Every variant is a pure function of (text, seed, source id, variant index), so replays repeat.
Whitespace between words is kept (newlines in instructions survive a swap).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from studio.engine.steps.clean import ENGLISH_STOPWORDS

OPS = ("swap", "delete", "insert", "synonym")
NO_WORDNET_NOTE = (
    "synonym replacement skipped: nltk's WordNet corpus is not installed "
    "(python -m nltk.downloader wordnet)"
)
_WORD = re.compile(r"\S+")
_ALPHA = re.compile(r"^[A-Za-z][A-Za-z'-]*$")
# words synonym replacement leaves alone: the same built-in list as stop-word removal
_STOP = ENGLISH_STOPWORDS
_MASK = (1 << 64) - 1

Synonyms = Callable[[str], Sequence[str]]
Rng = Any  # random.Random or SplitMix: random(), randrange(n), shuffle(list)


class SplitMix:
    """A small, fast seeded generator (splitmix64): seeding `random.Random` costs more than
    making a whole variant. Same methods as `random.Random` for what EDA uses."""

    __slots__ = ("state",)

    def __init__(self, seed: int) -> None:
        self.state = seed & _MASK

    def _next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def random(self) -> float:
        return (self._next() >> 11) * (1.0 / 9007199254740992.0)

    def randrange(self, n: int) -> int:
        return (self._next() * n) >> 64

    def shuffle(self, items: list) -> None:  # type: ignore[type-arg]
        for i in range(len(items) - 1, 0, -1):
            j = self.randrange(i + 1)
            items[i], items[j] = items[j], items[i]


def variant_seed(seed: int, source_id: int, variant: int) -> int:
    """A 64-bit seed for one variant of one row (splitmix64 of the three numbers)."""
    x = (seed * 0x9E3779B97F4A7C15 + source_id * 0xBF58476D1CE4E5B9 + variant + 1) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


@lru_cache(maxsize=1)
def _wordnet():  # noqa: ANN202
    try:
        from nltk.corpus import wordnet

        wordnet.ensure_loaded()
        wordnet.synsets("good")
        return wordnet
    except (ImportError, LookupError, OSError):
        return None


def wordnet_available() -> bool:
    return _wordnet() is not None


@lru_cache(maxsize=65536)
def wordnet_synonyms(word: str) -> tuple[str, ...]:
    wn = _wordnet()
    if wn is None:
        return ()
    lower = word.lower()
    found: dict[str, None] = {}
    for synset in wn.synsets(lower):
        for lemma in synset.lemmas():
            name = lemma.name().replace("_", " ")
            if name.lower() != lower and _ALPHA.match(name.replace(" ", "")):
                found[name] = None
    return tuple(found)


def _split(text: str) -> tuple[list[str], list[str]]:
    """Words and the separators around them: len(seps) == len(words) + 1."""
    words = _WORD.findall(text)
    seps = _WORD.split(text)
    return words, seps


def _join(words: list[str], seps: list[str]) -> str:
    out = [None] * (2 * len(words) + 1)
    out[0::2] = seps
    out[1::2] = words
    return "".join(out)  # type: ignore[arg-type]


def changes(n_words: int, alpha: float) -> int:
    return max(1, int(round(alpha * n_words)))


def random_swap(text: str, rng: Rng, alpha: float) -> str | None:
    words, seps = _split(text)
    if len(words) < 2:
        return None
    for _ in range(changes(len(words), alpha)):
        i = rng.randrange(len(words))
        j = rng.randrange(len(words) - 1)
        j += j >= i
        words[i], words[j] = words[j], words[i]
    return _join(words, seps)


def random_deletion(text: str, rng: Rng, alpha: float) -> str | None:
    words, seps = _split(text)
    if len(words) < 2:
        return None
    # delete round(alpha * n) distinct words (at least one, never all)
    k = min(changes(len(words), alpha), len(words) - 1)
    gone: set[int] = set()
    while len(gone) < k:
        gone.add(rng.randrange(len(words)))
    kept_words: list[str] = []
    kept_seps = [seps[0]]
    for i, word in enumerate(words):
        if i not in gone:
            kept_words.append(word)
            kept_seps.append(seps[i + 1])  # drop the separator after each deleted word
    kept_seps[-1] = seps[-1]  # keep the text's trailing whitespace
    return _join(kept_words, kept_seps)


def random_insertion(text: str, rng: Rng, alpha: float) -> str | None:
    words, seps = _split(text)
    if not words:
        return None
    for _ in range(changes(len(words), alpha)):
        word = words[rng.randrange(len(words))]
        at = rng.randrange(len(words) + 1)
        words.insert(at, word)
        if at == len(words) - 1:
            # appended after the last word: keep the trailing whitespace last
            seps.insert(at, " ")
        else:
            seps.insert(at + 1, " ")
    return _join(words, seps)


def synonym_replacement(
    text: str, rng: Rng, alpha: float, synonyms: Synonyms | None = None
) -> str | None:
    lookup = synonyms or wordnet_synonyms
    words, seps = _split(text)
    candidates = [
        i for i, w in enumerate(words) if _ALPHA.match(w) and w.lower() not in _STOP and lookup(w)
    ]
    if not candidates:
        return None
    rng.shuffle(candidates)
    for i in candidates[: changes(len(words), alpha)]:
        options = list(lookup(words[i]))
        choice = options[rng.randrange(len(options))]
        if words[i][:1].isupper():
            choice = choice[:1].upper() + choice[1:]
        words[i] = choice
    return _join(words, seps)


@dataclass(frozen=True)
class Eda:
    """The EDA method: each variant applies one operation picked at random from `ops`."""

    ops: tuple[str, ...] = OPS
    alpha: float = 0.1
    synonyms: Synonyms | None = None
    """A synonym lookup (tests pass a dict's get); default: WordNet when installed."""

    name = "eda"

    def active_ops(self) -> tuple[str, ...]:
        unknown = [o for o in self.ops if o not in OPS]
        if unknown:
            from studio.engine.errors import StepError

            raise StepError(f"Unknown EDA operation {unknown[0]!r}; use {', '.join(OPS)}.")
        if self.synonyms is None and not wordnet_available():
            return tuple(o for o in self.ops if o != "synonym")
        return tuple(self.ops)

    def notes(self) -> list[str]:
        if "synonym" in self.ops and self.synonyms is None and not wordnet_available():
            return [NO_WORDNET_NOTE]
        return []

    def variant(self, text: str, seed: int, source_id: int, index: int) -> tuple[str | None, str]:
        """One variant of `text` and the operation that made it (None: no change possible)."""
        return self._variant(self.active_ops(), text, seed, source_id, index)

    def _variant(
        self, ops: tuple[str, ...], text: str, seed: int, source_id: int, index: int
    ) -> tuple[str | None, str]:
        if not ops or not text:
            return None, "eda"
        rng = SplitMix(variant_seed(seed, source_id, index))
        op = ops[rng.randrange(len(ops))]
        if op == "swap":
            out = random_swap(text, rng, self.alpha)
        elif op == "delete":
            out = random_deletion(text, rng, self.alpha)
        elif op == "insert":
            out = random_insertion(text, rng, self.alpha)
        else:
            out = synonym_replacement(text, rng, self.alpha, self.synonyms)
        return out, f"eda.{op}"

    def generate(
        self, texts: Sequence[str], keys: Sequence[tuple[int, int]], seed: int
    ) -> list[tuple[str | None, str]]:
        """Variants for a batch: `keys[i]` = (source id, variant index) of `texts[i]`."""
        ops = self.active_ops()
        return [
            self._variant(ops, t, seed, sid, index)
            for t, (sid, index) in zip(texts, keys, strict=True)
        ]
