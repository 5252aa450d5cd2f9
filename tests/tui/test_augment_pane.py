from __future__ import annotations

import json

from textual.widgets import Input, Select, Static

from studio.tui.app import StudioApp
from tests.tiny_models import SENTENCES, tiny_t5
from tests.tui.settle import settle as _settle


def _data(tmp_path):  # noqa: ANN001, ANN202
    path = tmp_path / "d.jsonl"
    rows = [{"text": s, "label": "a" if i < 6 else "b"} for i, s in enumerate(SENTENCES)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


async def test_preview_then_run_a_paraphrase_model(tmp_path) -> None:  # noqa: ANN001
    model = tiny_t5(tmp_path / "t5")
    app = StudioApp([str(_data(tmp_path))])
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        await app.show_tab("augment")
        pane = app.query_one("#pane-augment")
        pane.query_one("#aug-method", Select).value = "paraphrase"
        pane.query_one("#aug-model", Input).value = str(model)
        pane.query_one("#aug-min", Input).value = "0"
        await pilot.pause()
        pane.action_preview()
        await _settle(app, pilot)
        preview = pane.query_one("#aug-preview-table", Static)
        assert "Preview:" in str(preview.content.title)
        assert preview.content.row_count > 0
        assert app.workspace.rows == 8  # preview changes nothing
        pane.action_run()
        await _settle(app, pilot)
        assert app.workspace.rows > 8
        assert app.workspace.steps[-1].name == "augment.model"
        new = app.workspace.frame.collect().filter(
            app.workspace.frame.collect()["aug_method"].is_not_null()
        )
        assert new.height == app.workspace.rows - 8
        await pilot.press("ctrl+z")
        await _settle(app, pilot)
        assert app.workspace.rows == 8


async def test_rule_based_run_for_chosen_classes(tmp_path) -> None:  # noqa: ANN001
    app = StudioApp([str(_data(tmp_path))])
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        await app.show_tab("augment")
        pane = app.query_one("#pane-augment")
        pane.query_one("#aug-scope", Select).value = "classes"
        pane.query_one("#aug-classes", Input).value = "b"
        pane.query_one("#aug-per-row", Input).value = "2"
        await pilot.pause()
        pane.action_run()
        await _settle(app, pilot)
        frame = app.workspace.frame.collect()
        new = frame.filter(frame["aug_method"].is_not_null())
        assert new.height > 0 and set(new["label"].to_list()) == {"b"}
        assert "new rows" in str(pane.query_one("#aug-status", Static).content)


async def test_marked_rows_scope_augments_only_the_rows_marked_in_browse(tmp_path) -> None:  # noqa: ANN001
    app = StudioApp([str(_data(tmp_path))])
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        app.query_one("#pane-browse").table.marked.update({1, 2})
        await app.show_tab("augment")
        pane = app.query_one("#pane-augment")
        pane.query_one("#aug-scope", Select).value = "marked"
        pane.query_one("#aug-per-row", Input).value = "3"
        await pilot.pause()
        pane.action_run()
        await _settle(app, pilot)
        frame = app.workspace.frame.collect()
        new = frame.filter(frame["aug_method"].is_not_null())
        assert new.height > 0
        assert set(new["aug_source"].to_list()) <= {1, 2}


async def test_choosing_both_fields_for_instruction_data(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "inst.jsonl"
    rows = [
        {"instruction": f"please {s} today", "input": "", "output": f"sure, {s} and then some more"}
        for s in SENTENCES
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await app.show_tab("augment")
        pane = app.query_one("#pane-augment")
        field = pane.query_one("#aug-field", Select)
        values = [v for _, v in pane._field_options]
        assert values[:2] == ["", "both"] and field.value == ""  # default: the instruction
        field.value = "both"
        pane.query_one("#aug-per-row", Input).value = "2"
        await pilot.pause()
        pane.action_preview()
        await _settle(app, pilot)
        assert "instruction + output" in str(pane.query_one("#aug-status", Static).content)
        pane.action_run()
        await _settle(app, pilot)
        step = app.workspace.steps[-1]
        assert step.name == "augment.eda" and step.columns == ("instruction", "output")
        frame = app.workspace.frame.collect()
        new = frame.filter(frame["aug_method"].is_not_null())
        assert new.height > 0 and new["aug_model"].is_null().all()
        src = frame.filter(frame["aug_method"].is_null())
        assert not new["instruction"].is_in(src["instruction"].implode()).any()
        assert not new["output"].is_in(src["output"].implode()).any()
