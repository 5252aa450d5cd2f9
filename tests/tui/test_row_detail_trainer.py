"""The loss-mask preview in the row detail (`t`: the conversation as the trainer sees it) and
the Tokens pane's entry opening at the Browse cursor row, in Pilot tests with a tokenizer
trained here and loaded by path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from studio.tui.app import StudioApp
from studio.tui.panes.tokens import TokensPane
from studio.tui.screens.loss_mask import LossMaskScreen
from studio.tui.screens.row_detail import RowDetailScreen
from studio.tui.widgets.frame_table import FrameTable
from tests.tokens_fixtures import build_tokenizer
from tests.tui.settle import settle

CHAT = [
    {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": "Paris is the capital of France."},
        ]
    },
    {
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello there!"},
            {"role": "user", "content": "How many tokens?"},
            {"role": "assistant", "content": "A few."},
        ]
    },
    {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]},
]


@pytest.fixture(scope="module")
def tok(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(build_tokenizer(tmp_path_factory.mktemp("tok") / "tiny"))


def _jsonl(path: Path, rows: list[dict]) -> str:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return str(path)


def _text(screen: RowDetailScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def _set_tokenizer(app: StudioApp, pilot, spec: str) -> None:  # noqa: ANN001
    await settle(app, pilot)
    pane = app.query_one(TokensPane)
    await pane.build()  # a tab's widgets exist once it has been shown or built
    pane.query_one("#tokens-tokenizer", Input).value = spec


async def test_row_detail_shows_the_row_as_the_trainer_sees_it(tok: str, tmp_path: Path) -> None:
    app = StudioApp([_jsonl(tmp_path / "chat.jsonl", CHAT)])
    async with app.run_test(size=(80, 24)) as pilot:
        await _set_tokenizer(app, pilot, tok)
        app.query_one("#browse-table", FrameTable).focus()
        await pilot.press("j", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RowDetailScreen) and screen.row_id == 1
        assert screen.query_one("#detail-body").display
        await pilot.press("t")
        await settle(app, pilot)
        assert screen.showing_trainer and screen.preview is not None
        assert not screen.query_one("#detail-body").display
        assert screen.query_one("#detail-trainer").display
        preview = screen.preview
        assert preview.templated and not preview.estimate
        # the row being viewed (the second), with both assistant turns trained
        trained = [piece for piece, on in preview.pieces if on]
        assert trained == ["Hello there!<|end|>\n", "A few.<|end|>\n"]
        masked = "".join(piece for piece, on in preview.pieces if not on)
        assert "<|user|>\nHow many tokens?<|end|>" in masked
        assert [t.role for t in preview.turns] == ["user", "assistant", "user", "assistant"]
        assert preview.turns[0].trained == 0 and preview.turns[1].trained > 0
        note = _text(screen, "#detail-trainer-note")
        assert "after the chat template" in note and "masked from the loss" in note
        turns = _text(screen, "#detail-trainer-turns")
        assert "assistant" in turns and f"{preview.turns[1].tokens:,}" in turns
        assert "How many tokens?" in _text(screen, "#detail-trainer-text")
        await pilot.press("t")
        await pilot.pause()
        assert not screen.showing_trainer and screen.query_one("#detail-body").display
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RowDetailScreen)


async def test_without_a_tokenizer_the_view_says_which_to_pick(tmp_path: Path) -> None:
    app = StudioApp([_jsonl(tmp_path / "chat.jsonl", CHAT)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.query_one("#browse-table", FrameTable).focus()
        await pilot.press("enter", "t")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RowDetailScreen) and screen.preview is not None
        assert screen.preview.estimate and not screen.preview.templated
        note = _text(screen, "#detail-trainer-note")
        assert "No tokenizer chosen" in note and "Tokens pane" in note and "≈" in note


async def test_row_without_a_conversation_stays_on_the_record(tmp_path: Path) -> None:
    app = StudioApp([_jsonl(tmp_path / "t.jsonl", [{"text": "just text"}])])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.query_one("#browse-table", FrameTable).focus()
        await pilot.press("enter", "t")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RowDetailScreen)
        assert not screen.showing_trainer and screen.preview is None
        assert screen.query_one("#detail-body").display


async def test_tokens_pane_preview_opens_at_the_browse_cursor_row(tok: str, tmp_path: Path) -> None:
    app = StudioApp([_jsonl(tmp_path / "chat.jsonl", CHAT)])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.query_one("#browse-table", FrameTable).focus()
        await pilot.press("j", "j")
        assert app.browse_cursor_id() == 2
        app.query_one("#tabs").active = "tab-tokens"
        await settle(app, pilot)
        pane = app.query_one(TokensPane)
        pane.query_one("#tokens-tokenizer", Input).value = tok
        pane.start_count()
        await settle(app, pilot)
        pane.action_loss_mask()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LossMaskScreen)
        assert screen.position == 2 and screen.preview is not None
        assert ("Hello<|end|>\n", True) in screen.preview.pieces
