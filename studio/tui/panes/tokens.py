"""The Tokens pane: counts per row with the user's tokenizer, lengths, limits, chat checks.

The count runs in a worker (progress bar here and in the status line; the app's Escape
cancels it) and is cached on disk by the engine,
so reopening the same data is instant. The computed figures are kept in `self.figures`
(`studio.engine.tokens.TokenFigures`) and announced with `TokensPane.Counted`, so the
Approach panel can read training tokens per epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Select, Static
from textual.worker import get_current_worker

from studio.engine.chat_checks import CheckResult, check_chat
from studio.engine.errors import StudioError
from studio.engine.progress import Cancelled
from studio.engine.steps.base import ID
from studio.engine.steps.tokens import ChunkTokens, CountTokens, DropOverLimit, TruncateTokens
from studio.engine.tokens import (
    ESTIMATE_LABEL,
    CountPlan,
    TokenFigures,
    count_tokens,
    figures,
    load_tokenizer,
    plan_columns,
)
from studio.tui.messages import OpenRows, StepRequested, WorkProgress
from studio.tui.panes.base import Pane

DEFAULT_LIMIT = 2048
HISTOGRAM_BINS = 10
BAR_WIDTH = 30


@dataclass(frozen=True)
class TokensResult:
    """One finished count: what was counted, with what, and the figures and checks."""

    tokenizer: str
    plan: CountPlan
    figures: TokenFigures
    checks: tuple[CheckResult, ...]
    counts: pl.DataFrame


def histogram_text(fig: TokenFigures, width: int = BAR_WIDTH, columns: int = 0) -> Text:
    """Horizontal bars per length bin; bins over the limit are drawn with a lighter block.
    With `columns` (the space on screen) the bars shrink so label, bar and count fit a line."""
    text = Text()
    if not fig.histogram:
        return text
    top = max(n for _, _, n in fig.histogram) or 1
    labels = [f"{low:,}–{high - 1:,}" for low, high, _ in fig.histogram]
    label_width = max(len(label) for label in labels)
    if columns > 0:
        count_width = len(f"{top:,}")
        width = max(4, min(width, columns - label_width - 3 - count_width))
    for label, (_low, high, n) in zip(labels, fig.histogram, strict=True):
        over = fig.limit is not None and high - 1 > fig.limit
        bar = ("▒" if over else "█") * (max(1, round(n / top * width)) if n else 0)
        text.append(f"{label:>{label_width}} │")
        text.append(bar, style="dim" if over else "")
        text.append(f" {n:,}\n")
    if fig.limit is not None:
        text.append(f"▒ = bins past the limit of {fig.limit:,} tokens\n", style="dim")
    return text


def figures_text(fig: TokenFigures) -> Text:
    exact = not fig.estimate
    text = Text()
    text.append("Tokenizer: ")
    text.append(fig.tokenizer, style="bold")
    if not exact:
        text.append("  (not exact: pick a tokenizer for real counts)", style="italic")
    text.append("\n")
    prefix = "" if exact else "≈ "
    text.append(f"{fig.rows:,} rows · {prefix}{fig.total:,} tokens in all\n")
    text.append(
        f"p50 {prefix}{fig.p50:,} · p90 {prefix}{fig.p90:,} · p99 {prefix}{fig.p99:,} · "
        f"max {prefix}{fig.max:,}\n"
    )
    if fig.trained_tokens is not None:
        text.append(
            f"prompt {prefix}{fig.prompt_tokens:,} · trained (assistant) "
            f"{prefix}{fig.trained_tokens:,}\n"
        )
    if fig.chat_counting:
        text.append(f"chats: {fig.chat_counting}\n", style="italic")
    if fig.limit is not None:
        text.append(f"over the limit of {fig.limit:,}: ")
        rows = f"{fig.over_limit:,} row" + ("" if fig.over_limit == 1 else "s")
        text.append(rows, style="bold" if fig.over_limit else "")
        text.append("\n")
    text.append(f"training tokens per epoch: {prefix}{fig.training_tokens_per_epoch:,}\n")
    return text


class TokensPane(Pane):
    TAB_ID = "tokens"
    TITLE = "Tokens"
    DEFAULT_CSS = (Path(__file__).parent.parent / "styles" / "tokens.tcss").read_text(
        encoding="utf-8"
    )
    BINDINGS = [
        Binding("ctrl+r", "count", "Count", id="tokens-count", tooltip="Count tokens again"),
        Binding(
            "ctrl+l",
            "loss_mask",
            "Loss mask",
            id="tokens-loss-mask",
            tooltip="Show the Browse cursor's chat row as the trainer sees it",
        ),
    ]

    @dataclass
    class Counted(Message):
        """Tokens were counted; `figures` holds the numbers (training tokens per epoch...)."""

        figures: TokenFigures

    def __init__(self, workspace: Any = None, **kwargs: Any) -> None:
        super().__init__(workspace, **kwargs)
        self.figures: TokenFigures | None = None
        self.result: TokensResult | None = None
        self._generation = -1
        self._tab_shown = False
        self._counting = False
        self._count_again = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="tokens-body"):
            with Horizontal(id="tokens-controls"):
                yield Input(
                    placeholder="tokenizer (empty: ≈ estimate)",
                    id="tokens-tokenizer",
                    tooltip="A Hugging Face name or folder, or tiktoken:NAME. Empty: an estimate.",
                )
                yield Input(
                    str(DEFAULT_LIMIT),
                    placeholder="max tokens",
                    type="integer",
                    id="tokens-limit",
                    tooltip="Context limit: rows longer than this are flagged",
                )
                yield Button("Count", id="tokens-count-button", variant="primary")
                yield Button(
                    "+ Columns",
                    id="tokens-add-columns",
                    tooltip="Add the counts to the data as tokens_<column> columns (a step),"
                    " to sort, filter or export by them",
                )
            with Horizontal(id="tokens-status-row"):
                yield Label(ESTIMATE_LABEL, id="tokens-mode")
                yield ProgressBar(id="tokens-progress", show_eta=False)
            with Horizontal(id="tokens-main"):
                with Vertical(id="tokens-left"):
                    yield Static("", id="tokens-figures")
                    yield Static("", id="tokens-histogram")
                with Vertical(id="tokens-right"):
                    yield Label("Checks (Enter: show rows)", classes="tokens-heading")
                    table: DataTable[Any] = DataTable(id="tokens-checks", cursor_type="row")
                    yield table
            with Horizontal(id="tokens-actions"):
                yield Button("Drop over limit", id="tokens-drop")
                yield Select(
                    [("start", "start"), ("end", "end")],
                    value="start",
                    allow_blank=False,
                    id="tokens-keep",
                    tooltip="Truncate: keep the start or the end of the text",
                )
                yield Button("Truncate", id="tokens-truncate")
                yield Button("Chunk", id="tokens-chunk")
                yield Input(
                    placeholder="overlap",
                    type="integer",
                    id="tokens-overlap",
                    tooltip="Chunk: tokens each chunk shares with the previous one"
                    " (chunks are the token limit long; empty: limit ÷ 8, at most 64)",
                )
                yield Button("Loss mask", id="tokens-loss-mask-button")

    def on_mount(self) -> None:
        table = self.query_one("#tokens-checks", DataTable)
        table.add_columns("check", "rows")
        self.query_one("#tokens-progress", ProgressBar).display = False
        self.workspace_changed()

    # -- state -----------------------------------------------------------------------------
    @property
    def tokenizer_spec(self) -> str:
        return self.query_one("#tokens-tokenizer", Input).value.strip()

    @property
    def limit(self) -> int | None:
        value = self.query_one("#tokens-limit", Input).value.strip()
        try:
            limit = int(value)
        except ValueError:
            return None
        return limit if limit > 0 else None

    def workspace_changed(self) -> None:
        """Recount when the data changed, but only while the tab is shown (else on show)."""
        if self.workspace is None or not self.is_mounted or not self._tab_shown:
            return
        if self.workspace.generation == self._generation and self.result is not None:
            return
        self.start_count()

    def on_show(self) -> None:
        self._tab_shown = True
        self.workspace_changed()

    def on_hide(self) -> None:
        self._tab_shown = False

    # -- counting ----------------------------------------------------------------------------
    def start_count(self) -> None:
        """Count with the current inputs. While a count runs, the next one waits for it
        (no stale worker is cancelled, so nothing is left half done)."""
        if self.workspace is None:
            return
        if self._counting:
            self._count_again = True
            return
        self._counting = True
        self._count_again = False
        self._generation = self.workspace.generation
        spec = self.tokenizer_spec
        mode = self.query_one("#tokens-mode", Label)
        mode.update(Text(f"counting with {spec}…" if spec else f"{ESTIMATE_LABEL}: counting…"))
        bar = self.query_one("#tokens-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self.count(spec, self.limit)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="tokens",
        description="counting tokens",
    )
    def count(self, spec: str, limit: int | None) -> None:
        worker = get_current_worker()
        workspace = self.workspace
        assert workspace is not None
        pristine = not workspace.steps
        frame = workspace.frame

        def progress(done: int, total: int, note: str) -> None:
            self.app.call_from_thread(self._progress, done, total)
            self.post_message(WorkProgress("counting tokens", done, total))

        try:
            counter = load_tokenizer(spec)
            plan = plan_columns(frame, workspace.dataset.shape if pristine else None)
            counts = count_tokens(
                frame,
                counter,
                plan=plan,
                sources=workspace.dataset.paths,
                on_progress=progress,
                cancelled=lambda: worker.is_cancelled,
                pristine=pristine,
            )
            if worker.is_cancelled:
                return
            fig = figures(counts, counter, limit, HISTOGRAM_BINS)
            checks = check_chat(
                frame, plan.chat, sharegpt=plan.sharegpt, counts=counts, limit=limit
            )
        except Cancelled:
            self.app.call_from_thread(self._cancelled)
            return
        except StudioError as exc:
            # said here (toast and label) rather than failing the worker: the last good
            # figures stay and waiting on the app's workers does not raise
            self.app.call_from_thread(self._failed, str(exc))
            return
        finally:
            self.app.call_from_thread(self._finished)
        result = TokensResult(spec, plan, fig, tuple(checks), counts)
        self.app.call_from_thread(self._show, result)

    def _progress(self, done: int, total: int) -> None:
        self.query_one("#tokens-progress", ProgressBar).update(total=total, progress=done)

    def _finished(self) -> None:
        self.query_one("#tokens-progress", ProgressBar).display = False
        self._counting = False
        if self._count_again:
            # a change or a request came in while counting: count again once it is shown
            self.call_after_refresh(self.start_count)

    def _cancelled(self) -> None:
        # the app's Escape (cancel running work) already said so in a toast
        self.query_one("#tokens-mode", Label).update("count cancelled (Ctrl+R counts again)")

    def _failed(self, message: str) -> None:
        self.query_one("#tokens-mode", Label).update(Text(f"not counted: {message}"))
        self.notify(message, severity="error", title="Counting tokens", markup=False, timeout=8)

    def _show(self, result: TokensResult) -> None:
        self.result = result
        self.figures = result.figures
        fig = result.figures
        mode = self.query_one("#tokens-mode", Label)
        if fig.estimate:
            mode.update(Text(f"{ESTIMATE_LABEL} (characters ÷ 4), not exact counts"))
            mode.add_class("estimate")
        else:
            mode.update(Text(f"exact counts with {fig.tokenizer}"))
            mode.remove_class("estimate")
        self.query_one("#tokens-figures", Static).update(figures_text(fig))
        self._draw_histogram()
        table = self.query_one("#tokens-checks", DataTable)
        table.clear()
        for check in result.checks:
            if result.plan.chat is None and check.name != "over_limit":
                continue
            if check.name == "turn_order" and not result.plan.sharegpt:
                continue
            table.add_row(Text(check.name), Text(f"{check.count:,}"), key=check.name)
        chat = result.plan.chat is not None
        for button_id in ("#tokens-truncate", "#tokens-chunk"):
            self.query_one(button_id, Button).disabled = chat
        self.query_one("#tokens-loss-mask-button", Button).disabled = not chat
        self.post_message(self.Counted(fig))

    # -- actions ---------------------------------------------------------------------------
    def _draw_histogram(self) -> None:
        histogram = self.query_one("#tokens-histogram", Static)
        if self.figures is None:
            return
        histogram.update(histogram_text(self.figures, columns=histogram.content_size.width))

    def on_resize(self) -> None:
        if self.figures is not None:
            self.call_after_refresh(self._draw_histogram)

    def action_count(self) -> None:
        self.start_count()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.start_count()

    @on(Button.Pressed, "#tokens-count-button")
    def _count_pressed(self) -> None:
        self.start_count()

    @on(DataTable.RowSelected, "#tokens-checks")
    def _check_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.result is None:
            return
        name = event.row_key.value
        check = next((c for c in self.result.checks if c.name == name), None)
        if check is None or not check.ids:
            self.notify(f"No rows flagged by {name}.", markup=False)
            return
        self.post_message(OpenRows(list(check.ids), f"{check.name}: {check.description}"))

    def _need_limit(self) -> int | None:
        limit = self.limit
        if limit is None:
            self.notify("Enter a token limit first.", severity="warning", markup=False)
        return limit

    @on(Button.Pressed, "#tokens-add-columns")
    def action_add_columns(self) -> None:
        columns = self.result.plan.columns if self.result is not None else ()
        self.post_message(StepRequested(CountTokens(self.tokenizer_spec, tuple(columns))))

    @on(Button.Pressed, "#tokens-drop")
    def action_drop_over(self) -> None:
        limit = self._need_limit()
        if limit is None:
            return
        columns = self.result.plan.columns if self.result is not None else ()
        self.post_message(StepRequested(DropOverLimit(self.tokenizer_spec, limit, columns)))

    @on(Button.Pressed, "#tokens-truncate")
    def action_truncate(self) -> None:
        limit = self._need_limit()
        if limit is None:
            return
        keep = str(self.query_one("#tokens-keep", Select).value)
        self.post_message(StepRequested(TruncateTokens(self.tokenizer_spec, limit, "", keep)))

    @on(Button.Pressed, "#tokens-chunk")
    def action_chunk(self) -> None:
        limit = self._need_limit()
        if limit is None:
            return
        value = self.query_one("#tokens-overlap", Input).value.strip()
        overlap = int(value) if value.lstrip("-").isdigit() else min(64, limit // 8)
        if not 0 <= overlap < limit:
            self.notify(
                f"The overlap must be at least 0 and smaller than the limit ({limit:,}).",
                severity="error",
                markup=False,
            )
            return
        self.post_message(StepRequested(ChunkTokens(self.tokenizer_spec, limit, overlap, "")))

    @on(Button.Pressed, "#tokens-loss-mask-button")
    def action_loss_mask(self) -> None:
        if self.workspace is None or self.result is None or self.result.plan.chat is None:
            self.notify("The loss-mask preview needs chat data.", markup=False)
            return
        from studio.tui.screens.loss_mask import LossMaskScreen

        plan = self.result.plan
        frame = self.workspace.frame
        self.app.push_screen(
            LossMaskScreen(
                frame,
                plan.chat,  # type: ignore[arg-type]
                load_tokenizer(self.tokenizer_spec),
                sharegpt=plan.sharegpt,
                position=self._browse_position(frame),
            )
        )

    def _browse_position(self, frame: pl.LazyFrame) -> int:
        """Where the Browse cursor's row is in the current data (0 when unknown)."""
        row_id = getattr(self.app, "browse_cursor_id", lambda: None)()
        if row_id is None:
            return 0
        found = (
            frame.select(ID)
            .with_row_index("__pos")
            .filter(pl.col(ID) == row_id)
            .select("__pos")
            .collect()
        )
        return int(found.item(0, 0)) if found.height else 0
