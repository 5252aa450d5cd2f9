"""The Filter pane: a SQL WHERE bar, quick filters (facets, flags, length, empty fields) and the
selection tools (random/stratified sample, diverse sample over text clusters, domain relevance).

Every action becomes a step posted with `StepRequested`; counts, clusters and histograms are
computed in workers on the current frame, so they follow the filters already applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import polars as pl
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Input, Select, SelectionList, Static
from textual.worker import get_current_worker

from studio.engine.errors import StudioError
from studio.engine.progress import RunContext, running
from studio.engine.steps.base import ID, Step
from studio.engine.steps.filter import (
    EmptyFilter,
    LengthFilter,
    MinScore,
    SqlFilter,
    ValuesFilter,
    check_sql,
    facet_columns,
    facet_counts,
    flag_columns,
    label_balance,
)
from studio.engine.steps.select import (
    SCORE_COLUMN,
    ClusterInfo,
    DiverseSample,
    DomainScore,
    Sample,
    cluster_summary,
    score_histogram,
)
from studio.tui.messages import StepRequested, WorkProgress
from studio.tui.panes.base import Pane

WHERE_HINT = "SQL WHERE, e.g. length(output) > 200 AND label = 'spam' · Enter applies"
HIST_BINS = 10
BAR_WIDTH = 30


@dataclass
class Overview:
    """What the pane shows about the current frame (computed in a worker)."""

    generation: int
    rows: int
    columns: list[str]
    text_columns: list[str]
    facets: list[str]
    flags: list[tuple[str, int]]
    balance: str
    histogram: list[tuple[float, float, int]] | None


def parse_size(text: str) -> tuple[int, float]:
    """`500` -> (500, 0.0); `10%` -> (0, 0.1); raises ValueError otherwise."""
    text = text.strip().replace(",", "").replace("_", "")
    if text.endswith("%"):
        percent = float(text[:-1])
        if not 0 < percent <= 100:
            raise ValueError(text)
        return 0, percent / 100
    n = int(text)
    if n <= 0:
        raise ValueError(text)
    return n, 0.0


def histogram_text(bins: list[tuple[float, float, int]]) -> Text:
    """Bars of a histogram as plain text (one line per bin)."""
    out = Text()
    peak = max((c for _, _, c in bins), default=0) or 1
    for lo, hi, count in bins:
        bar = "█" * max(1 if count else 0, round(BAR_WIDTH * count / peak))
        out.append(f"{lo:4.2f}–{hi:4.2f} ", style="dim")
        out.append(bar.ljust(BAR_WIDTH), style="bold")
        out.append(f" {count:,}\n")
    return out


def balance_line(frame: pl.LazyFrame, label: str | None) -> str:
    if not label:
        return ""
    pair = label_balance(frame, label)
    if pair is None:
        return ""
    (a, na), (b, nb) = pair
    ratio = na / nb if nb else float("inf")
    total = na + nb
    return (
        f"{label}: {a} {na:,} ({na / total:.0%}) · {b} {nb:,} ({nb / total:.0%}) · "
        f"ratio {ratio:.2f}:1"
    )


class FilterPane(Pane):
    TAB_ID = "filter"
    TITLE = "Filter"

    BINDINGS = [
        Binding("ctrl+f", "focus_where", "Filter bar", id="filter.focus-where"),
    ]

    def __init__(self, workspace=None, **kwargs) -> None:  # noqa: ANN001, ANN003
        super().__init__(workspace, **kwargs)
        self.overview: Overview | None = None
        self.facet_column: str | None = None
        self.facet_values: list[Any] = []
        self.clusters: list[ClusterInfo] = []
        self._cluster_key: tuple[int, str, int, int] | None = None

    # -- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="filter-body"):
            yield Static("", id="filter-summary", markup=False)
            yield Static("", id="filter-balance", markup=False)
            yield Input(id="filter-where", placeholder=WHERE_HINT, compact=True)
            yield Static("", id="filter-error", markup=False)

            yield Static("Facets: toggle values, then keep or drop them", classes="section")
            with Horizontal(classes="row"):
                yield Select([], id="facet-column", prompt="column", compact=True)
                yield Button("Keep", id="facet-keep", compact=True)
                yield Button("Drop", id="facet-drop", compact=True)
            yield SelectionList[int](id="facet-values", compact=True)

            yield Static("Flags", classes="section", id="flags-title")
            yield SelectionList[str](id="flag-list", compact=True)
            with Horizontal(classes="row", id="flag-buttons"):
                yield Button("Drop flagged", id="flag-drop", compact=True)
                yield Button("Only flagged", id="flag-only", compact=True)

            yield Static("Length and empty fields", classes="section")
            with Horizontal(classes="row"):
                yield Select([], id="length-column", prompt="column", compact=True)
                yield Input(id="length-min", placeholder="min", compact=True, type="integer")
                yield Input(id="length-max", placeholder="max", compact=True, type="integer")
                yield Select(
                    [("chars", "chars"), ("words", "words")],
                    id="length-unit",
                    value="chars",
                    allow_blank=False,
                    compact=True,
                )
                yield Button("Apply", id="length-apply", compact=True)
            with Horizontal(classes="row"):
                yield Button("Drop rows with an empty field", id="empty-drop", compact=True)
                yield Button("Only rows with one", id="empty-only", compact=True)

            yield Static("Sample (seeded)", classes="section")
            with Horizontal(classes="row"):
                yield Input(id="sample-size", placeholder="N or 10%", compact=True)
                yield Select([], id="sample-stratify", prompt="stratify by", compact=True)
                yield Input("0", id="sample-seed", placeholder="seed", compact=True, type="integer")
                yield Button("Sample", id="sample-apply", compact=True)

            yield Static("Diverse sample: cluster the main text", classes="section")
            with Horizontal(classes="row"):
                yield Input("8", id="diverse-k", placeholder="k", compact=True, type="integer")
                yield Input(id="diverse-n", placeholder="rows", compact=True, type="integer")
                yield Button("Find clusters", id="diverse-find", compact=True)
                yield Button("Sample evenly", id="diverse-apply", compact=True)
            yield Static("", id="diverse-status", markup=False)
            yield DataTable(id="cluster-table", cursor_type="row", zebra_stripes=True)

            yield Static("Domain relevance (TF-IDF cosine)", classes="section")
            with Horizontal(classes="row"):
                yield Input(id="domain-reference", placeholder="reference file", compact=True)
                yield Input(id="domain-keywords", placeholder="or keywords", compact=True)
                yield Button("Score", id="domain-score", compact=True)
            yield Static("", id="domain-histogram", markup=False)
            with Horizontal(classes="row", id="domain-keep-row"):
                yield Input(id="domain-threshold", placeholder="min score", compact=True)
                yield Button("Keep rows ≥ score", id="domain-keep", compact=True)

    def on_mount(self) -> None:
        self.query_one("#filter-error", Static).display = False
        table = self.query_one("#cluster-table", DataTable)
        table.add_columns("#", "size", "top terms", "examples (_id)")
        table.display = False
        if self.workspace is not None:
            self.workspace_changed()

    # -- refresh ---------------------------------------------------------------------------
    def workspace_changed(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        self.query_one("#filter-summary", Static).update(
            f"{ws.rows:,} rows · {len(ws.steps)} steps (F2 lists them, ctrl+z undoes)"
        )
        self.refresh_overview(ws.frame, ws.generation, ws.rows)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="filter-overview",
        description="counting values",
    )
    def refresh_overview(self, frame: pl.LazyFrame, generation: int, rows: int) -> None:
        from studio.engine.shape import detect_shape

        schema = frame.collect_schema()
        columns = [n for n in schema.names() if n != ID]
        text_columns = [
            n for n in columns if schema[n] == pl.String or isinstance(schema[n], pl.List)
        ]
        facets = facet_columns(frame)
        flags = flag_columns(schema)
        flag_counts: list[tuple[str, int]] = []
        if flags:
            sums = frame.select([pl.col(f).sum().alias(f) for f in flags]).collect()
            flag_counts = [(f, int(sums[f][0] or 0)) for f in flags]
        if get_current_worker().is_cancelled:
            return
        label = detect_shape(frame).label
        balance = balance_line(frame, label) if label in schema else ""
        histogram = None
        if SCORE_COLUMN in schema and schema[SCORE_COLUMN].is_numeric():
            scores = frame.select(SCORE_COLUMN).collect()[SCORE_COLUMN]
            histogram = score_histogram(scores, bins=HIST_BINS, lo=0.0, hi=1.0)
        overview = Overview(
            generation, rows, columns, text_columns, facets, flag_counts, balance, histogram
        )
        if get_current_worker().is_cancelled:
            return
        self.app.call_from_thread(self._show_overview, overview)

    def _show_overview(self, overview: Overview) -> None:
        self.overview = overview
        balance = self.query_one("#filter-balance", Static)
        balance.update(overview.balance)
        balance.display = bool(overview.balance)
        self._set_options("#facet-column", overview.facets, keep=self.facet_column)
        self._set_options("#length-column", overview.text_columns)
        self._set_options("#sample-stratify", overview.facets)
        flags = self.query_one("#flag-list", SelectionList)
        chosen = set(flags.selected)
        flags.clear_options()
        flags.add_options(
            [(f"{name} ({count:,} rows)", name, name in chosen) for name, count in overview.flags]
        )
        for widget in ("#flags-title", "#flag-list", "#flag-buttons"):
            self.query_one(widget).display = bool(overview.flags)
        histogram = self.query_one("#domain-histogram", Static)
        if overview.histogram is not None:
            histogram.update(histogram_text(overview.histogram))
        histogram.display = overview.histogram is not None
        self.query_one("#domain-keep-row").display = overview.histogram is not None
        column = self.facet_column if self.facet_column in overview.facets else None
        if column is None and overview.facets:
            column = overview.facets[0]
        self.facet_column = column
        if column is not None:
            self.load_facet(column)
        else:
            self.query_one("#facet-values", SelectionList).clear_options()

    def _set_options(self, selector: str, names: list[str], keep: str | None = None) -> None:
        select = self.query_one(selector, Select)
        current = keep if keep is not None else select.value
        select.set_options([(name, name) for name in names])
        if current in names:
            select.value = current
        elif names and selector != "#sample-stratify":
            select.value = names[0]

    # -- facets ----------------------------------------------------------------------------
    @on(Select.Changed, "#facet-column")
    def _facet_column_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.facet_column:
            self.facet_column = event.value
            self.load_facet(event.value)

    def load_facet(self, column: str) -> None:
        if self.workspace is not None:
            self._count_facet(self.workspace.frame, column)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="filter-facet",
        description="counting values",
    )
    def _count_facet(self, frame: pl.LazyFrame, column: str) -> None:
        counts = facet_counts(frame, column, limit=50)
        if get_current_worker().is_cancelled:
            return
        raw = self._raw_values(frame, column, counts)
        self.app.call_from_thread(self._show_facet, column, counts, raw)

    @staticmethod
    def _raw_values(frame: pl.LazyFrame, column: str, counts: pl.DataFrame) -> list[Any]:
        dtype = frame.collect_schema()[column]
        values = counts["value"].to_list()
        if dtype == pl.Boolean:
            return [None if v is None else v == "true" for v in values]
        if dtype.is_integer():
            return [None if v is None else int(v) for v in values]
        return values

    def _show_facet(self, column: str, counts: pl.DataFrame, raw: list[Any]) -> None:
        if column != self.facet_column:
            return
        listing = self.query_one("#facet-values", SelectionList)
        previous = {self.facet_values[i] for i in listing.selected if i < len(self.facet_values)}
        self.facet_values = raw
        listing.clear_options()
        total = sum(counts["count"].to_list()) or 1
        options = []
        for index, (value, count) in enumerate(counts.iter_rows()):
            shown = "(empty)" if value is None else str(value)
            label = Text(shown[:40])
            label.append(f"  {count:,} ({count / total:.0%})", style="dim")
            options.append((label, index, raw[index] in previous))
        listing.add_options(options)

    def selected_facet_values(self) -> tuple[Any, ...]:
        listing = self.query_one("#facet-values", SelectionList)
        return tuple(self.facet_values[i] for i in sorted(listing.selected))

    @on(Button.Pressed, "#facet-keep, #facet-drop")
    def _facet_apply(self, event: Button.Pressed) -> None:
        values = self.selected_facet_values()
        if not self.facet_column or not values:
            self.notify("Toggle one or more values first (space or Enter).", markup=False)
            return
        exclude = event.button.id == "facet-drop"
        self.request(ValuesFilter(column=self.facet_column, values=values, exclude=exclude))

    # -- flags -----------------------------------------------------------------------------
    @on(Button.Pressed, "#flag-drop, #flag-only")
    def _flags_apply(self, event: Button.Pressed) -> None:
        flags = list(self.query_one("#flag-list", SelectionList).selected)
        if not flags:
            self.notify("Toggle one or more flags first.", markup=False)
            return
        if event.button.id == "flag-drop":
            for flag in flags:
                self.request(ValuesFilter(column=flag, values=(True,), exclude=True))
        else:
            where = " OR ".join(f'"{f}"' for f in flags)
            self.request(SqlFilter(where=where))

    # -- SQL -------------------------------------------------------------------------------
    def action_focus_where(self) -> None:
        self.query_one("#filter-where", Input).focus()

    @on(Input.Submitted, "#filter-where")
    def _where_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply_where(event.value)

    def apply_where(self, where: str) -> bool:
        """Check the expression (cheap: an empty frame) and request it; errors stay inline."""
        where = where.strip()
        error = self.query_one("#filter-error", Static)
        if not where or self.workspace is None:
            error.display = False
            return False
        try:
            check_sql(where, self.workspace.frame.collect_schema())
        except StudioError as exc:
            error.update(Text(str(exc)))
            error.display = True
            return False
        error.display = False
        self.request(SqlFilter(where=where))
        return True

    # -- length and empty ------------------------------------------------------------------
    def _int(self, selector: str) -> int | None:
        value = self.query_one(selector, Input).value.strip()
        return int(value) if value else None

    @on(Button.Pressed, "#length-apply")
    def _length_apply(self) -> None:
        column = self.query_one("#length-column", Select).value
        if not isinstance(column, str):
            self.notify("Pick a text column.", markup=False)
            return
        low, high = self._int("#length-min"), self._int("#length-max")
        if low is None and high is None:
            self.notify("Give a minimum, a maximum or both.", markup=False)
            return
        unit = str(self.query_one("#length-unit", Select).value)
        self.request(LengthFilter(column=column, min_len=low, max_len=high, unit=unit))

    @on(Button.Pressed, "#empty-drop, #empty-only")
    def _empty_apply(self, event: Button.Pressed) -> None:
        keep = "nonempty" if event.button.id == "empty-drop" else "empty"
        self.request(EmptyFilter(keep=keep))

    # -- sample ----------------------------------------------------------------------------
    @on(Button.Pressed, "#sample-apply")
    def _sample_apply(self) -> None:
        try:
            n, fraction = parse_size(self.query_one("#sample-size", Input).value)
        except ValueError:
            self.notify("Sample size: a number of rows or a percentage like 10%.", markup=False)
            return
        stratify = self.query_one("#sample-stratify", Select).value
        seed = self._int("#sample-seed") or 0
        self.request(
            Sample(
                n=n,
                fraction=fraction,
                stratify=stratify if isinstance(stratify, str) else "",
                seed=seed,
            )
        )

    # -- diverse ---------------------------------------------------------------------------
    def _diverse_params(self) -> tuple[int, int, int]:
        k = self._int("#diverse-k") or 8
        n = self._int("#diverse-n") or 0
        seed = self._int("#sample-seed") or 0
        return max(k, 1), max(n, 0), seed

    @on(Button.Pressed, "#diverse-find")
    def find_clusters(self) -> None:
        if self.workspace is None:
            return
        k, _n, seed = self._diverse_params()
        self.query_one("#diverse-status", Static).update(f"Clustering into {k} clusters…")
        self._cluster(self.workspace.frame, k, seed, self.workspace.generation)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="filter-cluster",
        description="clustering",
    )
    def _cluster(self, frame: pl.LazyFrame, k: int, seed: int, generation: int) -> None:
        worker = get_current_worker()
        context = RunContext(
            on_progress=partial(self._cluster_progress),
            is_cancelled=lambda: worker.is_cancelled,
            min_interval=0.2,
        )
        with running(context):
            clusters = cluster_summary(frame, k=k, seed=seed)
        if worker.is_cancelled:
            return
        self.app.call_from_thread(self._show_clusters, clusters, (generation, "", k, seed))

    def _cluster_progress(self, done: float, total: float, note: str) -> None:
        self.post_message(WorkProgress("clustering", done, total))
        self.app.call_from_thread(
            self.query_one("#diverse-status", Static).update,
            f"Clustering: {note} ({done / (total or 1):.0%})",
        )

    def _show_clusters(self, clusters: list[ClusterInfo], key: tuple[int, str, int, int]) -> None:
        self.clusters = clusters
        self._cluster_key = key
        table = self.query_one("#cluster-table", DataTable)
        table.clear()
        for info in clusters:
            table.add_row(
                str(info.cluster),
                f"{info.size:,}",
                Text(", ".join(info.top_terms[:6])),
                Text(", ".join(str(i) for i in info.example_ids)),
            )
        table.display = bool(clusters)
        sizes = [c.size for c in clusters]
        smallest = min(sizes) if sizes else 0
        self.query_one("#diverse-status", Static).update(
            f"{len(clusters)} clusters; smallest has {smallest:,} rows. "
            "Sample evenly keeps rows from each."
        )

    @on(Button.Pressed, "#diverse-apply")
    def _diverse_apply(self) -> None:
        k, n, seed = self._diverse_params()
        if not n:
            self.notify("How many rows? Type a number in 'rows'.", markup=False)
            return
        self.request(DiverseSample(k=k, n=n, seed=seed))

    # -- domain ----------------------------------------------------------------------------
    @on(Button.Pressed, "#domain-score")
    def _domain_score(self) -> None:
        import re

        reference = self.query_one("#domain-reference", Input).value.strip()
        words = self.query_one("#domain-keywords", Input).value
        keywords = tuple(w for w in re.split(r"[,\s]+", words) if w)
        if not reference and not keywords:
            self.notify("Give a reference file or some keywords.", markup=False)
            return
        self.request(DomainScore(reference=reference, keywords=keywords))

    @on(Button.Pressed, "#domain-keep")
    def _domain_keep(self) -> None:
        text = self.query_one("#domain-threshold", Input).value.strip()
        try:
            threshold = float(text)
        except ValueError:
            self.notify("The threshold is a number between 0 and 1.", markup=False)
            return
        self.request(MinScore(column=SCORE_COLUMN, min_score=threshold))

    # -- steps -----------------------------------------------------------------------------
    def request(self, step: Step) -> None:
        self.post_message(StepRequested(step))
