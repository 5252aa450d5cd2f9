"""Pilot tests of the app shell: open, steps with undo/redo keys, save, resume, quit, errors."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from textual.widgets import TabbedContent

from studio.cli import main as cli_main
from studio.engine.errors import StudioError
from studio.engine.journal import Journal
from studio.engine.progress import check_cancelled
from studio.engine.steps.base import Step
from studio.engine.steps.rows import DropColumns, DropRows
from studio.tui.app import StudioApp, default_recipe_path
from studio.tui.messages import StepRequested
from studio.tui.screens.confirm import ConfirmScreen
from studio.tui.screens.error import ErrorScreen
from studio.tui.screens.picker import PickerScreen
from studio.tui.screens.prompt import PathPrompt
from studio.tui.screens.resume import ResumeScreen
from studio.tui.widgets.status_bar import StatusBar
from tests.tui.settle import settle

ROWS = [
    {"text": "alpha", "label": "a"},
    {"text": "beta", "label": "b"},
    {"text": "gamma [bold]x[/]", "label": "a"},
    {"text": "delta", "label": "c"},
]


def write_jsonl(path: Path, rows: list[dict] = ROWS) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def status(app: StudioApp) -> str:
    return app.query_one(StatusBar).text


def notes(app: StudioApp) -> list[tuple[str, str]]:
    return [(n.severity, n.message) for n in app._notifications]


async def test_open_shows_status(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.workspace is not None
        assert app.workspace.rows == 4
        assert status(app) == "data.jsonl · 4 rows · 0 steps"


async def test_step_then_undo_redo_with_keys(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.post_message(StepRequested(DropRows(ids=(0, 2), reason="test")))
        await settle(app, pilot)
        assert app.workspace.rows == 2
        assert "2 rows · 1 step (unsaved)" in status(app)
        await pilot.press("ctrl+z")
        await settle(app, pilot)
        assert app.workspace.rows == 4
        assert app.workspace.steps == []
        await pilot.press("ctrl+y")
        await settle(app, pilot)
        assert app.workspace.rows == 2
        assert [s.describe() for s in app.workspace.steps] == ["drop 2 marked rows (test)"]


async def test_save_recipe_replays_headless(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = write_jsonl(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.post_message(StepRequested(DropRows(ids=(1,), reason="bad")))
        await settle(app, pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PathPrompt)
        await pilot.press("enter")
        await pilot.pause()
        recipe = tmp_path / "data.recipe.json"
        assert recipe.exists()
        assert "(unsaved)" not in status(app)
        expected = app.workspace.frame.collect()
        # saving again asks before overwriting
        app.post_message(StepRequested(DropColumns(columns=("label",))))
        await settle(app, pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert json.loads(recipe.read_text())["steps"][0]["step"] == "rows.drop"
        assert len(json.loads(recipe.read_text())["steps"]) == 1
    out = tmp_path / "out.jsonl"
    assert cli_main(["run", str(recipe), str(path), "-o", str(out)]) == 0
    replayed = pl.read_ndjson(out)
    assert replayed.to_dicts() == expected.drop("_id").to_dicts()


def test_default_recipe_path() -> None:
    assert default_recipe_path(["/x/y/train.jsonl.gz"]) == Path("/x/y/train.recipe.json")


async def test_resume_journal(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.jsonl")
    first = StudioApp([str(path)])
    async with first.run_test(size=(80, 24)) as pilot:
        await settle(first, pilot)
        first.post_message(StepRequested(DropRows(ids=(3,), reason="gone")))
        await settle(first, pilot)
        assert first.workspace.rows == 3
    assert Journal([str(path)]).pending() is not None

    second = StudioApp([str(path)])
    async with second.run_test(size=(80, 24)) as pilot:
        await settle(second, pilot)
        assert isinstance(second.screen, ResumeScreen)
        assert second.screen.question.startswith("Resume 1 step from ")
        await pilot.press("r")
        await settle(second, pilot)
        assert not isinstance(second.screen, ResumeScreen)
        assert second.workspace.rows == 3
        assert [s.describe() for s in second.workspace.steps] == ["drop 1 marked row (gone)"]


async def test_discard_journal(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.jsonl")
    first = StudioApp([str(path)])
    async with first.run_test(size=(80, 24)) as pilot:
        await settle(first, pilot)
        first.post_message(StepRequested(DropRows(ids=(3,))))
        await settle(first, pilot)
    second = StudioApp([str(path)])
    async with second.run_test(size=(80, 24)) as pilot:
        await settle(second, pilot)
        assert isinstance(second.screen, ResumeScreen)
        await pilot.press("d")
        await settle(second, pilot)
        assert second.workspace.rows == 4
    assert Journal([str(path)]).pending() is None


async def test_quit_asks_when_steps_are_unsaved(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.post_message(StepRequested(DropRows(ids=(0,))))
        await settle(app, pilot)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert app.is_running
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    assert app.return_code == 0
    # quitting with unsaved steps keeps the journal for next time
    assert Journal([str(path)]).pending() is not None


async def test_step_error_becomes_notification(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.post_message(StepRequested(DropColumns(columns=("nope",))))
        await settle(app, pilot)
        errors = [m for sev, m in notes(app) if sev == "error"]
        assert len(errors) == 1 and "nope" in errors[0]
        assert not isinstance(app.screen, ErrorScreen)
        # still usable
        app.post_message(StepRequested(DropRows(ids=(0,))))
        await settle(app, pilot)
        assert app.workspace.rows == 3


@dataclass(frozen=True)
class Boom(Step):
    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        raise RuntimeError("kaboom\nsecond line of a traceback-ish message")

    def describe(self) -> str:
        return "explode"


async def test_unexpected_error_is_a_short_modal(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.post_message(StepRequested(Boom()))
        await settle(app, pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert app.screen.message == "RuntimeError: kaboom"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ErrorScreen)
        assert app.workspace.rows == 4


STARTED = threading.Event()
STOPPED = threading.Event()


@dataclass(frozen=True)
class Slow(Step):
    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        STARTED.set()
        try:
            for _ in range(200):
                time.sleep(0.02)
                check_cancelled()
        finally:
            STOPPED.set()
        return frame

    def describe(self) -> str:
        return "slow"


async def test_escape_cancels_a_running_step(tmp_path: Path) -> None:
    STARTED.clear()
    STOPPED.clear()
    path = write_jsonl(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.post_message(StepRequested(Slow()))
        await pilot.pause()
        assert STARTED.wait(5)
        assert app.running_workers()
        # work shows after SHOW_WORK_AFTER, at the next 0.25 s poll: give it up to 3 s
        for _ in range(30):
            await pilot.pause(0.1)
            if "Esc cancels" in str(app.query_one("#status-work").content):
                break
        assert "Esc cancels" in str(app.query_one("#status-work").content)
        await pilot.press("escape")
        assert STOPPED.wait(5)
        await settle(app, pilot)
        assert app.workspace.steps == []
        assert app.workspace.rows == 4
        assert any(sev == "warning" and "Cancelled" in m for sev, m in notes(app))


async def test_escape_without_work_reaches_the_screen(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("f2")
        await pilot.pause()
        assert type(app.screen).__name__ == "StepsScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ != "StepsScreen"


async def test_digits_switch_tabs(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "tab-clean"
        await pilot.press("1")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "tab-browse"


async def test_palette_finds_and_runs_a_command(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.jsonl")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"view: steps")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert type(app.screen).__name__ == "StepsScreen"


async def test_no_path_opens_the_picker(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "b.jsonl")
    (tmp_path / "notes.txt").write_text("not data")
    (tmp_path / "a.csv").write_text("text,label\nx,1\ny,2\n")
    app = StudioApp([], start_folder=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        for _ in range(50):  # the picker lists the folder after it mounts
            if app.screen.entries:
                break
            await pilot.pause(0.05)
        names = [p.name for p in app.screen.entries]
        assert names == ["a.csv", "b.jsonl"]
        await pilot.press("down", "enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, PickerScreen)
        assert app.workspace is not None and app.workspace.dataset.name == "b.jsonl"


def test_unknown_theme_is_a_clear_cli_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = write_jsonl(tmp_path / "data.jsonl")
    assert cli_main(["--theme", "no-such-theme", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Unknown theme 'no-such-theme'" in err
    assert "studio-dark" in err
    with pytest.raises(StudioError):
        StudioApp([str(path)], theme_name="no-such-theme")


def test_missing_file_and_bad_recipe_fail_before_the_ui(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert cli_main([str(tmp_path / "missing.jsonl")]) == 1
    assert "no such file" in capsys.readouterr().err
    path = write_jsonl(tmp_path / "data.jsonl")
    bad = tmp_path / "bad.recipe.json"
    bad.write_text("{not json")
    assert cli_main([str(path), "--recipe", str(bad)]) == 1
    assert "not valid JSON" in capsys.readouterr().err


async def test_recipe_option_applies_after_opening(tmp_path: Path) -> None:
    from studio.engine.recipe import Recipe

    path = write_jsonl(tmp_path / "data.jsonl")
    recipe = Recipe(steps=[DropRows(ids=(0, 1))])
    app = StudioApp([str(path)], recipe=recipe)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.workspace.rows == 2
        assert not isinstance(app.screen, ResumeScreen)


async def test_picker_shows_bundled_samples_one_key_away(tmp_path: Path) -> None:
    from studio.tui.screens.picker import samples_dir

    samples = samples_dir()
    assert samples is not None and samples.name == "sample_data"
    app = StudioApp([], start_folder=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        assert app.screen.entries == []
        await pilot.press("s")
        await pilot.pause()
        assert app.screen.folder == samples
        names = [p.name for p in app.screen.entries]
        assert "generate.py" not in names
        assert any(n.endswith(".jsonl") for n in names)
        await pilot.press("s")
        await pilot.pause()
        assert app.screen.folder == tmp_path.resolve()
        await pilot.press("escape")
        await pilot.pause()
    assert app.return_code == 0


async def test_a_file_that_cannot_load_is_an_error_notification(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    app = StudioApp([str(empty)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        errors = [m for sev, m in notes(app) if sev == "error"]
        assert len(errors) == 1 and "empty" in errors[0]
        assert app.workspace is None
        assert status(app).startswith("Could not open the dataset")
        assert not isinstance(app.screen, ErrorScreen)


async def test_a_tab_key_typed_right_after_quit_does_not_crash(tmp_path: Path) -> None:
    # a burst of typing in the wrong place ("qa56": q quits, 5 shows a tab not yet built)
    # built a pane as the app closed; its on_mount then looked for children never mounted
    from textual import events

    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"text": "hello", "label": "a"}) + "\n", encoding="utf-8")
    app = StudioApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        for key in "q5":
            app.post_message(events.Key(key, key))
        await pilot.pause(0.3)
    assert app._exception is None
    assert app.return_code == 0
