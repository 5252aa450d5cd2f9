"""Likely label errors in the Quality pane: relabel (to the predicted label or a typed one) or
drop a suspect, one at a time or the marked ones; each is a step that undoes and replays."""

from __future__ import annotations

import json
import random

import polars as pl
from textual.widgets import Input

from studio.cli import main
from studio.engine.steps.base import ID
from studio.engine.steps.edit import EditCell
from studio.engine.steps.relabel import EditCells
from studio.engine.steps.rows import DropRows
from studio.tui.app import StudioApp
from tests.tui.settle import settle

POS = [
    "great",
    "wonderful",
    "excellent",
    "lovely",
    "superb",
    "fantastic",
    "delightful",
    "brilliant",
]
NEG = ["awful", "terrible", "horrible", "dreadful", "poor", "nasty", "broken", "useless"]
NOUNS = ["film", "phone", "meal", "hotel", "book", "chair", "game", "song"]
FLIPPED = (10, 27)  # planted label flips the classifier ranks first


def noisy(tmp_path):  # noqa: ANN001, ANN201
    rng = random.Random(0)
    rows = []
    for i in range(60):
        good = i % 2 == 0
        w = rng.sample(POS if good else NEG, 3)
        rows.append(
            {
                "text": f"the {NOUNS[i % 8]} was {w[0]} and {w[1]}, really {w[2]}",
                "label": "pos" if good else "neg",
            }
        )
    for i in FLIPPED:
        rows[i]["label"] = "neg" if rows[i]["label"] == "pos" else "pos"
    path = tmp_path / "noisy.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def label_of(app, row: int) -> str:  # noqa: ANN001
    df = app.workspace.frame.filter(pl.col(ID) == row).collect()
    return df["label"].item() if df.height else ""


async def open_quality(app, pilot):  # noqa: ANN001, ANN201
    await settle(app, pilot)
    app.query_one("#tabs").active = "tab-quality"
    await settle(app, pilot)
    pane = app.query_one("#pane-quality")
    table = pane.query_one("#quality-suspects")
    table.focus()
    await pilot.pause()
    return pane, table


def suspect_rows(pane) -> list[int]:  # noqa: ANN001
    return [r["row"] for r in pane.suspects]


async def test_relabel_to_predicted_then_undo(tmp_path) -> None:  # noqa: ANN001
    app = StudioApp([str(noisy(tmp_path))])
    async with app.run_test(size=(80, 24)) as pilot:
        pane, table = await open_quality(app, pilot)
        assert sorted(suspect_rows(pane)[:2]) == list(FLIPPED)
        table.move_cursor(row=suspect_rows(pane).index(10))
        row = pane.suspects[suspect_rows(pane).index(10)]
        assert (row["given"], row["predicted"]) == ("neg", "pos")
        assert table.row_count == len(pane.suspects)
        await pilot.press("a")
        await settle(app, pilot)
        assert label_of(app, 10) == "pos"
        step = app.workspace.recipe().steps[-1]
        assert step == EditCell(id=10, column="label", old="neg", new="pos")
        assert 10 not in suspect_rows(pane)
        await pilot.press("ctrl+z")
        await settle(app, pilot)
        assert label_of(app, 10) == "neg"
        assert app.workspace.recipe().steps == []
        assert 10 in suspect_rows(pane)


async def test_drop_a_suspect_with_its_reason(tmp_path) -> None:  # noqa: ANN001
    app = StudioApp([str(noisy(tmp_path))])
    async with app.run_test(size=(80, 24)) as pilot:
        pane, table = await open_quality(app, pilot)
        table.move_cursor(row=suspect_rows(pane).index(27))
        await pilot.press("d")
        await settle(app, pilot)
        assert label_of(app, 27) == ""
        assert app.workspace.rows == 59
        assert app.workspace.recipe().steps[-1] == DropRows(ids=(27,), reason="likely label error")
        removed = app.workspace.removed()
        assert removed.filter(pl.col(ID) == 27).height == 1
        assert 27 not in suspect_rows(pane)


async def test_relabel_to_a_typed_label(tmp_path) -> None:  # noqa: ANN001
    app = StudioApp([str(noisy(tmp_path))])
    async with app.run_test(size=(80, 24)) as pilot:
        pane, table = await open_quality(app, pilot)
        table.move_cursor(row=suspect_rows(pane).index(10))
        await pilot.press("e")
        await pilot.pause()
        field = app.screen.query_one("#relabel-value", Input)
        assert field.value == "pos"  # prefilled with the predicted label
        field.value = "mixed"
        await pilot.press("enter")
        await settle(app, pilot)
        assert label_of(app, 10) == "mixed"


async def test_marked_suspects_in_bulk_and_the_recipe_replays_headless(tmp_path) -> None:  # noqa: ANN001
    path = noisy(tmp_path)
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        pane, table = await open_quality(app, pilot)
        await pilot.press("A")  # nothing marked yet: no step
        await settle(app, pilot)
        assert app.workspace.recipe().steps == []
        await pilot.press("space", "space")  # marks the first two, the cursor moves down
        assert pane.marked == set(FLIPPED)
        order = tuple(suspect_rows(pane)[:2])
        await pilot.press("A")
        await settle(app, pilot)
        assert (label_of(app, 10), label_of(app, 27)) == ("pos", "neg")
        step = app.workspace.recipe().steps[-1]
        given = {10: "neg", 27: "pos"}
        assert step == EditCells(
            column="label",
            ids=order,
            old=tuple(given[i] for i in order),
            new=tuple("pos" if given[i] == "neg" else "neg" for i in order),
            note="likely label errors",
        )
        assert pane.marked == set()
        if pane.suspects:  # whatever is left can be dropped in bulk too
            table.move_cursor(row=0)
            await pilot.press("space", "D")
            await settle(app, pilot)
        recipe = tmp_path / "fix.recipe.json"
        app.workspace.recipe().save(recipe)
        expected = app.workspace.frame.collect()
    out = tmp_path / "out.jsonl"
    assert main(["run", str(recipe), str(path), "-o", str(out)]) == 0
    replayed = pl.read_ndjson(out)
    assert replayed.select("text", "label").equals(expected.select("text", "label"))
