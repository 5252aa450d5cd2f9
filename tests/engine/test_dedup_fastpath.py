"""The fast paths of the dedup kernels give the same answers as the plain definitions."""

from __future__ import annotations

import itertools
import unicodedata
from unittest import mock

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.engine.dedup import text as text_module
from studio.engine.dedup.clusters import labels_from_keys, labels_from_pairs
from studio.engine.dedup.exact import normalized_keys, reference_normalized_keys
from studio.engine.dedup.minhash import MinHashConfig, _densify, candidate_pairs, signatures
from studio.engine.dedup.text import (
    Normalization,
    _byte_weights,
    cheap_keys,
    normalize,
    run_parallel,
)

OPTIONS = [Normalization(*flags) for flags in itertools.product([True, False], repeat=4)]

TRICKY = [
    "Hello, World!",
    "hello world",
    "HELLO   world!!!",
    "hello\r\nworld",
    "hello\tworld\n",
    "Fish &amp; chips",
    "fish amp chips",
    "Fish & chips",
    "café crème",
    "cafe\u0301 cre\u0300me",  # combining marks: NFKC composes them
    "CAFÉ CRÈME",
    "ﬁne ﬁsh",  # ligature: NFKC gives "fine fish"
    "fine fish",
    "Ｆｕｌｌ ｗｉｄｔｈ",  # fullwidth: NFKC gives ASCII
    "full width",
    "“quoted” — text…",
    '"quoted" - text...',
    "quoted text",
    "party 🎉🎉",
    "PARTY 🎉🎉",
    "party 🎉",
    "a\u00a0b",  # no-break space
    "a b",
    "ab",
    "",
    "   ",
    "!!!",
    "tab\x00null\x1fctl",
    "Straße",
    "STRASSE",
    "ΣΊΣΥΦΟΣ",
    "σίσυφος",
]


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(labels_from_keys(a), labels_from_keys(b)))


def test_fast_keys_equal_the_reference_on_tricky_text() -> None:
    series = pl.Series(TRICKY * 3 + [None])
    for options in OPTIONS:
        fast = normalized_keys(series, options)
        reference = reference_normalized_keys(series, options)
        assert same_partition(fast, reference), options


def test_fast_keys_group_what_a_person_calls_the_same() -> None:
    keys = normalized_keys(pl.Series(TRICKY))
    index = {text: i for i, text in enumerate(TRICKY)}

    def same(a: str, b: str) -> bool:
        return bool(keys[index[a]] == keys[index[b]])

    assert same("Hello, World!", "hello world") and same("hello\r\nworld", "HELLO   world!!!")
    assert same("café crème", "cafe\u0301 cre\u0300me") and same("ﬁne ﬁsh", "fine fish")
    assert same("Ｆｕｌｌ ｗｉｄｔｈ", "full width") and same("“quoted” — text…", "quoted text")
    assert same("party 🎉🎉", "PARTY 🎉🎉") and not same("party 🎉🎉", "party 🎉")
    assert not same("a b", "ab") and same("a\u00a0b", "a b")


ALPHABET = list("aAbBzZ09 ,.!?-'\"\t\r\n#&;") + [
    "é", "\u0301", "ﬁ", "“", "”", "…", "—", "🎉", "Ａ", "\u00a0", "ß", "Σ", "\x00", "\x7f",
]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=12), min_size=1, max_size=40))
def test_fast_keys_equal_the_reference_property(texts: list[str]) -> None:
    # duplicate some rows with cosmetic changes so that collisions are common
    rows = texts + [t.upper() for t in texts[::2]] + [f" {t}!" for t in texts[::3]]
    series = pl.Series(rows)
    for options in OPTIONS:
        assert same_partition(
            normalized_keys(series, options), reference_normalized_keys(series, options)
        ), options


def ascii_reference(text: str, options: Normalization) -> str:
    """The normalization of an all-ASCII text, written out character by character."""
    out = []
    for ch in text:
        if options.case and "A" <= ch <= "Z":
            ch = ch.lower()
        punct = 33 <= ord(ch) <= 126 and not ch.isalnum()
        if options.whitespace and (ord(ch) <= 32 or (options.punctuation and punct)):
            if out and out[-1] != " ":
                out.append(" ")
            elif not out:
                pass
            continue
        if options.punctuation and punct:
            continue
        out.append(ch)
    result = "".join(out)
    return result.rstrip(" ") if options.whitespace else result


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet=[chr(i) for i in range(128)], max_size=30), max_size=30))
def test_ascii_byte_pass_equals_the_written_out_rule(texts: list[str]) -> None:
    series = pl.Series(texts, dtype=pl.String)
    for options in OPTIONS:
        got = normalize(series, options).to_list()
        assert got == [ascii_reference(t, options) for t in texts], options


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", " ", "  ", "- ", "*", '"', "\t\n", " " * 9, ".,;!?" * 5]),
            st.text(alphabet=ALPHABET, max_size=12),
            st.sampled_from(["", ".", " .", "!!\n", " " * 11]),
        ),
        max_size=40,
    ),
    st.sampled_from([1, 5, 64, 1 << 22]),
)
def test_byte_pass_equals_the_written_out_rule_at_row_edges(
    parts: list[tuple[str, str, str]], budget: int
) -> None:
    # separator runs at the start and end of rows (longer than the vectorised look-ahead),
    # rows of separators only, non-ASCII rows, chunks of a few bytes: the written-out rule
    # applied after the Unicode pass
    texts = [a + b + c for a, b, c in parts] + ["", " " * 40, " " * 30 + "x" + " " * 30]
    series = pl.Series(texts, dtype=pl.String)
    chunks = text_module._doc_chunks
    with mock.patch.object(text_module, "_doc_chunks", lambda offsets: chunks(offsets, budget)):
        for options in OPTIONS:
            unicode = text_module._unicode_pass(series, options).to_list()
            got = normalize(series, options).to_list()
            assert got == [ascii_reference(t, options) for t in unicode], options


def per_byte_cheap_keys(texts: list[str | None], options: Normalization) -> list[int]:
    """The plain definition of `cheap_keys`: the wrapping sum of each byte's weight."""
    weights = [int(w) for w in _byte_weights(options)]
    return [sum(weights[b] for b in (t or "").encode()) % 2**64 for t in texts]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(alphabet=[chr(i) for i in range(128)] + ALPHABET, max_size=9), max_size=50),
    st.integers(0, 7),
    st.sampled_from([1, 2, 3, 7, 64, 1 << 22]),
)
def test_cheap_keys_equal_the_per_byte_sum(texts: list[str], skip: int, budget: int) -> None:
    # odd and even row offsets, empty rows, non-ASCII, a sliced series (non-zero offset) and
    # chunks that start and end mid-pair (small budgets), with or without threads
    rows: list[str | None] = [*texts, None, ""]
    series = pl.Series(rows, dtype=pl.String).slice(min(skip, len(rows)))
    expected_rows = rows[min(skip, len(rows)) :]
    chunks = text_module._doc_chunks
    with mock.patch.object(text_module, "_doc_chunks", lambda offsets: chunks(offsets, budget)):
        for options in (Normalization(), Normalization(False, False, False, False)):
            got = cheap_keys(series, options)
            assert got.dtype == np.uint64
            assert [int(k) for k in got] == per_byte_cheap_keys(expected_rows, options)


def test_cheap_keys_on_a_buffer_that_ends_mid_pair() -> None:
    for texts in (["a"], ["abc", "", "de", "f"], ["", "é", "xyz"], ["🎉", "ab", "c"]):
        for cut in range(len(texts)):
            series = pl.Series(texts).slice(cut)
            for options in OPTIONS:
                assert [int(k) for k in cheap_keys(series, options)] == per_byte_cheap_keys(
                    texts[cut:], options
                )


def test_nfkc_rows_take_the_unicode_pass() -> None:
    text = "Cafe\u0301 ﬁ"
    assert normalize(pl.Series([text])).to_list() == [
        unicodedata.normalize("NFKC", text).lower().replace("ﬁ", "fi")
    ]


def _root(parent: list[int], x: int) -> int:
    while parent[x] != x:
        x = parent[x]
    return x


def test_components_equal_a_plain_union_find() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(1, 40))
        left, right = rng.integers(0, n, 30), rng.integers(0, n, 30)
        parent = list(range(n))

        for a, b in zip(left.tolist(), right.tolist(), strict=True):
            parent[_root(parent, a)] = _root(parent, b)
        roots = np.array([_root(parent, i) for i in range(n)])
        sizes = np.bincount(roots, minlength=n)
        expected = np.where(sizes[roots] > 1, roots, -1)
        got = labels_from_pairs(n, left, right)
        # same partition: equal labels exactly where the expected roots are equal
        for i in range(n):
            assert (got[i] >= 0) == (expected[i] >= 0)
            for j in range(n):
                if got[i] >= 0 and got[j] >= 0:
                    assert (got[i] == got[j]) == (expected[i] == expected[j])


def test_run_parallel_keeps_order_and_raises() -> None:
    assert run_parallel(lambda a, b: a * b, [(i, 2) for i in range(9)], workers=2) == [
        i * 2 for i in range(9)
    ]

    def boom(i: int) -> int:
        if i == 3:
            raise ValueError("three")
        return i

    try:
        run_parallel(boom, [(i,) for i in range(6)], workers=2)
    except ValueError as exc:
        assert str(exc) == "three"
    else:
        raise AssertionError("the error did not reach the caller")


def plain_densify(sig: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """Each empty bin takes the next filled bin, circularly, plus the distance times a step."""
    k, n = sig.shape
    out = sig.copy()
    for c in range(n):
        full = [j for j in range(k) if filled[j, c]]
        if not full:
            continue
        for j in range(k):
            if not filled[j, c]:
                d = next((f - j for f in full if f > j), full[0] + k - j)
                out[j, c] = (int(sig[(j + d) % k, c]) + d * 0x9E3779B1) % 2**32
    return out


def test_densify_equals_the_plain_rule() -> None:
    rng = np.random.default_rng(5)
    for k in (2, 3, 16, 64):
        for share in (0.0, 0.05, 0.5, 1.0):
            filled = rng.random((k, 60)) < share
            sig = rng.integers(0, 2**32 - 1, (k, 60), dtype=np.uint32)
            sig[~filled] = np.uint32(0xFFFFFFFF)
            got = _densify(sig, filled, k)
            assert got.dtype == np.uint32
            assert np.array_equal(got, plain_densify(sig, filled)), (k, share)


def plain_candidate_pairs(keys: np.ndarray, active: np.ndarray) -> set[tuple[int, int]]:
    """Every row sharing a key (any band, active rows only) is paired with the row that holds
    the key first, in (band, row) order."""
    first: dict[int, int] = {}
    pairs = set()
    for band in range(keys.shape[0]):
        for row in np.flatnonzero(active).tolist():
            head = first.setdefault(int(keys[band, row]), row)
            if head != row:
                pairs.add((min(head, row), max(head, row)))
    return pairs


def test_candidate_pairs_equal_the_plain_rule() -> None:
    rng = np.random.default_rng(11)
    for _ in range(40):
        bands, n = int(rng.integers(1, 6)), int(rng.integers(0, 50))
        keys = rng.integers(0, int(rng.integers(1, 80)), (bands, n)).astype(np.uint64)
        active = rng.random(n) < 0.8
        left, right = candidate_pairs(keys, active)
        assert np.all(left < right)
        got = list(zip(left.tolist(), right.tolist(), strict=True))
        assert got == sorted(plain_candidate_pairs(keys, active))


def test_signatures_of_a_batch_equal_each_text_alone() -> None:
    # short texts (fewer words than the n-gram: their words are the shingles), empty texts and
    # long ones mixed in one batch give the signatures each text gets on its own
    texts = ["two words", "", "one", "a longer text with quite a few words in it", "x y", "a b c"]
    norm = normalize(pl.Series(texts))
    for config in (MinHashConfig(), MinHashConfig(ngram=5, num_perm=48)):
        sig, has = signatures(norm, config)
        assert has.tolist() == [bool(t) for t in texts]
        for i in range(len(texts)):
            alone, _ = signatures(norm.slice(i, 1), config)
            assert np.array_equal(sig[:, i], alone[:, 0]), (texts[i], config)
