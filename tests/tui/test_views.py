"""Pilot tests of the Steps, Problems, Removed and Help views."""

from __future__ import annotations

import json
from pathlib import Path

from textual.binding import Binding
from textual.widgets import DataTable, Static

from studio.engine.steps.rows import DropRows
from studio.tui import panes
from studio.tui.app import StudioApp
from studio.tui.messages import StepRequested
from studio.tui.panes.base import Pane
from studio.tui.screens.help import HelpScreen, collect_keys
from studio.tui.screens.problems import ProblemsScreen
from studio.tui.screens.removed import RemovedScreen
from studio.tui.screens.steps import StepsScreen
from studio.tui.widgets.step_list import StepList

ROWS = [{"text": f"row {i}", "label": "ab"[i % 2]} for i in range(6)]


def write_jsonl(path: Path, rows: list[dict] = ROWS, broken_after: int | None = None) -> Path:
    lines = [json.dumps(r) for r in rows]
    if broken_after is not None:
        lines.insert(broken_after, '{"text": "cut off", "label"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def settle(app: StudioApp, pilot) -> None:  # noqa: ANN001
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


def table_text(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_steps_view_lists_steps_and_undoes(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.post_message(StepRequested(DropRows(ids=(0, 1), reason="dup")))
        await settle(app, pilot)
        app.post_message(StepRequested(DropRows(ids=(5,), reason="short")))
        await settle(app, pilot)
        await pilot.press("f2")
        await settle(app, pilot)
        assert isinstance(app.screen, StepsScreen)
        rows = table_text(app.screen.query_one(StepList))
        assert rows == [
            ["0", "open data.jsonl", "", "6", ""],
            ["1", "drop 2 marked rows (dup)", "6", "4", "2"],
            ["2", "drop 1 marked row (short)", "4", "3", "1"],
        ]
        await pilot.press("u")
        await settle(app, pilot)
        assert app.workspace.rows == 4
        assert app.screen.query_one(StepList).row_count == 2
        await pilot.press("r")
        await settle(app, pilot)
        assert app.screen.query_one(StepList).row_count == 3
        await pilot.press("w")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert (tmp_path / "data.recipe.json").exists()


async def test_problems_view_shows_broken_lines(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "broken.jsonl", broken_after=2)
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.workspace.rows == 6
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, ProblemsScreen)
        rows = table_text(app.screen.query_one(DataTable))
        assert len(rows) == 1
        assert rows[0][0] == "broken.jsonl" and rows[0][1] == "3"
        assert "malformed JSON" in rows[0][2]
        title = str(app.screen.query_one("#problems-title", Static).content)
        assert "1 line skipped" in title
        await pilot.press("f3")
        await pilot.pause()
        assert not isinstance(app.screen, ProblemsScreen)


async def test_removed_view_puts_rows_back(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.post_message(StepRequested(DropRows(ids=(1, 3, 4), reason="too short")))
        await settle(app, pilot)
        assert app.workspace.rows == 3
        await pilot.press("f4")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RemovedScreen)
        rows = table_text(screen.query_one(DataTable))
        assert [r[1:3] for r in rows] == [
            ["data.jsonl:2", "too short"],
            ["data.jsonl:4", "too short"],
            ["data.jsonl:5", "too short"],
        ]
        assert rows[0][3] == "row 1"
        # mark the first and the third row, put both back
        await pilot.press("space", "down", "space")
        await pilot.pause()
        assert screen.marked == {1, 4}
        await pilot.press("p")
        await settle(app, pilot)
        assert app.workspace.rows == 5
        assert app.workspace.restored == {0: (1, 4)}
        assert table_text(screen.query_one(DataTable))[0][1] == "data.jsonl:4"
        # Enter puts back the current row
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.workspace.rows == 6
        assert "No rows removed" in str(screen.query_one("#removed-step", Static).content)


class ExtraPane(Pane):
    TAB_ID = "extra"
    TITLE = "Extra"
    BINDINGS = [Binding("x", "explode", "Explode", tooltip="Explode the extra rows")]


async def test_help_lists_app_view_and_pane_keys(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(panes, "PANES", [*panes.PANES, ("extra", "Extra", f"{__name__}:ExtraPane")])
    path = write_jsonl(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        entries = collect_keys(app)
        by_text = {(e.where, e.keys, e.description) for e in entries}
        assert ("Everywhere", "^z", "Undo the last step") in by_text
        assert ("Everywhere", "F2", "Show the steps (the recipe) with rows in and out") in by_text
        assert ("Everywhere", "1", "Switch to the Browse tab") in by_text
        assert ("Removed view", "Space", "Mark or unmark the current row") in by_text
        assert ("Extra tab", "x", "Explode the extra rows") in by_text
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = table_text(app.screen.query_one(DataTable))
        assert [" ^s", "Save the steps as a recipe file"] in shown
        assert ["Extra tab", ""] in shown
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


class RecordingPane(Pane):
    TAB_ID = "recording"
    TITLE = "Recording"

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.seen: list[int] = []

    def workspace_changed(self) -> None:
        if self.workspace is not None:
            self.seen.append(self.workspace.rows)


async def test_panes_hear_changes_made_from_a_view(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import studio.tui.app as app_module

    monkeypatch.setattr(
        app_module, "PANES", [("recording", "Recording", f"{__name__}:RecordingPane")]
    )
    path = write_jsonl(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(RecordingPane)
        app.post_message(StepRequested(DropRows(ids=(0,))))
        await settle(app, pilot)
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press("u")
        await settle(app, pilot)
        assert isinstance(app.screen, StepsScreen)
        assert pane.seen == [6, 5, 6]


async def test_palette_offers_the_keys_of_the_current_view(tmp_path: Path) -> None:
    from studio.tui.commands import palette_commands

    path = write_jsonl(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.post_message(StepRequested(DropRows(ids=(0,))))
        await settle(app, pilot)
        await pilot.press("f2")
        await pilot.pause()
        names = [c.name for c in palette_commands(app, app.screen)]
        assert "steps: Undo" in names and "recipe: Save" in names and "theme: Light" in names
        assert not any("Focus Next" in n for n in names)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"steps: undo")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.workspace.steps == []
