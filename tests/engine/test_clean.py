from __future__ import annotations

import json

import polars as pl
import pytest

from studio.engine.errors import StepError
from studio.engine.io import load_dataset
from studio.engine.recipe import Recipe, apply_step, run_recipe
from studio.engine.steps.base import ID
from studio.engine.steps.clean import (
    CleanControl,
    CleanEmptyMarkers,
    CleanHtml,
    CleanUnicode,
    CleanWhitespace,
    DropEmpty,
    Lowercase,
    RemoveStopwords,
    Stem,
    build_ops,
)
from studio.engine.workspace import Workspace

FAMILY = "👨\u200d👩\u200d👧"  # emoji joined by ZWJ: must survive every op except stemming


def run(step, texts: list[str | None], **extra) -> pl.DataFrame:  # noqa: ANN001, ANN003
    data = {ID: pl.Series(range(len(texts)), dtype=pl.UInt64), "text": texts, **extra}
    out, _ = apply_step(pl.DataFrame(data).lazy(), step)
    return out


def test_whitespace_crlf_tabs_and_blank_lines() -> None:
    texts = ["  a \t b\r\n\r\n\r\n\r\nc  ", f"{FAMILY}  ok\r", None]
    out = run(CleanWhitespace(), texts)["text"].to_list()
    assert out == ["a b\n\nc", f"{FAMILY} ok", None]
    flat = run(CleanWhitespace(newlines=False), texts)["text"].to_list()
    assert flat[0] == "a b c"


def test_unicode_forms_with_combining_marks() -> None:
    texts = ["Cafe\u0301", "ｆｕｌｌ ﬁ", FAMILY]
    assert run(CleanUnicode(form="NFC"), texts)["text"].to_list() == ["Café", "ｆｕｌｌ ﬁ", FAMILY]
    assert run(CleanUnicode(form="NFKC"), texts)["text"].to_list() == ["Café", "full fi", FAMILY]
    with pytest.raises(StepError):
        run(CleanUnicode(form="XYZ"), texts)


def test_control_characters_keep_emoji_joiners() -> None:
    texts = ["a\x00b\x07c\td\ne\r\n", "zero\u200bwidth\ufeff soft\u00adhyphen", FAMILY]
    out = run(CleanControl(), texts)["text"].to_list()
    assert out == ["abc\td\ne\r\n", "zerowidth softhyphen", FAMILY]


def test_html_tags_and_entities() -> None:
    texts = [
        "<p>Fish &amp; chips&nbsp;&#233;&#x41;</p><br/>next",
        "keep <noinput> and a < b > c",
        "<script>alert('x')</script><!-- note -->Hi <b class='x'>there</b>",
        f"{FAMILY} &lt;tag&gt;",
    ]
    out = run(CleanHtml(), texts)["text"].to_list()
    assert out == [
        "Fish & chips\xa0éA\n\nnext",
        "keep <noinput> and a < b > c",
        "Hi there",
        f"{FAMILY} <tag>",
    ]


def test_empty_markers_and_drop_empty() -> None:
    texts = ["N/A", " <noinput> ", "No input", "", "none", "real", None, "  \r\n "]
    out = run(CleanEmptyMarkers(), texts)["text"].to_list()
    assert out == ["", "", "", "", "", "real", None, ""]  # whitespace only counts as empty
    nulls = run(CleanEmptyMarkers(to_null=True, output="t2"), texts)
    assert nulls["t2"].null_count() == 7 and nulls["text"].to_list() == texts
    data = {ID: pl.Series(range(len(out)), dtype=pl.UInt64), "text": out}
    kept, result = apply_step(pl.DataFrame(data).lazy(), DropEmpty(columns=("text",)))
    assert kept["text"].to_list() == ["real"]
    assert set(result.removed["reason"]) == {"empty text"}


def test_lowercase_into_a_new_column() -> None:
    out = run(Lowercase(output="lower"), ["ÉCOLE Straße", FAMILY])
    assert out["lower"].to_list() == ["école straße", FAMILY]
    assert out["text"].to_list() == ["ÉCOLE Straße", FAMILY]


def test_stemming_with_snowball() -> None:
    out = run(Stem(), ["The runners were running quickly!", "Cats' toys", None])
    assert out["text"].to_list() == ["the runner were run quick", "cat toy", None]
    with pytest.raises(StepError):
        run(Stem(language="klingon"), ["x"])


def test_stopwords_builtin_and_file(tmp_path) -> None:  # noqa: ANN001
    texts = ["The cat, and the dog.", f"It is {FAMILY}"]
    assert run(RemoveStopwords(), texts)["text"].to_list() == ["cat, dog.", FAMILY]
    words = tmp_path / "stop.txt"
    words.write_text("# mine\ncat\ndog\n", encoding="utf-8")
    out = run(RemoveStopwords(path=str(words)), texts)["text"].to_list()
    assert out == ["The and the", f"It is {FAMILY}"]
    with pytest.raises(StepError):
        run(RemoveStopwords(path=str(tmp_path / "missing.txt")), texts)


def test_text_steps_need_a_text_column() -> None:
    data = pl.DataFrame({ID: pl.Series([0], dtype=pl.UInt64), "n": [1]}).lazy()
    with pytest.raises(StepError):
        apply_step(data, Lowercase(column="n"))
    chats = pl.DataFrame(
        {ID: pl.Series([0], dtype=pl.UInt64), "messages": [[{"role": "user", "content": "Hi"}]]}
    ).lazy()
    with pytest.raises(StepError, match="holds a list .conversations., not text"):
        apply_step(chats, Lowercase(column="messages"))
    with pytest.raises(StepError):
        build_ops("strip,unknown", "text")


def test_cleaning_replays_headless(tmp_path) -> None:  # noqa: ANN001
    rows = ["  <b>Hi</b> &amp; there  ", "N/A", "Cafe\u0301\r\n", ""]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in rows), encoding="utf-8")
    dataset = load_dataset(path)
    ws = Workspace(dataset)
    for step in build_ops("html,strip,nfc,control,empty,drop_empty,lower,stopwords,stem", "text"):
        ws.apply(step)
    live = ws.frame.collect()
    assert live["text"].to_list() == ["hi", "café"]
    ws.recipe().save(tmp_path / "r.recipe.json")
    replayed, _ = run_recipe(load_dataset(path).frame, Recipe.load(tmp_path / "r.recipe.json"))
    assert replayed.equals(live)


def test_ops_into_a_new_column_chain() -> None:
    # each op after the first refines the new column, so all of them show in it
    frame = pl.DataFrame(
        {ID: pl.Series([0], dtype=pl.UInt64), "text": ["<p>The Cats &amp; THE Dogs</p>"]}
    ).lazy()
    for step in build_ops("html,lower,stopwords", "text", "clean"):
        out, _ = apply_step(frame, step)
        frame = out.lazy()
    assert out["clean"].to_list() == ["cats & dogs"]
    assert out["text"].to_list() == ["<p>The Cats &amp; THE Dogs</p>"]
    steps = build_ops("strip,drop_empty", "text", "clean")
    assert [s.describe() for s in steps] == [
        "strip and collapse whitespace in text into clean",
        "drop rows with an empty clean",
    ]


def test_drop_empty_first_into_a_new_column_checks_the_text_as_it_stands() -> None:
    # the new column does not exist yet: drop_empty reads the source column, and the ops after
    # it write the new column from it
    frame = pl.DataFrame(
        {ID: pl.Series([0, 1, 2], dtype=pl.UInt64), "text": ["  Hi  there ", " ", None]}
    ).lazy()
    steps = build_ops("drop_empty,strip", "text", "clean")
    for step in steps:
        out, _ = apply_step(frame, step)
        frame = out.lazy()
    assert out.select(ID, "clean").rows() == [(0, "Hi there")]
    assert steps[0].describe() == "drop rows with an empty text"
