"""Pilot tests of the Filter pane inside the real app: WHERE bar, inline errors, facets,
flags, sampling, clustering and the label balance line."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import DataTable, Input, SelectionList, Static

from studio.engine.steps.filter import SqlFilter, ValuesFilter
from studio.tui.app import StudioApp
from studio.tui.panes.filter import FilterPane, histogram_text, parse_size


def write_data(path: Path, n: int = 60) -> Path:
    rows = []
    for i in range(n):
        rows.append(
            {
                "text": f"row {i} "
                + ("galaxy telescope orbit" if i % 3 == 0 else "oven bake flour"),
                "label": "spam" if i % 4 == 0 else "ham",
                "flag_pii": i % 5 == 0,
            }
        )
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


async def settle(pilot) -> None:  # noqa: ANN001
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def open_filter(pilot) -> FilterPane:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    return pilot.app.query_one(FilterPane)


def text_of(pane: FilterPane, selector: str) -> str:
    return str(pane.query_one(selector, Static).render())


async def test_where_applies_and_bad_expression_shows_inline(tmp_path: Path) -> None:
    app = StudioApp([str(write_data(tmp_path / "d.jsonl"))])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_filter(pilot)
        assert "60 rows" in text_of(pane, "#filter-summary")
        assert "label: ham 45 (75%) · spam 15 (25%) · ratio 3.00:1" in text_of(
            pane, "#filter-balance"
        )
        where = pane.query_one("#filter-where", Input)
        where.focus()
        await pilot.press(*"lable = 'spam'", "enter")
        await settle(pilot)
        error = pane.query_one("#filter-error", Static)
        assert error.display
        message = text_of(pane, "#filter-error")
        assert "Unknown column 'lable' at column 1" in message
        assert "Columns are: text, label, flag_pii" in message
        assert app.workspace is not None and app.workspace.rows == 60

        where.value = ""
        await pilot.press(*"label = 'spam' AND length(text) > 0", "enter")
        await settle(pilot)
        assert not error.display
        assert app.workspace.rows == 15
        assert app.workspace.steps == [SqlFilter(where="label = 'spam' AND length(text) > 0")]
        assert "15 rows" in text_of(pane, "#filter-summary")
        # the balance line follows the filter: one label left, so no ratio
        assert not pane.query_one("#filter-balance", Static).display

        await pilot.press("ctrl+z")
        await settle(pilot)
        assert app.workspace.rows == 60 and "60 rows" in text_of(pane, "#filter-summary")


async def test_facet_toggle_keeps_values_and_counts_follow(tmp_path: Path) -> None:
    app = StudioApp([str(write_data(tmp_path / "d.jsonl"))])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_filter(pilot)
        assert pane.facet_column == "label"
        listing = pane.query_one("#facet-values", SelectionList)
        labels = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert labels[0].startswith("ham  45") and labels[1].startswith("spam  15")
        listing.focus()
        listing.highlighted = 1
        await pilot.press("space")  # toggle "spam"
        assert pane.selected_facet_values() == ("spam",)
        pane.query_one("#facet-keep").press()
        await settle(pilot)
        assert app.workspace.steps == [ValuesFilter(column="label", values=("spam",))]
        assert app.workspace.rows == 15
        labels = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert labels == ["spam  15 (100%)"]
        flags = pane.query_one("#flag-list", SelectionList)
        assert str(flags.get_option_at_index(0).prompt) == "flag_pii (3 rows)"


async def test_flags_sample_and_clusters(tmp_path: Path) -> None:
    app = StudioApp([str(write_data(tmp_path / "d.jsonl"))])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_filter(pilot)
        flags = pane.query_one("#flag-list", SelectionList)
        flags.select("flag_pii")
        pane.query_one("#flag-drop").press()
        await settle(pilot)
        assert app.workspace.rows == 48
        pane.query_one("#sample-size", Input).value = "50%"
        pane.query_one("#sample-apply").press()
        await settle(pilot)
        assert app.workspace.rows == 24
        pane.query_one("#diverse-k", Input).value = "2"
        pane.find_clusters()
        await settle(pilot)
        table = pane.query_one("#cluster-table", DataTable)
        assert table.row_count == 2
        assert (
            sorted(c.size for c in pane.clusters) == sorted([8, 16])
            or sum(c.size for c in pane.clusters) == 24
        )
        terms = {t for c in pane.clusters for t in c.top_terms}
        assert {"galaxy", "oven"} <= terms
        assert "2 clusters" in text_of(pane, "#diverse-status")


def test_helpers() -> None:
    assert parse_size("10%") == (0, 0.1)
    assert parse_size("1,000") == (1000, 0.0)
    text = histogram_text([(0.0, 0.5, 10), (0.5, 1.0, 5)]).plain
    assert text.splitlines()[0].endswith(" 10") and "█" * 30 in text
