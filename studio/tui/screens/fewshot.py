"""The few-shot pack screen: mode, k, label column, evaluation size, a template editor, a
preview with its token count against the context limit, and writing the pack.

The pack step (`fewshot.pack`) is built from the form; the preview and the write run in thread
workers (Escape cancels); the written `fewshot.recipe.json` is the workspace's recipe plus the
pack step, so `studio fewshot PATH --recipe ...` rewrites the same files headless.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Input, Label, Select, Static, TextArea

from studio.engine.errors import StudioError
from studio.engine.fewshot import (
    DEFAULT_EXEMPLAR,
    DEFAULT_TEMPLATE,
    EXEMPLAR_FIELDS,
    MODE_TITLES,
    MODES,
    PROMPT_FIELDS,
    Pack,
    build_pack,
    existing_targets,
    write_pack,
)
from studio.engine.steps.fewshot import FewShotPack
from studio.tui import keymap
from studio.tui.screens.form_run import FormRunView

if TYPE_CHECKING:
    from studio.engine.workspace import Workspace

NO_LABEL = "(none)"
PREVIEW_CHARS = 4000


def default_folder(paths: list[str], suffix: str) -> str:
    first = Path(paths[0]) if paths else Path("dataset")
    stem = first.name.split(".")[0] or "dataset"
    return str(first.parent / f"{stem}_{suffix}")


def _int(value: str, name: str, minimum: int = 0) -> int:
    try:
        number = int(value.strip() or "0")
    except ValueError:
        raise StudioError(f"{name} must be a whole number.") from None
    if number < minimum:
        raise StudioError(f"{name} must be at least {minimum}.")
    return number


class FewShotScreen(FormRunView):
    BINDINGS = keymap.bindings("fewshot")
    PREFIX = "fewshot"
    TITLE = "Few-shot pack"
    PREVIEW = "few-shot preview"
    WRITING = "writing the few-shot pack"
    WRITTEN = "Few-shot pack written"

    def __init__(self, marked: set[int] | None = None) -> None:
        super().__init__()
        self.marked = tuple(sorted(marked or ()))
        self.pack: Pack | None = None
        self.pack_step: FewShotPack | None = None

    def compose(self) -> ComposeResult:
        yield Static("Few-shot prompt pack", classes="view-title", id="fewshot-title")
        with VerticalScroll(id="fewshot-body"):
            with Horizontal(classes="fewshot-row"):
                yield Label("Mode")
                yield Select(
                    [(MODE_TITLES[m], m) for m in MODES],
                    value="diverse",
                    allow_blank=False,
                    id="fewshot-mode",
                )
                yield Label("k")
                yield Input("4", id="fewshot-k", type="integer")
                yield Label("Eval")
                yield Input("20", id="fewshot-eval", type="integer")
                yield Label("Seed")
                yield Input("0", id="fewshot-seed", type="integer")
            with Horizontal(classes="fewshot-row"):
                yield Label("Per label")
                yield Select([(NO_LABEL, "")], value="", allow_blank=False, id="fewshot-label")
                yield Label("Tokenizer")
                yield Input("", placeholder="empty: chars/4", id="fewshot-tokenizer")
                yield Label("Ctx")
                yield Input("", placeholder="auto", id="fewshot-context", type="integer")
            yield Static(
                Text(
                    "Template: "
                    + " ".join("{" + f + "}" for f in PROMPT_FIELDS)
                    + " · exemplar: "
                    + " ".join("{" + f + "}" for f in EXEMPLAR_FIELDS)
                    + " · {{ }} literal",
                    style="dim",
                ),
                classes="fewshot-hint",
            )
            yield TextArea(DEFAULT_TEMPLATE, id="fewshot-template", soft_wrap=True)
            with Horizontal(classes="fewshot-row"):
                yield Label("Exemplar")
                yield Input(DEFAULT_EXEMPLAR.replace("\n", "\\n"), id="fewshot-exemplar")
            yield from self.compose_run_row()
            yield Static(
                Text("Preview (ctrl+r) shows the prompt and its tokens."), id="fewshot-preview"
            )
        yield Footer()

    def on_mount(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        columns = ws.columns
        label_select = self.query_one("#fewshot-label", Select)
        label_select.set_options([(NO_LABEL, ""), *((c, c) for c in columns)])
        shape = ws.dataset.shape
        if shape.kind == "classification" and shape.label in columns:
            label_select.value = shape.label
        if self.marked:
            self.query_one("#fewshot-mode", Select).value = "marked"
        self.query_one("#fewshot-folder", Input).value = default_folder(
            list(ws.dataset.paths), "fewshot"
        )
        self.query_one("#fewshot-title", Static).update(
            Text(
                f"Few-shot prompt pack · {ws.dataset.name} · {ws.rows:,} rows"
                + (f" · {len(self.marked)} marked" if self.marked else "")
            )
        )
        self.query_one("#fewshot-mode", Select).focus()

    # -- the step from the form ---------------------------------------------------------------
    def build_step(self) -> FewShotPack:
        mode = str(self.query_one("#fewshot-mode", Select).value)
        if mode == "marked" and not self.marked:
            raise StudioError("No rows are marked: mark exemplars in Browse (space) first.")
        exemplar = self.query_one("#fewshot-exemplar", Input).value.replace("\\n", "\n")
        label = self.query_one("#fewshot-label", Select).value
        return FewShotPack(
            k=_int(self.query_one("#fewshot-k", Input).value, "k", 1 if mode != "marked" else 0),
            mode=mode,
            per_label=str(label) if isinstance(label, str) else "",
            ids=self.marked if mode == "marked" else (),
            eval_n=_int(self.query_one("#fewshot-eval", Input).value, "Eval"),
            seed=_int(self.query_one("#fewshot-seed", Input).value, "Seed"),
            template=self.query_one("#fewshot-template", TextArea).text,
            exemplar_format=exemplar,
            tokenizer=self.query_one("#fewshot-tokenizer", Input).value.strip(),
            context=_int(self.query_one("#fewshot-context", Input).value, "Context"),
        )

    # -- actions -------------------------------------------------------------------------------
    @on(Button.Pressed, "#fewshot-preview-button")
    def action_preview(self) -> None:
        self._preview("Building the preview…")

    @on(Button.Pressed, "#fewshot-write-button")
    def action_write(self) -> None:
        super().action_write()

    def existing_in(self, folder: Path, step: FewShotPack) -> list[Path]:
        return existing_targets(folder)

    def overwrite_question(self, folder: str, existing: list[Path]) -> str:
        return f"{folder} already holds a pack ({existing[0].name}). Overwrite it?"

    def compute(self, ws: Workspace, step: FewShotPack) -> Pack:
        return build_pack(ws.frame, step)

    def write(self, step: FewShotPack, args: tuple[Any, ...], **options: Any) -> tuple[Pack, str]:
        kept = self.pack if self.pack_step == step else None
        result = write_pack(*args, **options, pack=kept)
        return result.pack, result.summary()

    def show(self, step: FewShotPack, pack: Pack) -> None:
        self.pack, self.pack_step = pack, step
        head = Text()
        head.append(
            f"{pack.exemplars.height} exemplars · {pack.eval.height} evaluation rows", style="bold"
        )
        if pack.labels:
            head.append(f" · labels: {', '.join(pack.labels[:10])}")
        head.append("\n")
        head.append(pack.token_line() + "\n", style="bold" if pack.over_limit else "")
        for note in pack.notes:
            head.append(f"note: {note}\n", style="italic")
        head.append("─" * 20 + " prompt with the first evaluation input\n", style="dim")
        preview = pack.preview
        if len(preview) > PREVIEW_CHARS:
            preview = preview[:PREVIEW_CHARS] + "…"
        head.append(preview)
        widget = self.query_one("#fewshot-preview", Static)
        widget.update(head)
        self._set_status("")
        self.call_after_refresh(widget.scroll_visible)
