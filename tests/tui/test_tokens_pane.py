"""The Tokens pane with Pilot: estimate labelled, counting with a local tokenizer, over-limit
rows, chat checks opening rows, actions as steps, and the loss-mask preview."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Label, Static

from studio.tui.app import StudioApp
from studio.tui.messages import OpenRows
from studio.tui.panes.tokens import TokensPane
from tests.tokens_fixtures import build_tokenizer

CHAT = [
    {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": "Paris is the capital of France."},
        ]
    },
    {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]},
    {"messages": [{"role": "user", "content": "Hi"}, {"role": "user", "content": "Hi"}]},
]


@pytest.fixture(scope="module")
def tok(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(build_tokenizer(tmp_path_factory.mktemp("tok") / "tiny"))


class SpyApp(StudioApp):
    """The real app, noting the OpenRows messages that reach it."""

    def __init__(self, paths: list[str]) -> None:
        super().__init__(paths)
        self.opened: list[OpenRows] = []

    def on_open_rows(self, message: OpenRows) -> None:
        self.opened.append(message)


def _jsonl(path: Path, rows: list[dict]) -> str:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return str(path)


async def _open_tokens(app: StudioApp, pilot) -> TokensPane:  # noqa: ANN001
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.query_one("#tabs").active = "tab-tokens"
    await pilot.pause()
    pane = app.query_one(TokensPane)
    for _ in range(100):  # the pane is built when its tab is shown; wait for its first count
        await app.workers.wait_for_complete()
        await pilot.pause()
        if pane.result is not None and not pane._counting:
            break
    return pane


async def test_estimate_is_labelled(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "t.jsonl", [{"text": "abcdefgh"}, {"text": "abc"}])
    app = StudioApp([path])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_tokens(app, pilot)
        assert pane.figures is not None and pane.figures.estimate
        mode = str(pane.query_one("#tokens-mode", Label).render())
        assert "≈ estimate" in mode
        assert "≈" in str(pane.query_one("#tokens-figures", Static).render())


async def test_histogram_lines_fit_the_column(tmp_path: Path) -> None:
    # one long row and many short ones: the tallest bar must still leave room for its count
    rows = [{"text": "word " * 600}] + [{"text": f"short row {i}"} for i in range(300)]
    app = StudioApp([_jsonl(tmp_path / "t.jsonl", rows)])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_tokens(app, pilot)
        histogram = pane.query_one("#tokens-histogram", Static)
        for size in ((80, 24), (60, 24), (200, 50)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            await pilot.pause()
            width = histogram.content_size.width
            lines = [line for line in str(histogram.render()).splitlines() if "│" in line]
            assert len(lines) == 10
            assert all(len(line) <= width for line in lines), (size, width, lines)
            assert lines[0].endswith(" 300")  # the count of the fullest bin is on its line


async def test_counts_with_local_tokenizer_and_shows_over_limit(tok: str, tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "chat.jsonl", CHAT)
    app = SpyApp([path])
    opened = app.opened
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_tokens(app, pilot)
        pane.query_one("#tokens-tokenizer", Input).value = tok
        limit = pane.query_one("#tokens-limit", Input)
        limit.value = "12"
        limit.focus()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        fig = pane.figures
        assert fig is not None and not fig.estimate and fig.tokenizer == tok
        assert fig.over_limit >= 1 and fig.limit == 12
        shown = str(pane.query_one("#tokens-figures", Static).render())
        rows = "1 row" if fig.over_limit == 1 else f"{fig.over_limit} rows"
        assert f"over the limit of 12: {rows}\n" in shown
        assert "exact counts" in str(pane.query_one("#tokens-mode", Label).render())
        table = pane.query_one("#tokens-checks", DataTable)
        assert table.get_row("over_limit")[1].plain == str(fig.over_limit)
        assert table.get_row("same_role_twice")[1].plain == "1"
        # Enter on a check asks Browse to show its rows
        table.focus()
        table.move_cursor(row=table.get_row_index("same_role_twice"))
        await pilot.press("enter")
        await pilot.pause()
        assert opened and opened[-1].ids == [2]
        assert "same_role_twice" in opened[-1].title


async def test_drop_over_limit_applies_a_step(tok: str, tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "chat.jsonl", CHAT)
    app = StudioApp([path])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_tokens(app, pilot)
        pane.query_one("#tokens-tokenizer", Input).value = tok
        pane.query_one("#tokens-limit", Input).value = "12"
        pane.start_count()
        await app.workers.wait_for_complete()
        await pilot.pause()
        over = pane.figures.over_limit if pane.figures else -1
        pane.query_one("#tokens-drop").press()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.workspace is not None
        assert app.workspace.steps[-1].to_json()["tokenizer"] == tok
        assert app.workspace.rows == len(CHAT) - over
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert pane.figures is not None and pane.figures.over_limit == 0


async def test_loss_mask_preview_screen(tok: str, tmp_path: Path) -> None:
    from studio.tui.screens.loss_mask import LossMaskScreen

    path = _jsonl(tmp_path / "chat.jsonl", CHAT)
    app = StudioApp([path])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_tokens(app, pilot)
        pane.query_one("#tokens-tokenizer", Input).value = tok
        pane.start_count()
        await app.workers.wait_for_complete()
        await pilot.pause()
        pane.action_loss_mask()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LossMaskScreen)
        assert screen.preview is not None
        pieces = screen.preview.pieces
        assert ("Paris is the capital of France.<|end|>\n", True) in pieces
        turns = screen.query_one("#loss-mask-turns", DataTable)
        assert turns.row_count == 3
        await pilot.press("n")
        await pilot.pause()
        assert screen.position == 1 and screen.preview.turns[1].role == "assistant"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, LossMaskScreen)


async def test_unknown_tokenizer_is_reported(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "t.jsonl", [{"text": "abcdefgh"}])
    app = StudioApp([path])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_tokens(app, pilot)
        before = pane.figures
        box = pane.query_one("#tokens-tokenizer", Input)
        box.value = str(tmp_path / "no-such-tokenizer")
        box.focus()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        label = pane.query_one("#tokens-mode", Label)
        message = str(label.render())
        assert "not counted" in message and "save_pretrained" in message
        # the whole sentence is on screen at 80 columns (wrapped, not cut)
        row = pane.query_one("#tokens-status-row")
        assert label.region.right <= 80 and row.region.height >= 2
        assert pane.figures is before  # the last good figures stay


async def test_escape_cancels_a_running_count(tok: str, tmp_path: Path) -> None:
    rows = [{"text": f"row {i} of the quick brown fox"} for i in range(120_000)]
    path = _jsonl(tmp_path / "big.jsonl", rows)
    app = StudioApp([path])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_tokens(app, pilot)
        before = pane.figures
        pane.query_one("#tokens-tokenizer", Input).value = tok
        pane.start_count()
        await pilot.pause()
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "cancelled" in str(pane.query_one("#tokens-mode", Label).render())
        assert pane.figures is before


async def test_chunk_takes_the_overlap_typed_in_the_pane(tok: str, tmp_path: Path) -> None:
    from studio.engine.steps.tokens import ChunkTokens
    from tests.tokens_fixtures import SENTENCES

    path = _jsonl(tmp_path / "t.jsonl", [{"text": " ".join(SENTENCES)}, {"text": "Hi"}])
    app = StudioApp([path])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_tokens(app, pilot)
        pane.query_one("#tokens-tokenizer", Input).value = tok
        pane.query_one("#tokens-limit", Input).value = "16"
        overlap = pane.query_one("#tokens-overlap", Input)
        assert overlap.region.right <= 80  # the actions row fits at 80 columns
        overlap.value = "16"  # not smaller than the chunk: refused, no step
        pane.query_one("#tokens-chunk").press()
        await pilot.pause()
        assert app.workspace is not None and not app.workspace.steps
        overlap.value = "5"
        pane.query_one("#tokens-chunk").press()
        for _ in range(100):
            await app.workers.wait_for_complete()
            await pilot.pause()
            if app.workspace.steps:
                break
        step = app.workspace.steps[-1]
        assert isinstance(step, ChunkTokens)
        assert (step.max_tokens, step.overlap, step.tokenizer) == (16, 5, tok)
        assert app.workspace.rows > 2


async def test_add_count_columns_as_a_step(tok: str, tmp_path: Path) -> None:
    from studio.engine.steps.tokens import CountTokens
    from studio.engine.tokens import load_tokenizer

    texts = ["Hello there!", "The quick brown fox jumps over the lazy dog."]
    path = _jsonl(tmp_path / "t.jsonl", [{"text": t, "n": i} for i, t in enumerate(texts)])
    app = StudioApp([path])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _open_tokens(app, pilot)
        pane.query_one("#tokens-tokenizer", Input).value = tok
        pane.start_count()
        await app.workers.wait_for_complete()
        await pilot.pause()
        button = pane.query_one("#tokens-add-columns")
        assert button.region.right <= 80
        button.press()
        for _ in range(100):
            await app.workers.wait_for_complete()
            await pilot.pause()
            if app.workspace is not None and app.workspace.steps:
                break
        assert app.workspace is not None
        step = app.workspace.steps[-1]
        assert isinstance(step, CountTokens) and step.tokenizer == tok
        frame = app.workspace.frame.collect()
        assert frame["tokens_text"].to_list() == load_tokenizer(tok).count(texts)
