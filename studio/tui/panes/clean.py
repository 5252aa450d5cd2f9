"""The Clean pane: find duplicates and review them cluster by cluster, resolve conflicting
labels, apply cleaning ops and count quality flags.

Detection runs in a worker (progress bar, Escape cancels); decisions (reject a cluster, keep a
different row) become the `overrides` of the dedup step posted with `StepRequested`, so the
recipe replays the same rows headless.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import WorkerState, get_current_worker

from studio.engine.dedup.clusters import KEEP_POLICIES, Clusters
from studio.engine.dedup.text import Normalization, normalize
from studio.engine.errors import StepError, StudioError
from studio.engine.progress import RunContext, running
from studio.engine.quality_flags import FLAG_NAMES, flag_counts
from studio.engine.steps.base import ID, Step, id_in
from studio.engine.steps.clean import LLM_NOTE, OPS, build_ops
from studio.engine.steps.dedup import (
    DedupAgainst,
    DedupExact,
    DedupNear,
    DedupNormalized,
    DedupSemantic,
    DedupStep,
    LabelConflicts,
)
from studio.engine.steps.flags import AddFlags
from studio.tui.messages import StepRequested
from studio.tui.panes.base import Pane
from studio.tui.screens.picker import PickerScreen

MODES = ("exact", "normalized", "near", "semantic")
PREVIEW_CHARS = 4000
OP_LABELS = {
    "html": "HTML",
    "control": "control chars",
    "nfc": "Unicode NFC",
    "nfkc": "Unicode NFKC",
    "strip": "whitespace",
    "empty": "empty markers",
    "drop_empty": "drop empty",
    "lower": "lowercase*",
    "stopwords": "stop words*",
    "stem": "stem*",
}
"""Ticked ops apply in this order: markup and stray characters go before whitespace is tidied
(tags leave line breaks and spaces behind), stop words before stemming (stems no longer match
the list)."""


def word_diff(a: str, b: str) -> tuple[Text, Text]:
    """Both texts as `Text`, with the words that differ highlighted (data is never markup)."""
    ta, tb = re.findall(r"\S+|\s+", a), re.findall(r"\S+|\s+", b)
    left, right = Text(), Text()
    matcher = difflib.SequenceMatcher(a=ta, b=tb, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        chunk_a, chunk_b = "".join(ta[i1:i2]), "".join(tb[j1:j2])
        if op == "equal":
            left.append(chunk_a)
            right.append(chunk_b)
        else:
            left.append(chunk_a, style="bold red reverse")
            right.append(chunk_b, style="bold green reverse")
    return left, right


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _short(value: object, limit: int = PREVIEW_CHARS) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + "…"


NEAR_SETTINGS = {"shingle": str, "ngram": int, "perm": int, "similarity": float, "seed": int}


def near_settings(text: str) -> dict[str, Any]:
    """`"shingle=char ngram=5 perm=128 bands=16x4"` -> DedupNear fields."""
    out: dict[str, Any] = {}
    for part in text.replace(",", " ").split():
        name, _, value = part.partition("=")
        name = name.strip().lower()
        try:
            if name == "bands":
                bands, _, rows = value.lower().partition("x")
                out["bands"], out["rows"] = int(bands), int(rows)
            elif name in NEAR_SETTINGS:
                out["num_perm" if name == "perm" else name] = NEAR_SETTINGS[name](value)
            else:
                raise StepError(
                    f"Unknown near setting {name!r}; use shingle, ngram, perm, bands, similarity."
                )
        except ValueError:
            raise StepError(f"The near setting {part!r} is not valid.") from None
    return out


class AgainstPickerScreen(PickerScreen):
    """The file picker, titled for choosing the file to compare against (leaks)."""

    def show_folder(self, folder: Any) -> None:
        super().show_folder(folder)
        self.query_one("#picker-title", Static).update(
            Text(f"Find leaks: pick the other file · {folder}", no_wrap=True, overflow="ellipsis")
        )


class LeakGroup:
    """Rows of the loaded data matching one row of the other file."""

    __slots__ = ("members", "other_id", "other_source", "other_text")

    def __init__(self, other_id: int, other_source: str, other_text: str, members: list[int]):
        self.other_id, self.other_source, self.other_text = other_id, other_source, other_text
        self.members = members


class CleanPane(Pane):
    TAB_ID = "clean"
    TITLE = "Clean"

    BINDINGS = [
        Binding(
            "f",
            "find",
            "Find",
            id="clean.find",
            tooltip="Find duplicates, conflicting labels or flag counts (the open sub-tab)",
        ),
        Binding("a", "accept", "Accept", id="clean.accept", tooltip="Accept this cluster"),
        Binding("r", "reject", "Reject", id="clean.reject", tooltip="Keep every row of it"),
        Binding("k", "keep_shown", "Keep this", id="clean.keep", tooltip="Keep the right row"),
        Binding("n", "next_member", "Next row", id="clean.next", tooltip="Compare the next row"),
        Binding("p", "prev_member", "Prev row", id="clean.prev", show=False),
        Binding("x", "apply", "Apply", id="clean.apply", tooltip="Apply as a step"),
        Binding(
            "o",
            "pick_against",
            "Against…",
            id="clean.against",
            tooltip="Pick another file and find rows of this data that also sit in it (leaks)",
        ),
        Binding("escape", "cancel", "Cancel", id="clean.cancel", show=False),
    ]

    def __init__(self, workspace: Any = None, **kwargs: Any) -> None:
        super().__init__(workspace, **kwargs)
        self.clusters: Clusters | None = None
        self.members: list[Any] = []
        self.texts: dict[int, str] = {}
        self.found_step: DedupStep | None = None
        self.decisions: dict[int, int] = {}  # cluster index -> kept id (-1: rejected)
        self.current = -1
        self.shown = 1  # which member is on the right
        self.conflicts: pl.DataFrame | None = None
        self.picks: dict[int, tuple[int, str]] = {}  # group -> (member id, label)
        self._queue: list[Step] = []
        self.leak_step: DedupAgainst | None = None
        self.leak_groups: list[LeakGroup] = []
        self.leak_texts: dict[int, str] = {}
        self.leak_kept: set[int] = set()  # my row ids kept although they match
        self.leak_decisions: dict[int, str] = {}  # group -> "accepted" / "rejected" / "kept some"

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with TabbedContent(id="clean-tabs"):
            with TabPane("Duplicates", id="clean-dups"):
                with Horizontal(classes="controls"):
                    yield Select(
                        [(m, m) for m in MODES],
                        value="normalized",
                        allow_blank=False,
                        compact=True,
                        id="dup-mode",
                    )
                    yield Input(placeholder="column", compact=True, id="dup-column")
                    yield Input(placeholder="threshold", compact=True, id="dup-threshold")
                    yield Select(
                        [(p, p) for p in KEEP_POLICIES],
                        value="first",
                        allow_blank=False,
                        compact=True,
                        id="dup-keep",
                    )
                    yield Input(
                        placeholder="model / keep column",
                        compact=True,
                        classes="wide",
                        id="dup-extra",
                        tooltip="semantic: encoder name or folder; highest/lowest: the column;"
                        " near: options like 'shingle=char ngram=5 perm=128 bands=16x4"
                        " similarity=0.85'",
                    )
                with Horizontal(classes="controls"):
                    yield Button("Find", compact=True, id="dup-find")
                    yield Input(
                        "case,whitespace,punctuation,nfkc",
                        placeholder="normalized: ignore…",
                        compact=True,
                        classes="wide",
                        id="dup-ignore",
                        tooltip="What the normalized key ignores: case, whitespace, punctuation, nfkc",
                    )
                    yield ProgressBar(total=100, show_eta=False, id="dup-progress")
                    yield Static("", classes="status", id="dup-status")
                with Horizontal(classes="controls"):
                    yield Button("Against…", compact=True, id="dup-against-pick")
                    yield Input(
                        placeholder="leaks: other file (empty: duplicates within this data)",
                        compact=True,
                        classes="against",
                        id="dup-against",
                        tooltip="Find rows of this data that also sit in another file"
                        " (exact, normalized or near)",
                    )
                with Horizontal(id="dup-body"):
                    yield DataTable(id="dup-clusters", cursor_type="row", zebra_stripes=True)
                    with Vertical(classes="member"):
                        yield Static("", classes="member-title", id="dup-left-title")
                        with VerticalScroll(classes="member-text"):
                            yield Static("", id="dup-left")
                    with Vertical(classes="member"):
                        yield Static("", classes="member-title", id="dup-right-title")
                        with VerticalScroll(classes="member-text"):
                            yield Static("", id="dup-right")
            with TabPane("Labels", id="clean-labels"):
                with Horizontal(classes="controls"):
                    yield Input(placeholder="text column", compact=True, id="lab-text")
                    yield Input(placeholder="label column", compact=True, id="lab-label")
                    yield Select(
                        [("majority", "majority"), ("drop all", "drop"), ("picked", "pick")],
                        value="majority",
                        allow_blank=False,
                        compact=True,
                        id="lab-resolution",
                    )
                with Horizontal(classes="controls"):
                    yield Button("Find", compact=True, id="lab-find")
                    yield Button("Pick label", compact=True, id="lab-pick")
                    yield Button("Apply", compact=True, id="lab-apply")
                    yield Static("", classes="status", id="lab-status")
                yield DataTable(id="label-groups", cursor_type="row", zebra_stripes=True)
            with TabPane("Cleaning", id="clean-ops"):
                with Horizontal(classes="controls"):
                    yield Input(placeholder="column", compact=True, id="ops-column")
                    yield Input(
                        placeholder="new column (optional)",
                        compact=True,
                        classes="wide",
                        id="ops-output",
                    )
                    yield Button("Apply", compact=True, id="ops-apply")
                with Horizontal(classes="controls"):
                    yield Input(
                        placeholder="stop-word file (default: built-in English)",
                        compact=True,
                        classes="against",
                        id="ops-stopwords",
                    )
                    yield Input(
                        placeholder="stem language",
                        compact=True,
                        classes="wide",
                        id="ops-language",
                    )
                with Horizontal(id="ops"):
                    with Vertical():
                        for name in list(OP_LABELS)[:5]:
                            yield Checkbox(OP_LABELS[name], compact=True, id=f"op-{name}")
                    with Vertical():
                        for name in list(OP_LABELS)[5:]:
                            yield Checkbox(OP_LABELS[name], compact=True, id=f"op-{name}")
                yield Static("* " + LLM_NOTE, classes="note")
                yield Static("", classes="status", id="ops-status")
            with TabPane("Flags", id="clean-flags"):
                with Horizontal(classes="controls"):
                    yield Input(placeholder="column", compact=True, id="flag-column")
                    yield Label("min/max words")
                    yield Input("3", compact=True, id="flag-min-words")
                    yield Input("2000", compact=True, id="flag-max-words")
                with Horizontal(classes="controls"):
                    yield Label("dup lines")
                    yield Input("0.30", compact=True, id="flag-dup-lines")
                    yield Label("dup 3-grams")
                    yield Input("0.20", compact=True, id="flag-dup-ngrams")
                    yield Label("alpha words")
                    yield Input("0.80", compact=True, id="flag-alpha")
                with Horizontal(classes="controls"):
                    yield Button("Count", compact=True, id="flag-count")
                    yield Button("Add flag columns", compact=True, id="flag-add")
                yield DataTable(id="flag-counts", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one("#dup-clusters", DataTable)
        table.add_columns("#", "size", "sim", "kept", "decision")
        self.query_one("#label-groups", DataTable).add_columns(
            "group", "label", "rows", "keeps", "text"
        )
        self.query_one("#flag-counts", DataTable).add_columns("flag", "rows", "meaning")
        self.workspace_changed()

    def workspace_changed(self) -> None:
        if self.workspace is None:
            return
        shape = self.workspace.dataset.shape
        for selector, value in (
            ("#dup-column", shape.text),
            ("#lab-text", shape.text),
            ("#lab-label", shape.label),
            ("#ops-column", shape.text),
            ("#flag-column", shape.text),
        ):
            field = self.query_one(selector, Input)
            if not field.value and value:
                field.value = value
        if self._queue:
            self.set_timer(0.05, self._post_queued)

    def _post_queued(self) -> None:
        """Post the next queued step once the app's step worker has finished (it is exclusive:
        a new request while one runs would cancel it)."""
        if not self._queue:
            return
        busy = any(
            w.group == "step" and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for w in self.app.workers
        )
        if busy:
            self.set_timer(0.05, self._post_queued)
            return
        self.post_message(StepRequested(self._queue.pop(0)))

    # -- duplicates: building and finding -----------------------------------------------------
    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def build_dedup_step(self, overrides: tuple[tuple[int, int], ...] = ()) -> DedupStep:
        mode = str(self.query_one("#dup-mode", Select).value)
        keep = str(self.query_one("#dup-keep", Select).value)
        column = self._value("#dup-column") or "text"
        extra = self._value("#dup-extra")
        threshold_text = self._value("#dup-threshold")
        try:
            threshold = float(threshold_text) if threshold_text else None
        except ValueError:
            raise StepError(f"The threshold {threshold_text!r} is not a number.") from None
        near_extra = mode == "near" and "=" in extra
        keep_column = extra if keep in ("highest", "lowest") and not near_extra else ""
        common: dict[str, Any] = {"keep": keep, "keep_column": keep_column, "overrides": overrides}
        if mode == "exact":
            # several columns separated by commas; "*" or "all": every column
            names = tuple(c.strip() for c in column.split(",") if c.strip())
            return DedupExact(columns=() if names in (("*",), ("all",)) else names, **common)
        if mode == "normalized":
            options = Normalization.parse(self._value("#dup-ignore") or "all")
            return DedupNormalized(
                column=column,
                case=options.case,
                whitespace=options.whitespace,
                punctuation=options.punctuation,
                nfkc=options.nfkc,
                **common,
            )
        if mode == "near":
            more: dict[str, Any] = near_settings(extra) if near_extra else {}
            if threshold is not None:
                more["threshold"] = threshold
            return DedupNear(column=column, **more, **common)
        more = {"threshold": threshold} if threshold is not None else {}
        return DedupSemantic(column=column, model=extra, **more, **common)

    def build_leak_step(self, kept: tuple[int, ...] = ()) -> DedupAgainst | None:
        """The leak step for the file named in the against field (None when it is empty)."""
        other = self._value("#dup-against")
        if not other:
            return None
        mode = str(self.query_one("#dup-mode", Select).value)
        if mode == "semantic":
            raise StepError("Leaks are found exact, normalized or near: pick one of those modes.")
        if not Path(other).expanduser().exists():
            raise StepError(f"There is no file {other}.")
        threshold_text = self._value("#dup-threshold")
        extra: dict[str, Any] = {}
        if threshold_text and mode == "near":
            try:
                extra["threshold"] = float(threshold_text)
            except ValueError:
                raise StepError(f"The threshold {threshold_text!r} is not a number.") from None
        return DedupAgainst(
            other=str(Path(other).expanduser()),
            column=self._value("#dup-column") or "text",
            mode=mode,
            kept=kept,
            **extra,
        )

    def action_find(self) -> None:
        if self.workspace is None:
            return
        # `f` finds what the open sub-tab is about, like `x` applies it
        active = self.query_one("#clean-tabs", TabbedContent).active
        if active == "clean-labels":
            self._lab_find()
            return
        if active == "clean-flags":
            self._flag_count()
            return
        if active == "clean-ops":
            self.notify("Tick cleaning ops, then x applies them.", severity="information")
            return
        try:
            leak = self.build_leak_step()
            step = leak or self.build_dedup_step()
            step.validate(self.workspace.frame.collect_schema())
        except StepError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.query_one("#dup-progress", ProgressBar).update(total=100, progress=0)
        if leak is not None:
            self.query_one("#dup-status", Static).update(Text("finding leaked rows…"))
            self.find_leaks(leak, self.workspace.frame)
            return
        self.query_one("#dup-status", Static).update(Text("finding duplicates…"))
        self.find_duplicates(step, self.workspace.frame)  # type: ignore[arg-type]

    def action_pick_against(self) -> None:
        """Choose the other file with the picker; its path fills the against field."""
        folder = None
        if self.workspace is not None and self.workspace.dataset.paths:
            folder = Path(self.workspace.dataset.paths[0]).resolve().parent

        def picked(path: str | None) -> None:
            if path:
                self.query_one("#dup-against", Input).value = path
                self.query_one("#dup-status", Static).update(
                    Text(f"against {Path(path).name}: f finds leaked rows")
                )
                self.query_one("#dup-clusters", DataTable).focus()

        self.app.push_screen(AgainstPickerScreen(folder), picked)

    @on(Button.Pressed, "#dup-against-pick")
    def _against_pressed(self) -> None:
        self.action_pick_against()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="clean-find",
        description="finding leaked rows",
    )
    def find_leaks(self, step: DedupAgainst, frame: pl.LazyFrame) -> None:
        worker = get_current_worker()

        def progress(done: float, total: float, note: str) -> None:
            self.app.call_from_thread(self._progress, done, total, note)

        context = RunContext(on_progress=progress, is_cancelled=lambda: worker.is_cancelled)
        with running(context), self._status_on_failure():
            leaks = step.leaks(frame)
        if worker.is_cancelled:
            return
        grouped = (
            leaks.group_by("other_id", maintain_order=True)
            .agg(pl.col("other_source").first(), pl.col(ID))
            .head(2000)
        )
        mine_ids = [int(i) for ids in grouped[ID].to_list() for i in ids]
        mine = (
            frame.filter(id_in(mine_ids))
            .select(ID, pl.col(step.column).cast(pl.String).fill_null(""))
            .collect()
        )
        texts = dict(zip(mine[ID].to_list(), mine[step.column].to_list(), strict=True))
        other_texts: dict[int, str] = {}
        if grouped.height:
            _, other = step._other()
            sub = other.filter(id_in(grouped["other_id"].to_list()))
            other_texts = dict(
                zip(
                    sub[ID].to_list(),
                    sub["__text"].cast(pl.String).fill_null("").to_list(),
                    strict=True,
                )
            )
        groups = [
            LeakGroup(int(o), str(src), other_texts.get(int(o), ""), [int(i) for i in ids])
            for o, src, ids in grouped.iter_rows()
        ]
        self.app.call_from_thread(self._show_leaks, step, groups, texts, leaks.height)

    def _show_leaks(
        self, step: DedupAgainst, groups: list[LeakGroup], texts: dict[int, str], total: int
    ) -> None:
        self.found_step, self.clusters, self.members = None, None, []
        self.leak_step, self.leak_groups, self.leak_texts = step, groups, texts
        self.leak_kept, self.leak_decisions = set(), {}
        table = self.query_one("#dup-clusters", DataTable)
        table.clear()
        for c in range(len(groups)):
            table.add_row(*self._leak_cells(c), key=str(c))
        self.query_one("#dup-progress", ProgressBar).update(total=1, progress=1)
        self.query_one("#dup-status", Static).update(
            Text(
                f"{_n(total, 'row')} also in {Path(step.other).name} ({step.mode}),"
                f" {len(groups):,} of its rows"
            )
        )
        if groups:
            table.focus()
            self.show_cluster(0)
        else:
            self.current = -1
            self._set_member_views(Text(""), Text(""), "", "")

    def _leak_cells(self, c: int) -> tuple[str, ...]:
        assert self.leak_step is not None
        group = self.leak_groups[c]
        kept = sum(1 for i in group.members if i in self.leak_kept)
        return (
            str(c + 1),
            str(len(group.members)),
            self.leak_step.mode[:4],
            f"{kept} kept" if kept else "none",
            self.leak_decisions.get(c, "pending"),
        )

    def show_leak(self, c: int, shown: int | None = None) -> None:
        if not 0 <= c < len(self.leak_groups):
            return
        self.current = c
        group = self.leak_groups[c]
        if shown is not None:
            self.shown = shown % max(len(group.members), 1)
        elif self.shown >= len(group.members):
            self.shown = 0
        mine = group.members[self.shown]
        left, right = word_diff(_short(group.other_text), _short(self.leak_texts.get(mine, "")))
        other_name = Path(self.leak_step.other).name if self.leak_step else "other"
        source = self._where
        state = "kept" if mine in self.leak_kept else "goes"
        self._set_member_views(
            left,
            right,
            f"in {other_name}: {group.other_source}",
            f"{self.shown + 1}/{len(group.members)} {state}: {source(mine)} · id {mine}",
        )

    @on(Button.Pressed, "#dup-find")
    def _find_pressed(self) -> None:
        self.action_find()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="clean-find",
        description="finding duplicates",
    )
    def find_duplicates(self, step: DedupStep, frame: pl.LazyFrame) -> None:
        worker = get_current_worker()

        def progress(done: float, total: float, note: str) -> None:
            self.app.call_from_thread(self._progress, done, total, note)

        context = RunContext(on_progress=progress, is_cancelled=lambda: worker.is_cancelled)
        with running(context), self._status_on_failure():
            data = frame.collect()
            found = step.clusters(data)
        if worker.is_cancelled:
            return
        member_pos = [m for m in found.members()]
        wanted = sorted({int(p) for m in member_pos[:2000] for p in m.tolist()})
        used = step.columns_used()
        column = used[0] if len(used) == 1 else None
        texts: dict[int, str] = {}
        if wanted:
            sub = data[wanted]
            if column is None:
                values = [
                    " | ".join(f"{k}: {v}" for k, v in row.items() if k != ID)
                    for row in sub.iter_rows(named=True)
                ]
            else:
                values = sub[column].cast(pl.String).fill_null("").to_list()
            texts = dict(zip(sub[ID].to_list(), values, strict=True))
        self.app.call_from_thread(self._show_clusters, step, found, member_pos, texts)

    @contextlib.contextmanager
    def _status_on_failure(self) -> Iterator[None]:
        """A failed search says so in the status line (the app's toast has the reason)."""
        try:
            yield
        except StudioError:
            self.app.call_from_thread(self._search_failed)
            raise

    def _search_failed(self) -> None:
        self.query_one("#dup-progress", ProgressBar).update(total=1, progress=0)
        self.query_one("#dup-status", Static).update(Text("search failed (see the message)"))

    def _progress(self, done: float, total: float, note: str) -> None:
        self.query_one("#dup-progress", ProgressBar).update(total=max(total, 1), progress=done)
        self.query_one("#dup-status", Static).update(Text(f"{note} {done:,.0f}/{total:,.0f}"))

    def action_cancel(self) -> None:
        cancelled = self.workers.cancel_group(self, "clean-find")
        if cancelled:
            self.query_one("#dup-status", Static).update(Text("cancelled"))
            self.notify("Duplicate search cancelled.", severity="warning")

    def _show_clusters(
        self, step: DedupStep, found: Clusters, members: list[Any], texts: dict[int, str]
    ) -> None:
        self.found_step, self.clusters, self.members, self.texts = step, found, members, texts
        self.decisions = {}
        self.leak_step, self.leak_groups = None, []
        table = self.query_one("#dup-clusters", DataTable)
        table.clear()
        for c in range(min(len(members), 2000)):
            table.add_row(*self._cluster_cells(c), key=str(c))
        dropped = int(found.dropped().sum())
        self.query_one("#dup-progress", ProgressBar).update(total=1, progress=1)
        self.query_one("#dup-status", Static).update(
            Text(f"{_n(len(members), 'cluster')}, {_n(dropped, 'row')} would go")
        )
        if members:
            table.focus()
            self.show_cluster(0)
        else:
            self.current = -1
            self._set_member_views(Text(""), Text(""), "", "")

    def _cluster_cells(self, c: int) -> tuple[str, ...]:
        assert self.clusters is not None
        members = self.members[c]
        kept = self._kept_id(c)
        decision = self.decisions.get(c)
        if decision is None:
            state = "pending"
        elif decision == -1:
            state = "rejected"
        elif decision == -2:
            state = "accepted"
        else:
            state = "changed"
        return (
            str(c + 1),
            str(len(members)),
            f"{float(self.clusters.similarity[c]):.2f}",
            str(kept) if kept >= 0 else "all",
            state,
        )

    def _kept_id(self, c: int) -> int:
        assert self.clusters is not None
        decision = self.decisions.get(c)
        if decision is not None and decision != -2:
            return decision
        pos = int(self.clusters.kept[c])
        return int(self.clusters.ids[pos]) if pos >= 0 else -1

    def _member_ids(self, c: int) -> list[int]:
        assert self.clusters is not None
        return [int(self.clusters.ids[p]) for p in self.members[c].tolist()]

    def show_cluster(self, c: int, shown: int | None = None) -> None:
        if self.leak_step is not None:
            self.show_leak(c, shown)
            return
        if self.clusters is None or not 0 <= c < len(self.members):
            return
        self.current = c
        ids = self._member_ids(c)
        kept = self._kept_id(c)
        left_id = kept if kept >= 0 else ids[0]
        others = [i for i in ids if i != left_id]
        if shown is not None:
            self.shown = shown % max(len(others), 1)
        elif self.shown >= len(others):
            self.shown = 0
        right_id = others[self.shown] if others else left_id
        a = _short(self.texts.get(left_id, ""))
        b = _short(self.texts.get(right_id, ""))
        left, right = word_diff(a, b)
        if isinstance(self.found_step, DedupNormalized):
            keys = normalize(pl.Series([a, b]), self.found_step.normalization).to_list()
            left = Text.assemble(Text("key: " + keys[0], style="italic"), "\n", left)
            right = Text.assemble(Text("key: " + keys[1], style="italic"), "\n", right)
        source = self._where
        # where first: at 80 columns the title is cut, and the line is what a user looks up
        left_title = f"{'kept' if kept >= 0 else 'all kept'}: {source(left_id)} · id {left_id}"
        right_title = f"{self.shown + 1}/{len(others)}: {source(right_id)} · id {right_id}"
        self._set_member_views(left, right, left_title, right_title)

    def _where(self, row_id: int) -> str:
        """`line N` of the one file opened, else `file:line` (rows added by steps: `new:id`)."""
        if self.workspace is None:
            return str(row_id)
        dataset = self.workspace.dataset
        where = dataset.source_of(row_id)
        if len(dataset.origins) == 1 and not where.startswith("new:"):
            return "line " + where.rpartition(":")[2]
        return where

    def _set_member_views(self, left: Text, right: Text, lt: str, rt: str) -> None:
        self.query_one("#dup-left", Static).update(left)
        self.query_one("#dup-right", Static).update(right)
        self.query_one("#dup-left-title", Static).update(Text(lt))
        self.query_one("#dup-right-title", Static).update(Text(rt))

    @on(DataTable.RowHighlighted, "#dup-clusters")
    def _cluster_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self.show_cluster(int(event.row_key.value), shown=0)

    # -- duplicates: decisions ------------------------------------------------------------------
    def _refresh_row(self, c: int) -> None:
        table = self.query_one("#dup-clusters", DataTable)
        cells = self._leak_cells(c) if self.leak_step is not None else self._cluster_cells(c)
        for column_key, value in zip(table.columns, cells, strict=False):
            table.update_cell(str(c), column_key, value)

    def _leak_decide(self, decision: str, ids: list[int], keep: bool) -> None:
        if keep:
            self.leak_kept.update(ids)
        else:
            self.leak_kept.difference_update(ids)
        self.leak_decisions[self.current] = decision
        self._refresh_row(self.current)
        self.show_leak(self.current)

    DUPLICATE_ACTIONS = frozenset(
        {"accept", "reject", "keep_shown", "next_member", "prev_member", "pick_against"}
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # the cluster keys belong to the Duplicates sub-tab: elsewhere they would act on a
        # hidden cluster, and the footer would offer them for nothing
        if action in self.DUPLICATE_ACTIONS and self.built:
            tabs = self.query("#clean-tabs")
            if tabs and tabs.first(TabbedContent).active != "clean-dups":
                return False  # hidden from the footer, and not run
        return True

    @on(TabbedContent.TabActivated, "#clean-tabs")
    def _sub_tab_changed(self) -> None:
        self.refresh_bindings()

    def action_accept(self) -> None:
        if self.current < 0:
            return
        if self.leak_step is not None:
            self._leak_decide("accepted", self.leak_groups[self.current].members, keep=False)
            return
        self.decisions[self.current] = -2
        self._refresh_row(self.current)

    def action_reject(self) -> None:
        if self.current < 0:
            return
        if self.leak_step is not None:
            self._leak_decide("rejected", self.leak_groups[self.current].members, keep=True)
            return
        self.decisions[self.current] = -1
        self._refresh_row(self.current)
        self.show_cluster(self.current)

    def action_keep_shown(self) -> None:
        if self.current < 0:
            return
        if self.leak_step is not None:
            group = self.leak_groups[self.current]
            shown = group.members[self.shown % len(group.members)]
            self._leak_decide("kept some", [shown], keep=True)
            return
        ids = self._member_ids(self.current)
        kept = self._kept_id(self.current)
        left_id = kept if kept >= 0 else ids[0]
        others = [i for i in ids if i != left_id]
        if not others:
            return
        self.decisions[self.current] = others[self.shown % len(others)]
        self.shown = 0
        self._refresh_row(self.current)
        self.show_cluster(self.current)

    def action_next_member(self) -> None:
        if self.current >= 0:
            self.show_cluster(self.current, shown=self.shown + 1)

    def action_prev_member(self) -> None:
        if self.current >= 0:
            self.show_cluster(self.current, shown=self.shown - 1)

    def overrides(self) -> tuple[tuple[int, int], ...]:
        """Decisions as (first member id, kept id) pairs; accepted clusters need none."""
        out = []
        for c, decision in sorted(self.decisions.items()):
            if decision == -2:
                continue
            out.append((self._member_ids(c)[0], int(decision)))
        return tuple(out)

    def action_apply(self) -> None:
        active = self.query_one("#clean-tabs", TabbedContent).active
        if active == "clean-labels":
            self._apply_labels()
            return
        if active == "clean-ops":
            self._apply_ops()
            return
        if active == "clean-flags":
            self._add_flags()
            return
        if self.leak_step is not None:
            leak = DedupAgainst(
                **{**self.leak_step.params(), "kept": tuple(sorted(self.leak_kept))}
            )
            self.post_message(StepRequested(leak))
            self.leak_step, self.leak_groups, self.leak_kept = None, [], set()
            self.current = -1
            self._set_member_views(Text(""), Text(""), "", "")
            self.query_one("#dup-clusters", DataTable).clear()
            self.query_one("#dup-status", Static).update(Text("applied; find again to review more"))
            return
        if self.found_step is None:
            self.notify("Find duplicates first (f).", severity="warning")
            return
        base = self.found_step
        step = type(base)(**{**base.params(), "overrides": self.overrides()})  # type: ignore[arg-type]
        self.post_message(StepRequested(step))
        self.found_step, self.clusters, self.members = None, None, []
        self.current = -1
        self._set_member_views(Text(""), Text(""), "", "")
        self.query_one("#dup-clusters", DataTable).clear()
        self.query_one("#dup-status", Static).update(Text("applied; find again to review more"))

    # -- labels --------------------------------------------------------------------------------
    def _label_step(self) -> LabelConflicts:
        resolution = str(self.query_one("#lab-resolution", Select).value)
        choices = tuple(self.picks.values()) if resolution == "pick" else ()
        return LabelConflicts(
            column=self._value("#lab-text") or "text",
            label=self._value("#lab-label") or "label",
            resolution=resolution,
            choices=choices,
        )

    @on(Button.Pressed, "#lab-find")
    def _lab_find(self) -> None:
        if self.workspace is None:
            return
        try:
            step = self._label_step()
            step.validate(self.workspace.frame.collect_schema())
        except StepError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.find_conflicts(step, self.workspace.frame)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="clean-labels",
        description="finding conflicting labels",
    )
    def find_conflicts(self, step: LabelConflicts, frame: pl.LazyFrame) -> None:
        found = step.conflicts(frame)
        texts = frame.select(ID, pl.col(step.column).cast(pl.String)).join(
            found.lazy().select(ID), on=ID, how="semi"
        )
        merged = found.join(texts.collect(), on=ID, how="left", maintain_order="left")
        self.app.call_from_thread(self._show_conflicts, merged, step.column)

    def _show_conflicts(self, found: pl.DataFrame, column: str) -> None:
        self.conflicts = found
        self.picks = {}
        table = self.query_one("#label-groups", DataTable)
        table.clear()
        summary = (
            found.group_by("group", "label", maintain_order=True)
            .agg(
                pl.len().alias("rows"),
                pl.col("keep").all(),
                pl.col(ID).first(),
                pl.col(column).first(),
            )
            .head(2000)
        )
        for row in summary.iter_rows(named=True):
            table.add_row(
                str(row["group"] + 1),
                Text(str(row["label"])),
                str(row["rows"]),
                "yes" if row["keep"] else "no",
                Text(_short(row[column], 60).replace("\n", " ")),
                key=f"{row['group']}:{row[ID]}:{row['label']}",
            )
        groups = found["group"].n_unique() if found.height else 0
        self.query_one("#lab-status", Static).update(
            Text(f"conflicts: {_n(groups, 'text')}, {_n(found.height, 'row')}")
        )

    @on(Button.Pressed, "#lab-pick")
    def _lab_pick(self) -> None:
        table = self.query_one("#label-groups", DataTable)
        if table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        group, member, label = key.split(":", 2)
        self.picks[int(group)] = (int(member), label)
        self.query_one("#lab-resolution", Select).value = "pick"
        self.query_one("#lab-status", Static).update(
            Text(f"group {int(group) + 1}: keep label {label} ({len(self.picks)} picked)")
        )

    @on(Button.Pressed, "#lab-apply")
    def _apply_labels(self) -> None:
        self.post_message(StepRequested(self._label_step()))
        self.picks = {}

    # -- cleaning ops --------------------------------------------------------------------------
    @on(Button.Pressed, "#ops-apply")
    def _apply_ops(self) -> None:
        names = [n for n in OP_LABELS if self.query_one(f"#op-{n}", Checkbox).value]
        if not names:
            self.notify("Tick at least one cleaning op.", severity="warning")
            return
        try:
            steps = build_ops(
                names,
                self._value("#ops-column") or "text",
                self._value("#ops-output"),
                stopwords=self._value("#ops-stopwords"),
                language=self._value("#ops-language"),
            )
        except StepError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self._queue = steps[1:]
        self.post_message(StepRequested(steps[0]))
        self.query_one("#ops-status", Static).update(Text(f"applying {', '.join(names)}"))

    # -- flags -----------------------------------------------------------------------------------
    def flag_step(self) -> AddFlags:
        try:
            return AddFlags(
                column=self._value("#flag-column") or "text",
                min_words=int(self._value("#flag-min-words") or 3),
                max_words=int(self._value("#flag-max-words") or 2000),
                max_duplicate_lines=float(self._value("#flag-dup-lines") or 0.3),
                max_duplicate_ngrams=float(self._value("#flag-dup-ngrams") or 0.2),
                min_alpha_words=float(self._value("#flag-alpha") or 0.8),
            )
        except ValueError as exc:
            raise StepError(f"A flag threshold is not a number ({exc}).") from None

    @on(Button.Pressed, "#flag-count")
    def _flag_count(self) -> None:
        if self.workspace is None:
            return
        try:
            step = self.flag_step()
            step.validate(self.workspace.frame.collect_schema())
        except StepError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.count_flags(step, self.workspace.frame)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="clean-flags",
        description="counting flags",
    )
    def count_flags(self, step: AddFlags, frame: pl.LazyFrame) -> None:
        flagged = step.apply(frame).select(pl.col("^flag_.*$")).collect()
        self.app.call_from_thread(self._show_flags, flag_counts(flagged))

    def _show_flags(self, counts: dict[str, int]) -> None:
        from studio.engine import quality_flags

        meaning = {
            name: line.split(":", 1)[1].strip()
            for line in (quality_flags.__doc__ or "").replace("\n  ", " ").splitlines()
            if line.startswith("- `flag_")
            for name in [line.split("`")[1].removeprefix("flag_")]
        }
        table = self.query_one("#flag-counts", DataTable)
        table.clear()
        for name in FLAG_NAMES:
            table.add_row(f"flag_{name}", f"{counts.get(name, 0):,}", Text(meaning.get(name, "")))

    @on(Button.Pressed, "#flag-add")
    def _add_flags(self) -> None:
        try:
            step = self.flag_step()
        except StepError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.post_message(StepRequested(step))


__all__ = ["OPS", "CleanPane", "word_diff"]
