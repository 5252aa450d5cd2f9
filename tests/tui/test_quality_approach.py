from __future__ import annotations

import json

from textual.widgets import DataTable, Static

from studio.tui.app import StudioApp


def _data(tmp_path, n: int = 40):  # noqa: ANN001, ANN202
    path = tmp_path / "d.jsonl"
    rows = [
        {
            "text": f"row {i} says {'good' if i % 2 else 'bad'} things",
            "label": "pos" if i % 2 else "neg",
        }
        for i in range(n)
    ]
    rows.append(dict(rows[0]))
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


async def _settle(app, pilot) -> None:  # noqa: ANN001
    for _ in range(5):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def test_quality_pane_measures_and_recomputes_after_a_step(tmp_path) -> None:  # noqa: ANN001
    app = StudioApp([str(_data(tmp_path))])
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app, pilot)
        pane = app.query_one("#pane-quality")
        app.query_one("#tabs").active = "tab-quality"
        await _settle(app, pilot)
        assert pane.report is not None
        assert pane.report.values["rows"] == 41
        assert pane.report.figure("duplicate_rate").ids == [40]
        table = pane.query_one("#quality-figures", DataTable)
        assert table.row_count >= 10
        from studio.engine.steps.rows import DropRows
        from studio.tui.messages import StepRequested

        app.post_message(StepRequested(DropRows(ids=(40,))))
        await _settle(app, pilot)
        assert pane.report.values["rows"] == 40
        assert pane.report.figure("duplicate_rate").value == 0


async def test_approach_panel_recommends_from_the_data(tmp_path) -> None:  # noqa: ANN001
    app = StudioApp([str(_data(tmp_path))])
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        app.query_one("#tabs").active = "tab-approach"
        await _settle(app, pilot)
        pane = app.query_one("#pane-approach")
        assert pane.figures is not None and pane.figures.labelled_rows == 41
        text = _plain(pane.query_one("#approach-recommendation", Static))
        assert "Prompt engineering" in text and "41 labelled rows" in text
        estimator = pane.query_one("#approach-estimator", Static)
        assert "QLoRA (4-bit)" in _plain(estimator)


def _plain(widget: Static) -> str:
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(widget.content)
    return console.export_text()


async def test_enter_on_a_figure_opens_its_rows_in_browse(tmp_path) -> None:  # noqa: ANN001
    app = StudioApp([str(_data(tmp_path))])
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app, pilot)
        app.query_one("#tabs").active = "tab-quality"
        await _settle(app, pilot)
        pane = app.query_one("#pane-quality")
        table = pane.query_one("#quality-figures", DataTable)
        row = pane._row_keys.index("duplicate_rate")
        table.focus()
        table.move_cursor(row=row)
        await pilot.press("enter")
        await _settle(app, pilot)
        assert app.query_one("#tabs").active == "tab-browse"
        browse = app.query_one("#pane-browse")
        assert browse.table.row_count == 1
        assert browse.table.cursor_id == 40
