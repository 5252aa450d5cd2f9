from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, Static, TabbedContent

from studio.engine.steps.balance import Oversample, Undersample
from studio.engine.steps.split import SplitAssign
from studio.tui.app import StudioApp
from studio.tui.panes.balance import BalancePane, positive_negative


@pytest.fixture
def data(write_file) -> Path:  # noqa: ANN001
    labels = ["billing"] * 70 + ["tech"] * 20 + ["fraud"] * 8 + ["spam"] * 2
    rows = [
        {"text": f"ticket {i} about a problem with several words", "label": label}
        for i, label in enumerate(labels)
    ]
    return write_file("t.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")


async def open_pane(app: StudioApp, pilot) -> BalancePane:  # noqa: ANN001
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.query_one(TabbedContent).active = "tab-balance"
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.query_one(BalancePane)


async def settle(app: StudioApp, pilot) -> None:  # noqa: ANN001
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


def current_counts(app: StudioApp) -> dict:
    assert app.workspace is not None
    return dict(Counter(app.workspace.frame.collect()["label"].to_list()))


async def test_choose_a_strategy_preview_and_apply(data: Path) -> None:
    app = StudioApp([str(data)])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(app, pilot)
        assert pane.query_one("#balance-label", Select).value == "label"
        assert pane.counts == {"billing": 70, "tech": 20, "fraud": 8, "spam": 2}
        summary = str(pane.query_one("#balance-summary", Static).render())
        assert "imbalance 35.00×" in summary
        table = pane.query_one("#balance-table", DataTable)
        assert table.row_count == 4
        assert "█" in str(table.get_row_at(0)[3])
        # choose undersampling with per-class targets
        pane.query_one("#balance-strategy", Select).value = "under"
        target = pane.query_one("#balance-target", Input)
        target.value = "billing=30,tech=10"
        await pilot.pause()
        expected = {"billing": 30, "tech": 10, "fraud": 8, "spam": 2}
        assert pane.preview == expected
        assert str(table.get_row_at(0)[4]) == "30"
        table.focus()
        await pilot.press("a")
        await settle(app, pilot)
        assert app.workspace is not None and app.workspace.steps == [
            Undersample(label="label", target="billing=30,tech=10", seed=0)
        ]
        assert current_counts(app) == expected
        assert pane.counts == expected


async def test_preview_equals_applied_for_oversampling_and_caps(data: Path) -> None:
    app = StudioApp([str(data)])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(app, pilot)
        for strategy, target in (("over", "auto"), ("cap", "15"), ("over", "fraud=30")):
            pane.query_one("#balance-strategy", Select).value = strategy
            pane.query_one("#balance-target", Input).value = target
            pane.query_one("#balance-seed", Input).value = "7"
            await pilot.pause()
            preview = dict(pane.preview or {})
            assert preview
            pane.query_one("#balance-table", DataTable).focus()
            await pilot.press("a")
            await settle(app, pilot)
            assert current_counts(app) == preview, (strategy, target)
        assert isinstance(app.workspace.steps[0], Oversample)  # type: ignore[union-attr]


async def test_bad_target_is_shown_not_applied(data: Path) -> None:
    app = StudioApp([str(data)])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(app, pilot)
        pane.query_one("#balance-target", Input).value = "nobody=3"
        await pilot.pause()
        assert pane.preview is None
        assert "not in the data" in str(pane.query_one("#balance-note", Static).render())
        pane.query_one("#balance-table", DataTable).focus()
        await pilot.press("a")
        await settle(app, pilot)
        assert app.workspace is not None and app.workspace.steps == []


async def test_split_section_applies_and_shows_counts(data: Path) -> None:
    app = StudioApp([str(data)])
    async with app.run_test(size=(80, 40)) as pilot:
        pane = await open_pane(app, pilot)
        assert pane.query_one("#split-stratify", Select).value == "label"
        pane.query_one("#split-ratios", Input).value = "0.5,0.25,0.25"
        await pilot.pause()
        await pilot.click("#split-apply")
        await settle(app, pilot)
        assert app.workspace is not None
        assert app.workspace.steps == [
            SplitAssign(ratios=(0.5, 0.25, 0.25), stratify="label", copies="train", seed=0)
        ]
        table = pane.query_one("#split-table", DataTable)
        header = [str(c.label) for c in table.columns.values()]
        assert header == ["label", "train", "validation", "test", "total"]
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert rows[-1][0] == "total" and rows[-1][-1] == "100"
        for row in rows[:-1]:
            train, validation, test, total = (int(v) for v in row[1:])
            assert train + validation + test == total
            for got, ratio in zip((train, validation, test), (0.5, 0.25, 0.25), strict=True):
                assert abs(got - total * ratio) <= 1


def test_positive_negative() -> None:
    assert positive_negative({"ham": 90, "spam": 10}) == ("spam", "ham")
    assert positive_negative({0: 10, 1: 90}) == (1, 0)
    assert positive_negative({"a": 5, "b": 9}) == ("a", "b")
    assert positive_negative({"a": 1, "b": 2, "c": 3}) is None
