from __future__ import annotations

import contextlib
import json

import polars as pl
from rich.text import Text
from textual.css.query import NoMatches
from textual.widgets import DataTable, Static, TabbedContent

from studio.engine.recipe import run_recipe
from studio.engine.steps.base import ID
from studio.engine.steps.dedup import DedupNormalized, LabelConflicts
from studio.tui.app import StudioApp
from studio.tui.panes.clean import CleanPane, word_diff


class CleanTestApp(StudioApp):
    """StudioApp whose 0.25 s status poll tolerates a screen that is still mounting or already
    torn down (the shell's `_poll_work` raises NoMatches then on a loaded machine; reported)."""

    def _poll_work(self) -> None:
        with contextlib.suppress(NoMatches):
            super()._poll_work()


ROWS = [
    {"text": "Hello world, how are you?", "label": "greet"},
    {"text": "Something else entirely", "label": "other"},
    {"text": "hello   WORLD how are you", "label": "greet"},
    {"text": "[bold]markup[/] is data", "label": "other"},
    {"text": "HELLO world how are you!!", "label": "smalltalk"},
    {"text": "A third unique row", "label": "other"},
]


def _write(tmp_path):  # noqa: ANN001, ANN202
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    return path


async def settle(app: StudioApp, pilot, done) -> None:  # noqa: ANN001
    """Let messages and workers run until `done()` holds (fails after ~10 s)."""
    for _ in range(200):
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
        if done():
            return
    raise AssertionError("the app did not settle")


async def _open_clean(app: StudioApp, pilot) -> CleanPane:  # noqa: ANN001
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.query_one("#tabs", TabbedContent).active = "tab-clean"
    await pilot.pause()
    pane = app.query_one(CleanPane)
    pane.query_one("#dup-clusters", DataTable).focus()
    await pilot.pause()
    return pane


async def test_override_a_cluster_and_apply(tmp_path) -> None:  # noqa: ANN001
    path = _write(tmp_path)
    app = CleanTestApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_clean(app, pilot)
        assert pane.query_one("#dup-column").value == "text"
        await pilot.press("f")
        await settle(app, pilot, lambda: pane.clusters is not None)
        table = pane.query_one("#dup-clusters", DataTable)
        assert table.row_count == 1
        assert pane.clusters is not None
        assert pane._member_ids(0) == [0, 2, 4]
        # default keep policy keeps the first row; show the next member and keep it instead
        left_text = pane.query_one("#dup-left", Static).render()
        assert "key: hello world how are you" in str(left_text)  # the normalized key
        await pilot.press("n")
        await pilot.pause()
        # the title leads with the line (what fits at 80 columns), then the id
        assert str(pane.query_one("#dup-right-title", Static).render()) == "2/2: line 5 · id 4"
        assert str(pane.query_one("#dup-left-title", Static).render()) == "kept: line 1 · id 0"
        status = pane.query_one("#dup-status", Static)
        assert str(status.render()) == "1 cluster, 2 rows would go"
        assert status.content_region.width >= len("1 cluster, 2 rows would go")
        await pilot.press("k")
        await pilot.pause()
        assert pane.overrides() == ((0, 4),)
        await pilot.press("x")
        ws = app.workspace
        assert ws is not None
        await settle(app, pilot, lambda: len(ws.steps) == 1)
        assert ws.frame.collect()[ID].to_list() == [1, 3, 4, 5]
        # the applied clusters are gone from the list and from the side-by-side view
        assert str(pane.query_one("#dup-left", Static).render()) == ""
        assert str(pane.query_one("#dup-right-title", Static).render()) == ""
        step = ws.steps[-1]
        assert isinstance(step, DedupNormalized) and step.overrides == ((0, 4),)
        reasons = dict(ws.removed().select(ID, "reason").iter_rows())
        assert reasons[0] == "normalized duplicate of row 4"
        # the saved recipe replays to the same rows headless
        recipe_path = tmp_path / "r.recipe.json"
        ws.recipe().save(recipe_path)
        from studio.engine.io import load_dataset
        from studio.engine.recipe import Recipe

        replayed, _ = run_recipe(load_dataset(path).frame, Recipe.load(recipe_path))
        assert replayed.equals(ws.frame.collect())


async def test_reject_keeps_every_row(tmp_path) -> None:  # noqa: ANN001
    path = _write(tmp_path)
    app = CleanTestApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_clean(app, pilot)
        await pilot.press("f")
        await settle(app, pilot, lambda: pane.clusters is not None)
        await pilot.press("r", "x")
        ws = app.workspace
        assert ws is not None
        await settle(app, pilot, lambda: len(ws.steps) == 1)
        assert app.workspace is not None and app.workspace.rows == len(ROWS)
        assert app.workspace.steps[-1].overrides == ((0, -1),)  # type: ignore[attr-defined]


async def test_label_conflicts_majority(tmp_path) -> None:  # noqa: ANN001
    path = _write(tmp_path)
    app = CleanTestApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_clean(app, pilot)
        app.query_one("#clean-tabs", TabbedContent).active = "clean-labels"
        await pilot.pause()
        pane.query_one("#lab-find").press()
        await settle(app, pilot, lambda: pane.conflicts is not None)
        assert pane.query_one("#label-groups", DataTable).row_count == 2
        pane.query_one("#lab-apply").press()
        await settle(app, pilot, lambda: bool(app.workspace.steps))  # type: ignore[union-attr]
        assert isinstance(app.workspace.steps[-1], LabelConflicts)  # type: ignore[union-attr]
        texts = app.workspace.frame.collect()["label"].to_list()  # type: ignore[union-attr]
        assert "smalltalk" not in texts and texts.count("greet") == 2


async def test_cleaning_ops_apply_in_order(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "h.jsonl"
    path.write_text(json.dumps({"text": "  <b>Fish &amp; chips</b>  "}) + "\n", encoding="utf-8")
    app = CleanTestApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_clean(app, pilot)
        app.query_one("#clean-tabs", TabbedContent).active = "clean-ops"
        await pilot.pause()
        pane.query_one("#op-html").value = True
        pane.query_one("#op-strip").value = True
        pane.query_one("#ops-apply").press()
        ws = app.workspace
        assert ws is not None
        await settle(app, pilot, lambda: len(ws.steps) == 2 and not pane._queue)
        assert ws.frame.collect()["text"].to_list() == ["Fish & chips"]


def test_word_diff_marks_changed_words_and_keeps_markup_literal() -> None:
    left, right = word_diff("the [bold]cat[/] sat", "the [bold]dog[/] sat")
    assert isinstance(left, Text) and left.plain == "the [bold]cat[/] sat"
    changed = [left.plain[s.start : s.end] for s in left.spans]
    assert changed == ["[bold]cat[/]"]
    assert [right.plain[s.start : s.end] for s in right.spans] == ["[bold]dog[/]"]
    assert pl.Series([left.plain]).len() == 1


async def test_leaks_against_a_picked_file(tmp_path) -> None:  # noqa: ANN001
    from studio.engine.io import load_dataset
    from studio.engine.recipe import Recipe
    from studio.engine.steps.dedup import DedupAgainst
    from studio.tui.screens.picker import PickerScreen

    path = _write(tmp_path)
    other = tmp_path / "test_split.jsonl"
    other.write_text(
        json.dumps({"text": "hello world how are you"})
        + "\n"
        + json.dumps({"text": "a THIRD unique row."})
        + "\n"
        + json.dumps({"text": "not in the training data"})
        + "\n",
        encoding="utf-8",
    )
    app = CleanTestApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_clean(app, pilot)
        await pilot.press("o")  # the file picker, opened in the data's folder
        await settle(app, pilot, lambda: isinstance(app.screen, PickerScreen))
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        await settle(app, pilot, lambda: other in picker.entries)
        table = picker.query_one(DataTable)
        table.move_cursor(row=picker.entries.index(other))
        await pilot.press("enter")
        await settle(app, pilot, lambda: not isinstance(app.screen, PickerScreen))
        assert pane.query_one("#dup-against").value == str(other)
        await pilot.press("f")  # normalized mode by default
        await settle(app, pilot, lambda: bool(pane.leak_groups))
        groups = pane.leak_groups
        assert [g.members for g in groups] == [[0, 2, 4], [5]]
        assert pane.query_one("#dup-clusters", DataTable).row_count == 2
        assert "test_split.jsonl:1" in str(pane.query_one("#dup-left-title", Static).render())
        # keep the second matching row of the first group (row 2), drop the rest
        await pilot.press("n", "k")
        await pilot.pause()
        assert pane.leak_kept == {2}
        await pilot.press("x")
        ws = app.workspace
        assert ws is not None
        await settle(app, pilot, lambda: len(ws.steps) == 1)
        step = ws.steps[-1]
        assert isinstance(step, DedupAgainst) and step.kept == (2,)
        assert ws.frame.collect()[ID].to_list() == [1, 2, 3]
        reasons = dict(ws.removed().select(ID, "reason").iter_rows())
        assert reasons[5].startswith("normalized match in ") and reasons[5].endswith(":2")
        recipe_path = tmp_path / "leaks.recipe.json"
        ws.recipe().save(recipe_path)
        replayed, _ = run_recipe(load_dataset(path).frame, Recipe.load(recipe_path))
        assert replayed.equals(ws.frame.collect())


def test_near_settings_parse() -> None:
    import pytest

    from studio.engine.errors import StepError
    from studio.tui.panes.clean import near_settings

    assert near_settings("shingle=char ngram=5 perm=128 bands=16x4 similarity=0.85") == {
        "shingle": "char",
        "ngram": 5,
        "num_perm": 128,
        "bands": 16,
        "rows": 4,
        "similarity": 0.85,
    }
    with pytest.raises(StepError):
        near_settings("colour=blue")
    with pytest.raises(StepError):
        near_settings("bands=many")


async def test_exact_on_chosen_columns_and_near_settings(tmp_path) -> None:  # noqa: ANN001
    from textual.widgets import Input, Select

    from studio.engine.steps.dedup import DedupExact, DedupNear

    path = _write(tmp_path)
    app = CleanTestApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_clean(app, pilot)
        pane.query_one("#dup-mode", Select).value = "exact"
        pane.query_one("#dup-column", Input).value = "text, label"
        await pilot.pause()
        step = pane.build_dedup_step()
        assert isinstance(step, DedupExact) and step.columns == ("text", "label")
        pane.query_one("#dup-column", Input).value = "*"
        assert pane.build_dedup_step().columns == ()  # type: ignore[attr-defined]
        pane.query_one("#dup-mode", Select).value = "near"
        pane.query_one("#dup-column", Input).value = "text"
        pane.query_one("#dup-extra", Input).value = "shingle=char ngram=4"
        await pilot.pause()
        near = pane.build_dedup_step()
        assert isinstance(near, DedupNear) and (near.shingle, near.ngram) == ("char", 4)


async def test_f_finds_what_the_open_sub_tab_is_about(tmp_path) -> None:  # noqa: ANN001
    path = _write(tmp_path)
    app = CleanTestApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_clean(app, pilot)
        app.query_one("#clean-tabs", TabbedContent).active = "clean-labels"
        await pilot.pause()
        pane.query_one("#label-groups", DataTable).focus()
        await pilot.press("f")
        await settle(app, pilot, lambda: pane.conflicts is not None)
        assert pane.query_one("#label-groups", DataTable).row_count == 2
        assert pane.clusters is None  # the duplicate search did not run instead
        app.query_one("#clean-tabs", TabbedContent).active = "clean-flags"
        await pilot.pause()
        table = pane.query_one("#flag-counts", DataTable)
        table.focus()
        await pilot.press("f")
        await settle(app, pilot, lambda: table.row_count > 0)
        assert pane.clusters is None


async def test_a_failed_search_says_so_in_the_status(tmp_path) -> None:  # noqa: ANN001
    path = _write(tmp_path)
    app = CleanTestApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_clean(app, pilot)
        pane.query_one("#dup-mode").value = "semantic"
        pane.query_one("#dup-extra").value = str(tmp_path / "no-such-model")
        await pilot.pause()
        pane.query_one("#dup-clusters", DataTable).focus()
        await pilot.press("f")
        status = pane.query_one("#dup-status", Static)
        for _ in range(200):  # not settle(): waiting on a failed worker raises
            await pilot.pause(0.05)
            if "failed" in str(status.render()):
                break
        assert str(status.render()) == "search failed (see the message)"
        messages = [n.message for n in app._notifications]
        assert any("no such model folder" in m for m in messages)


async def test_ticked_ops_tidy_whitespace_after_html(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "h.jsonl"
    rows = [{"text": "<p>Hello &amp; <b>welcome</b></p>\n<div>Caf&eacute;<br/>line</div>"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    app = CleanTestApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_clean(app, pilot)
        app.query_one("#clean-tabs", TabbedContent).active = "clean-ops"
        await pilot.pause()
        for op in ("strip", "html", "stem", "stopwords"):
            pane.query_one(f"#op-{op}").value = True
        pane.query_one("#ops-output").value = "bow"
        pane.query_one("#ops-apply").press()
        ws = app.workspace
        assert ws is not None
        await settle(app, pilot, lambda: len(ws.steps) == 4 and not pane._queue)
        names = [s.to_json()["step"] for s in ws.steps]
        assert names == ["clean.html", "clean.whitespace", "clean.stopwords", "clean.stem"]
        out = ws.frame.collect().row(0, named=True)
        assert out["text"] == rows[0]["text"]  # the source column is untouched
        # tags gone, then whitespace tidied, stop words ("&") before stemming; every op shows
        assert out["bow"] == "hello welcom café line"


async def test_cluster_keys_only_act_on_the_duplicates_sub_tab(tmp_path) -> None:  # noqa: ANN001
    path = _write(tmp_path)
    app = CleanTestApp([str(path)])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_clean(app, pilot)
        await pilot.press("f")
        await settle(app, pilot, lambda: pane.clusters is not None)
        app.query_one("#clean-tabs", TabbedContent).active = "clean-labels"
        await pilot.pause()
        pane.query_one("#label-groups", DataTable).focus()
        await pilot.press("a", "r", "k")
        await pilot.pause()
        assert pane.decisions == {}  # the hidden cluster was not decided
        keys = {k for k, b in app.screen.active_bindings.items() if b.binding.show and b.enabled}
        assert "a" not in keys and "f" in keys  # the footer offers only what works here
        app.query_one("#clean-tabs", TabbedContent).active = "clean-dups"
        await pilot.pause()
        pane.query_one("#dup-clusters", DataTable).focus()
        await pilot.press("r")
        await pilot.pause()
        assert pane.decisions == {0: -1}
