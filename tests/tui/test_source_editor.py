"""One source of a combined workspace edited on its own (Sources view: Enter), its rows put back
kept in its recipe, a source removed (`x`); what the TUI shows replays headless (`studio run`,
`studio mix ...,recipe=FILE`) to the same rows."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from textual.widgets import DataTable, Input, Static

from studio.cli import main
from studio.engine.steps.base import ID
from studio.engine.steps.dedup import DedupExact
from studio.engine.steps.filter import LengthFilter
from studio.engine.steps.mix import MixTasks
from studio.engine.steps.rows import DropColumns, DropRows
from studio.tui.app import StudioApp
from studio.tui.commands import palette_commands
from studio.tui.screens.confirm import ConfirmScreen
from studio.tui.screens.prompt import PathPrompt
from studio.tui.screens.sources import SourcesScreen
from tests.tui.settle import settle


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """qa: 30 rows, rows 20..29 exact copies of rows 0..9 (by question); summ: 8 rows with a
    system prompt."""
    qa = write_jsonl(
        tmp_path / "qa.jsonl",
        [{"question": f"question number {i}", "answer": f"answer {i}"} for i in range(20)]
        + [{"question": f"question number {i}", "answer": f"again {i}"} for i in range(10)],
    )
    summ = write_jsonl(
        tmp_path / "summ.jsonl",
        [
            {"system": "be brief", "instruction": f"summarise {i}", "input": "doc", "output": "s"}
            for i in range(8)
        ],
    )
    return qa, summ


def messages(app: StudioApp) -> list[str]:
    return [n.message for n in app._notifications]


def detail_text(screen: SourcesScreen) -> str:
    return str(screen.query_one("#sources-report", Static).content)


async def open_sources_view(app: StudioApp, pilot) -> SourcesScreen:  # noqa: ANN001
    await pilot.press("f7")
    await settle(app, pilot)
    assert isinstance(app.screen, SourcesScreen)
    return app.screen


async def test_edit_one_source_then_return(files, tmp_path: Path) -> None:  # noqa: ANN001
    qa, summ = files
    app = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        combined = app.sources
        assert combined is not None and app.workspace.rows == 38
        # combined-level steps, made before the edit: they replay after it
        summ_row = combined.offsets[1] + 2
        app.apply_step(DropRows(ids=(summ_row,)))
        await settle(app, pilot)
        app.apply_step(LengthFilter(column="output", min_len=1))
        await settle(app, pilot)
        assert app.workspace.rows == 37

        screen = await open_sources_view(app, pilot)
        assert "Enter edits" in str(screen.query_one("#sources-hint", Static).content)
        assert "recipe of qa:" in detail_text(screen)
        assert "(none: its rows as loaded)" in detail_text(screen)
        # the palette offers it by name where the view is open
        names = [c.name for c in palette_commands(app, app.screen)]
        assert "sources: Edit this source's recipe" in names
        await pilot.press("enter")  # the cursor is on qa
        await settle(app, pilot)

        # qa alone is the workspace: its own columns and rows, every pane on it
        edit = app.editing
        assert edit is not None and edit.index == 0
        assert not isinstance(app.screen, SourcesScreen)
        ws = app.workspace
        assert ws.rows == 30 and ws.columns == ["question", "answer"]
        assert app.sources is None
        banner = app.query_one("#edit-banner", Static)
        assert banner.has_class("-editing") and banner.display
        assert str(banner.content) == (
            "editing source qa (1 of 2) · F7 to return to the combined workspace"
        )
        assert app.sub_title == str(banner.content)
        assert app._status_bar().text.startswith("source qa: qa.jsonl · 30 rows")
        await app.show_tab("browse")
        await settle(app, pilot)

        # its own recipe: a dedup that removes rows 20..29, one of them put back, a filter
        app.apply_step(DedupExact(columns=("question",)))
        await settle(app, pilot)
        assert ws.rows == 20
        app.restore_rows(0, [23])
        await settle(app, pilot)
        app.apply_step(LengthFilter(column="answer", max_len=8))
        await settle(app, pilot)
        assert ws.rows == 11  # "answer 0".."answer 9" and the row put back ("again 3")
        # adding a source or mixing waits until the edit is applied
        app.action_open_mixture()
        await pilot.pause()
        assert "Return to the combined workspace first" in messages(app)[-1]

        # F7: the view lists the combination to return to; Escape keeps editing
        screen = await open_sources_view(app, pilot)
        assert "editing qa (1 of 2)" in str(screen.query_one("#sources-title", Static).content)
        hint = str(screen.query_one("#sources-hint", Static).content)
        assert "Enter applies qa's recipe (2 steps)" in hint and "Esc keeps editing" in hint
        rows = [[str(c) for c in r] for r in map(screen.query_one(DataTable).get_row_at, (0, 1))]
        assert rows[0][5] == "editing" and rows[1][4] == "-"
        text = detail_text(screen)
        assert "recipe of qa, being edited" in text
        assert "1 row put back" in text
        shown = {b.binding.description for b in screen.active_bindings.values()}
        assert "Apply & return" in shown and "Keep editing" in shown
        assert "Remove" not in shown and "Recipe" not in shown
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.editing is not None and not isinstance(app.screen, SourcesScreen)

        # F7, Enter: apply and return (the view stays, now on the combination)
        screen = await open_sources_view(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen
        assert app.editing is None
        assert not app.query_one("#edit-banner", Static).display
        combined = app.sources
        assert combined is not None and app.workspace is not ws
        spec = combined.specs[0]
        assert spec.steps == (DedupExact(columns=("question",)), LengthFilter("answer", None, 8))
        assert spec.restored == ((0, (23,)),)
        # the combined-level steps were replayed, with their rows
        ws = app.workspace
        assert ws.steps == [DropRows(ids=(summ_row,)), LengthFilter(column="output", min_len=1)]
        frame = ws.frame.collect()
        qa_rows = frame.filter(pl.col("task") == "qa")
        assert qa_rows[ID].to_list() == [*range(10), 23]
        assert qa_rows["output"].to_list()[-2:] == ["answer 9", "again 3"]
        assert summ_row not in frame[ID].to_list()
        assert frame.height == 11 + 7

        # the Sources view now lists qa's recipe without opening it
        assert [str(c) for c in screen.query_one(DataTable).get_row_at(0)][4] == "2 steps"
        text = detail_text(screen)
        assert "1. " in text and "2. keep rows where answer" in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SourcesScreen)

        # the recipe: the source's steps and its rows put back, then the combined steps
        recipe = tmp_path / "combined.recipe.json"
        ws.recipe().save(recipe)
        data = json.loads(recipe.read_text())
        source = data["source"]["sources"][0]
        assert [s["step"] for s in source["steps"]] == ["dedup.exact", "filter.length"]
        assert source["restored"] == {"0": [23]}
        assert [s["step"] for s in data["steps"]] == ["rows.drop", "filter.length"]
        tui_rows = frame

        # editing again shows the recipe so far: undo is the way back
        await open_sources_view(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.editing is not None and app.workspace.steps == list(spec.steps)
        assert app.workspace.restored == {0: (23,)} and app.workspace.rows == 11
        await pilot.press("ctrl+z")
        await settle(app, pilot)
        assert app.workspace.rows == 21
        # d discards (after asking, since the recipe changed)
        await open_sources_view(app, pilot)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert app.editing is None and app.workspace is ws and app.sources is combined
        assert isinstance(app.screen, SourcesScreen)

    out = tmp_path / "replayed.parquet"
    assert main(["run", str(recipe), "-o", str(out)]) == 0
    assert pl.read_parquet(out).equals(tui_rows.drop(ID))


async def test_source_recipe_replays_headless_with_mix(files, tmp_path: Path) -> None:  # noqa: ANN001
    """The recipe saved while editing one source (ctrl+s) is its `recipe=FILE` for `studio
    mix`, and the TUI's combined recipe replays with `studio run`: the same rows."""
    qa, summ = files
    app = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum"])
    source_recipe = tmp_path / "qa.recipe.json"
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.edit_source(0)
        await settle(app, pilot)
        assert app.editing is not None
        app.apply_step(DedupExact(columns=("question",)))
        await settle(app, pilot)
        app.restore_rows(0, [27])
        await settle(app, pilot)
        assert app.workspace.rows == 21
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PathPrompt)
        app.screen.query_one(Input).value = str(source_recipe)
        await pilot.press("enter")
        await settle(app, pilot)
        assert source_recipe.exists()
        app.apply_source_edit()  # the palette's "sources: Apply this source's recipe and return"
        await settle(app, pilot)
        assert app.editing is None and app.workspace.rows == 29
        app.apply_step(MixTasks(rule="proportional"))
        await settle(app, pilot)
        tui_rows = app.workspace.frame.collect()
        assert 27 in tui_rows[ID].to_list()
        recipe = tmp_path / "combined.recipe.json"
        app.workspace.recipe().save(recipe)

    out = tmp_path / "run.parquet"
    assert main(["run", str(recipe), "-o", str(out)]) == 0
    assert pl.read_parquet(out).equals(tui_rows.drop(ID))
    mixed = tmp_path / "mix.parquet"
    code = main(
        ["mix", f"{qa}:task=qa,recipe={source_recipe}", f"{summ}:task=sum", "-o", str(mixed)]
    )
    assert code == 0
    assert pl.read_parquet(mixed).equals(tui_rows.drop(ID))


async def test_remove_a_source_with_x(files, tmp_path: Path) -> None:  # noqa: ANN001
    qa, summ = files
    third = write_jsonl(
        tmp_path / "more.jsonl",
        [{"instruction": f"more {i}", "output": f"o {i}"} for i in range(5)],
    )
    app = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum", f"{third}:task=more"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        combined = app.sources
        assert combined is not None and app.workspace.rows == 43
        # a combined step naming rows of qa and of more: their ids move when qa goes
        more_rows = [combined.offsets[2] + 1, combined.offsets[2] + 3]
        app.apply_step(DropRows(ids=(4, *more_rows)))
        await settle(app, pilot)
        assert app.workspace.rows == 40
        screen = await open_sources_view(app, pilot)
        assert screen.query_one(DataTable).cursor_row == 0
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # asked first: nothing changes on no
        await settle(app, pilot)
        assert app.sources is combined
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        combined = app.sources
        assert combined is not None
        assert [s.task_name for s in combined.specs] == ["sum", "more"]
        frame = app.workspace.frame.collect()
        assert set(frame["task"].unique()) == {"sum", "more"}
        assert frame.filter(pl.col("task") == "more")["instruction"].to_list() == [
            "more 0",
            "more 2",
            "more 4",
        ]
        moved = app.workspace.steps[0]
        assert isinstance(moved, DropRows)
        assert moved.ids == tuple(combined.offsets[1] + i for i in (1, 3))
        tui_rows = frame
        recipe = tmp_path / "r.recipe.json"
        app.workspace.recipe().save(recipe)
        # down to one: a combination of one source; the last one stays
        assert isinstance(app.screen, SourcesScreen)
        await pilot.press("x", "y")
        await settle(app, pilot)
        assert [s.task_name for s in app.sources.specs] == ["more"]
        assert app.workspace.rows == 3
        await pilot.press("x")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert "keeps at least one source" in messages(app)[-1]
    out = tmp_path / "o.parquet"
    assert main(["run", str(recipe), "-o", str(out)]) == 0
    assert pl.read_parquet(out).equals(tui_rows.drop(ID))


async def test_combined_step_that_no_longer_applies(files) -> None:  # noqa: ANN001
    """Editing a source can take a column the combined steps use: they stop with a message."""
    qa, summ = files
    app = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert "system" in app.workspace.columns  # from summ
        app.apply_step(LengthFilter(column="system", min_len=0))
        await settle(app, pilot)
        app.apply_step(LengthFilter(column="output", min_len=1))
        await settle(app, pilot)
        app.edit_source(1)
        await settle(app, pilot)
        assert app.editing is not None and app.editing.task == "sum"
        app.apply_step(DropColumns(columns=("system",)))
        await settle(app, pilot)
        app.apply_source_edit()
        await settle(app, pilot)
        assert app.editing is None and app.sources is not None
        assert "system" not in app.workspace.columns
        assert app.workspace.steps == []
        assert app.workspace.rows == 38
        warning = [n for n in app._notifications if n.title == "Steps not replayed"]
        assert warning and warning[-1].message.startswith("Step 1 (keep rows where system"), (
            messages(app)
        )
        assert "No column named 'system'" in warning[-1].message
        assert "the 1 step after it were not replayed" in warning[-1].message


async def test_rows_put_back_go_with_the_first_source(files) -> None:  # noqa: ANN001
    """A plain workspace becoming the first source keeps its rows put back in its recipe."""
    qa, summ = files
    app = StudioApp([str(qa)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.apply_step(DedupExact(columns=("question",)))
        await settle(app, pilot)
        app.restore_rows(0, [21, 22])
        await settle(app, pilot)
        assert app.workspace.rows == 22
        app.add_source(str(summ), "sum")
        await settle(app, pilot)
        combined = app.sources
        assert combined is not None
        assert combined.specs[0].steps == (DedupExact(columns=("question",)),)
        assert combined.specs[0].restored == ((0, (21, 22)),)
        qa_ids = app.workspace.frame.filter(pl.col("task") == "qa").collect()[ID].to_list()
        assert qa_ids == [*range(20), 21, 22]
        # reopened from its recipe, the same rows
        from studio.engine.sources import combine_recipe_source

        again = combine_recipe_source(app.workspace.recipe().source)
        assert again.dataset.frame.collect().equals(app.workspace.frame.collect())


async def test_quit_while_editing_asks(files) -> None:  # noqa: ANN001
    qa, summ = files
    app = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.edit_source(0)
        await settle(app, pilot)
        app.apply_step(LengthFilter(column="answer", max_len=8))
        await settle(app, pilot)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "the edit of source qa not applied" in app.screen.question
        await pilot.press("n")
        await pilot.pause()
        assert app.editing is not None and app.is_running


async def test_removing_a_source_leaves_its_task_out_of_the_mixture(files, tmp_path: Path) -> None:  # noqa: ANN001
    qa, summ = files
    third = write_jsonl(
        tmp_path / "more.jsonl",
        [{"instruction": f"more {i}", "output": f"o {i}"} for i in range(5)],
    )
    app = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum", f"{third}:task=more"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        mix = MixTasks(rule="counts", counts=(("qa", 10), ("sum", 4), ("more", 8)), max_repeat=2)
        app.apply_step(mix)
        await settle(app, pilot)
        screen = await open_sources_view(app, pilot)
        await pilot.press("down", "x", "y")  # remove sum
        await settle(app, pilot)
        assert isinstance(screen, SourcesScreen)
        assert not [m for m in messages(app) if "no longer applies" in m], messages(app)
        step = app.workspace.steps[0]
        assert step.counts == (("qa", 10), ("more", 8))
        frame = app.workspace.frame.collect()
        assert dict(frame.group_by("task").len().iter_rows()) == {"qa": 10, "more": 8}
        recipe = tmp_path / "r.recipe.json"
        app.workspace.recipe().save(recipe)
    out = tmp_path / "o.parquet"
    assert main(["run", str(recipe), "-o", str(out)]) == 0
    assert pl.read_parquet(out).equals(frame.drop(ID))


async def test_quit_after_applying_a_source_recipe_asks(files, tmp_path: Path) -> None:  # noqa: ANN001
    """A source's recipe applied is work like a step: with no combined steps (nothing in the
    journal) quitting asks, and saving the recipe settles it."""
    qa, summ = files
    app = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert not app.unsaved
        app.edit_source(0)
        await settle(app, pilot)
        app.apply_step(LengthFilter(column="answer", max_len=8))
        await settle(app, pilot)
        app.apply_source_edit()
        await settle(app, pilot)
        assert app.editing is None and app.sources.specs[0].steps
        assert app.workspace.steps == []
        assert app.unsaved
        assert "(unsaved)" in app._status_bar().text
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "recipe of source qa" in app.screen.question
        await pilot.press("n")
        await pilot.pause()
        # saving another source's own recipe while editing it does not save the combination
        app.edit_source(1)
        await settle(app, pilot)
        app._write_recipe(tmp_path / "sum.recipe.json")
        app.discard_source_edit()
        await settle(app, pilot)
        assert app.unsaved
        # ctrl+s saves it although the combination has no steps of its own
        app.action_save_recipe()
        await pilot.pause()
        assert isinstance(app.screen, PathPrompt)
        app.screen.dismiss(str(tmp_path / "saved.recipe.json"))
        await settle(app, pilot)
        assert not app.unsaved
        saved = json.loads((tmp_path / "saved.recipe.json").read_text())
        assert saved["steps"] == [] and saved["source"]["sources"][0]["steps"]
        tui_rows = app.workspace.frame.collect()
    out = tmp_path / "o.parquet"
    assert main(["run", str(tmp_path / "saved.recipe.json"), "-o", str(out)]) == 0
    assert pl.read_parquet(out).equals(tui_rows.drop(ID))


async def test_resume_after_a_source_edit_rebuilds_its_recipe(files) -> None:  # noqa: ANN001
    """The journal of a combination whose source recipe was edited resumes on that recipe's
    rows (the combined steps were made on them), not on the sources as opened."""
    from studio.tui.screens.resume import ResumeScreen

    qa, summ = files
    first = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum"])
    async with first.run_test(size=(80, 24)) as pilot:
        await settle(first, pilot)
        first.edit_source(0)
        await settle(first, pilot)
        first.apply_step(DedupExact(columns=("question",)))
        await settle(first, pilot)
        first.apply_source_edit()
        await settle(first, pilot)
        first.apply_step(LengthFilter(column="output", min_len=2))
        await settle(first, pilot)
        expected = first.workspace.frame.collect()
        assert expected.height == 20 + 0  # qa after its dedup; summ's outputs are 1 character
        specs = first.sources.specs

    second = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum"])
    async with second.run_test(size=(80, 24)) as pilot:
        await settle(second, pilot)
        assert isinstance(second.screen, ResumeScreen)
        await pilot.press("r")
        await settle(second, pilot)
        assert second.sources is not None and second.sources.specs == specs
        assert second.workspace.steps == [LengthFilter(column="output", min_len=2)]
        assert second.workspace.frame.collect().equals(expected)


async def test_discard_while_the_apply_is_still_running(files) -> None:  # noqa: ANN001
    """d right after Enter (the rebuild still running) leaves the combination as it was: the
    rebuild finishing afterwards does not apply the discarded recipe."""
    qa, summ = files
    app = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        combined, ws = app.sources, app.workspace
        app.edit_source(0)
        await settle(app, pilot)
        app.apply_step(LengthFilter(column="answer", max_len=8))
        await settle(app, pilot)
        app.apply_source_edit()  # the rebuild runs in a worker
        app.discard_source_edit()
        await settle(app, pilot)
        assert app.editing is None
        assert app.sources is combined and app.workspace is ws
        assert app.sources.specs[0].steps == () and app.workspace.rows == 38
        assert not app.unsaved


async def test_a_source_whose_steps_fail_opens_to_be_fixed(files, tmp_path: Path) -> None:  # noqa: ANN001
    """A source whose recipe no longer applies (its file lost a column) is not used in the
    combination; Enter still opens it, with the steps that apply and the failing one named, so
    its recipe can be fixed (it was an error and no way in)."""
    from studio.engine.recipe import Recipe

    qa, summ = files
    recipe = tmp_path / "qa.recipe.json"
    Recipe(steps=[DedupExact(columns=("question",)), LengthFilter(column="gone", max_len=8)]).save(
        recipe
    )
    app = StudioApp([f"{qa}:task=qa,recipe={recipe}", f"{summ}:task=sum"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        combined = app.sources
        assert combined is not None and not combined.report.sources[0].ok
        app.edit_source(0)
        await settle(app, pilot)
        assert app.editing is not None and app.editing.index == 0
        assert app.workspace.steps == [DedupExact(columns=("question",))]
        assert app.workspace.rows == 20
        assert any("Step 2" in m and "gone" in m for m in messages(app))
        # applying the fixed recipe brings the source back into the combination
        app.apply_source_edit()
        await settle(app, pilot)
        assert app.editing is None and app.sources.report.sources[0].ok
        assert app.sources.specs[0].steps == (DedupExact(columns=("question",)),)
        assert app.workspace.rows == 20 + 8


async def test_resume_after_the_common_shape_changed(files) -> None:  # noqa: ANN001
    qa, summ = files
    first = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum"])
    async with first.run_test(size=(80, 24)) as pilot:
        await settle(first, pilot)
        first.set_common_shape("chat")
        await settle(first, pilot)
        first.apply_step(DropRows(ids=(0,)))
        await settle(first, pilot)
        expected = first.workspace.frame.collect()
        assert "messages" in expected.columns

    second = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum"])
    async with second.run_test(size=(80, 24)) as pilot:
        await settle(second, pilot)
        await pilot.press("r")
        await settle(second, pilot)
        assert second.workspace.steps == [DropRows(ids=(0,))]
        assert second.workspace.frame.collect().equals(expected)


async def test_apply_waits_for_a_step_still_running(files) -> None:  # noqa: ANN001
    """Enter while a step still runs on the source is refused (the step would land in a
    workspace already left, shown as applied but in no recipe); once it is done, it applies."""
    qa, summ = files
    app = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.edit_source(0)
        await settle(app, pilot)
        ws = app.workspace
        with ws._lock:  # the step's worker waits on the workspace: it is still running
            app.apply_step(LengthFilter(column="answer", max_len=8))
            await pilot.pause()
            app.apply_source_edit()
            await pilot.pause()
            assert app.editing is not None
            assert "still running" in messages(app)[-1]
        await settle(app, pilot)
        assert app.editing is not None and ws.steps == [LengthFilter("answer", None, 8)]
        app.apply_source_edit()
        await settle(app, pilot)
        assert app.editing is None
        assert app.sources.specs[0].steps == (LengthFilter("answer", None, 8),)


async def test_removing_a_source_moves_the_rows_a_dedup_keeps_by_hand(
    files, tmp_path: Path
) -> None:  # noqa: ANN001
    """A combined dedup's cluster overrides (member id, kept id) name rows: they follow them
    when a source before them is removed (they named other rows, or none)."""
    qa, summ = files
    app = StudioApp([f"{summ}:task=sum", f"{qa}:task=qa"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        qa_at = app.sources.offsets[1]
        # qa's question 0 keeps its second copy ("again 0"); question 1 rejects its cluster
        app.apply_step(
            DedupExact(columns=("instruction",), overrides=((qa_at, qa_at + 20), (qa_at + 1, -1)))
        )
        await settle(app, pilot)
        kept = app.workspace.frame.collect().filter(pl.col("task") == "qa")["output"].to_list()
        assert "again 0" in kept and "answer 0" not in kept
        assert "again 1" in kept and "answer 1" in kept and "again 2" not in kept
        app.remove_source(0)
        await settle(app, pilot)
        assert [s.task_name for s in app.sources.specs] == ["qa"]
        step = app.workspace.steps[0]
        assert step.overrides == ((0, 20), (1, -1))
        frame = app.workspace.frame.collect()
        assert frame["output"].to_list() == kept  # the same qa rows as before the removal
        recipe = tmp_path / "r.recipe.json"
        app.workspace.recipe().save(recipe)
    out = tmp_path / "o.parquet"
    assert main(["run", str(recipe), "-o", str(out)]) == 0
    assert pl.read_parquet(out).equals(frame.drop(ID))


async def test_opening_a_file_that_fails_keeps_the_edit(files, tmp_path: Path) -> None:  # noqa: ANN001
    """Open another file while a source is edited, and it cannot be read: the edit and the
    combination to return to are still there (they were dropped before the file opened)."""
    from studio.tui.screens.picker import PickerScreen

    qa, summ = files
    app = StudioApp([f"{qa}:task=qa", f"{summ}:task=sum"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        combined = app.sources
        app.edit_source(0)
        await settle(app, pilot)
        app.action_open_file()
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert isinstance(app.screen, PickerScreen)
        app.screen.dismiss(str(tmp_path / "missing.jsonl"))
        await settle(app, pilot)
        assert app.editing is not None and app.sources_shown is combined
        app.discard_source_edit()
        await settle(app, pilot)
        assert app.sources is combined
