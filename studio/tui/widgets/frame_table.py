"""A virtual table over a polars LazyFrame of any size.

Only the visible window is ever fetched: rows come from `frame.slice(offset, BLOCK).collect()`
in blocks of `BLOCK` rows, kept in an `LRUCache` keyed by (generation, block); rendered lines
are cached too (keyed by generation and everything that changes their look). The row count
comes from the workspace, so no keypress does work proportional to the number of rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import polars as pl
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from studio.engine.steps.base import ID, id_in
from studio.engine.steps.rows import Sort
from studio.tui.cells import cell_str, fit_plain, safe_text, stylize_matches
from studio.tui.messages import StepRequested

if TYPE_CHECKING:
    from studio.engine.workspace import Workspace

BLOCK = 256
"""Rows per slice: a few screens. Reading a slice of a Parquet file costs about the same for
64 or 4,096 rows (a page of each column is decoded either way), so a block serves several
page-downs, and the neighbouring blocks are prefetched in the background."""
MAX_BLOCKS = 16
"""Row blocks kept in memory (at most BLOCK * MAX_BLOCKS rows, whatever the file size)."""
MAX_LINES = 512
"""Rendered lines kept."""
MAX_COLUMN_WIDTH = 40
MIN_COLUMN_WIDTH = 8
MAX_GROWN_WIDTH = 100
"""Text columns may grow up to this width to fill spare room on a wide screen."""
SEPARATOR = "│"


def dtype_label(dtype: pl.DataType) -> str:
    """A short name for a dtype, for headers and summaries."""
    if dtype == pl.String:
        return "str"
    if isinstance(dtype, pl.List):
        inner = dtype.inner
        if isinstance(inner, pl.Struct):
            return "list[struct]"
        return f"list[{dtype_label(inner)}]"  # type: ignore[arg-type]
    if isinstance(dtype, pl.Struct):
        return "struct"
    if isinstance(dtype, pl.Categorical | pl.Enum):
        return "cat"
    if dtype == pl.Boolean:
        return "bool"
    if dtype.is_integer() or dtype.is_float():
        name = str(dtype).lower()
        return name.replace("uint", "u").replace("int", "i").replace("float", "f")
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    return str(dtype).lower()


@dataclass
class _Block:
    ids: list[int]
    rows: list[tuple[Any, ...]]


class FrameTable(ScrollView, can_focus=True):
    """Rows of a LazyFrame, drawn one line at a time. Line 0 is the header."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "down,j",
            "cursor_down",
            "Down",
            show=False,
            id="table.down",
            tooltip="Move the cursor down a row",
        ),
        Binding(
            "up,k", "cursor_up", "Up", show=False, id="table.up", tooltip="Move the cursor up a row"
        ),
        Binding(
            "left,h",
            "cursor_left",
            "Left",
            show=False,
            id="table.left",
            tooltip="Move the cursor to the previous column",
        ),
        Binding(
            "right,l",
            "cursor_right",
            "Right",
            show=False,
            id="table.right",
            tooltip="Move the cursor to the next column",
        ),
        Binding(
            "pagedown",
            "page_down",
            "Page down",
            show=False,
            id="table.page-down",
            tooltip="Page down",
        ),
        Binding("pageup", "page_up", "Page up", show=False, id="table.page-up", tooltip="Page up"),
        Binding(
            "home,g",
            "first_row",
            "First row",
            show=False,
            id="table.first-row",
            tooltip="Go to the first row",
        ),
        Binding(
            "end,G",
            "last_row",
            "Last row",
            show=False,
            id="table.last-row",
            tooltip="Go to the last row",
        ),
        Binding(
            "enter",
            "open_row",
            "Detail",
            id="table.open-row",
            tooltip="Open the row detail (the whole record)",
        ),
        Binding(
            "s",
            "sort(False)",
            "Sort",
            id="table.sort-ascending",
            tooltip="Sort by the current column, ascending (a step)",
        ),
        Binding(
            "S",
            "sort(True)",
            "Sort descending",
            show=False,
            id="table.sort-descending",
            tooltip="Sort by the current column, descending (a step)",
        ),
        Binding(
            "minus",
            "hide_column",
            "Hide column",
            show=False,
            key_display="-",
            id="table.hide-column",
            tooltip="Hide the current column (view only)",
        ),
        Binding(
            "plus",
            "show_columns",
            "Show all columns",
            show=False,
            key_display="+",
            id="table.show-columns",
            tooltip="Show all hidden columns",
        ),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "frame-table--header",
        "frame-table--header-cursor",
        "frame-table--cursor",
        "frame-table--cursor-row",
        "frame-table--gutter",
        "frame-table--mark",
        "frame-table--match",
        "frame-table--null",
        "frame-table--separator",
    }

    DEFAULT_CSS = """
    FrameTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        & > .frame-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .frame-table--header-cursor { text-style: bold; background: $accent 40%; }
        & > .frame-table--cursor-row { background: $boost; }
        & > .frame-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
        }
        &:focus > .frame-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .frame-table--gutter { color: $text-muted; }
        & > .frame-table--mark { color: $warning; text-style: bold; }
        & > .frame-table--match { background: $warning 60%; color: $foreground; }
        & > .frame-table--null { color: $text-disabled; }
        & > .frame-table--separator { color: $panel-lighten-2; }
    }
    """

    # -- messages --------------------------------------------------------------------------
    class CursorMoved(Message):
        """The cursor moved to another row or column."""

        def __init__(self, table: FrameTable, row: int, column: str | None) -> None:
            super().__init__()
            self.table = table
            self.row = row
            self.column = column

        @property
        def control(self) -> FrameTable:
            return self.table

    class RowOpened(Message):
        """Enter on a row: show its detail."""

        def __init__(self, table: FrameTable, row_id: int) -> None:
            super().__init__()
            self.table = table
            self.row_id = row_id

        @property
        def control(self) -> FrameTable:
            return self.table

    # -- state -----------------------------------------------------------------------------
    def __init__(self, workspace: Workspace | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.workspace = workspace
        self.marked: set[int] = set()
        """Marked row ids (drawn in the mark gutter); the owner changes it and calls refresh."""
        self.cursor_row = 0
        self.cursor_col = 0
        self.hidden: set[str] = set()
        self.view_ids: list[int] | None = None
        """When set, only these rows are shown (a view filter, not a step)."""
        self.view_title = ""
        self._frame: pl.LazyFrame | None = None
        self._rows = 0
        self._schema: dict[str, pl.DataType] = {}
        self._all_columns: list[str] = []
        self._generation = 0
        self._blocks: LRUCache[tuple[int, int], _Block] = LRUCache(MAX_BLOCKS)
        self._lines: LRUCache[tuple[Any, ...], tuple[Strip, Strip]] = LRUCache(MAX_LINES)
        self._natural: dict[str, int] = {}
        self._widths: list[int] = []
        self._offsets: list[int] = []
        self._gutter = 0
        self._layout_key: tuple[Any, ...] = ()
        self._layout_width = -1
        self._style_cache: dict[str, Style] = {}
        self._positions: list[int] = []
        self._in_flight: set[tuple[int, int]] = set()
        self._body_width = 0
        self._highlight: re.Pattern[str] | None = None
        self._highlight_key = 0
        self._sorted: tuple[str, bool] | None = None
        self.fetches = 0
        """Number of slices collected (tests and benchmarks read it)."""
        self.fetched_rows = 0

    # -- public API ------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return self._rows

    @property
    def columns(self) -> list[str]:
        """Visible columns, in order (never `_id`)."""
        return [c for c in self._all_columns if c not in self.hidden]

    @property
    def all_columns(self) -> list[str]:
        return list(self._all_columns)

    @property
    def schema(self) -> dict[str, pl.DataType]:
        return dict(self._schema)

    @property
    def frame(self) -> pl.LazyFrame | None:
        """The rows shown (after the view filter), lazily."""
        return self._frame

    @property
    def current_column(self) -> str | None:
        cols = self.columns
        if not cols:
            return None
        return cols[min(self.cursor_col, len(cols) - 1)]

    @property
    def cursor_id(self) -> int | None:
        block = self._block_for(self.cursor_row)
        if block is None:
            return None
        return block.ids[self.cursor_row % BLOCK]

    @property
    def cache_sizes(self) -> tuple[int, int]:
        """(row blocks, rendered lines) in memory."""
        return len(self._blocks), len(self._lines)

    @property
    def rows_held(self) -> int:
        """Rows of data in memory right now (bounded by BLOCK * MAX_BLOCKS)."""
        blocks = (self._blocks.get(key) for key in list(self._blocks.keys()))
        return sum(len(b.rows) for b in blocks if b is not None)

    def current_row(self) -> dict[str, Any]:
        """The cursor row as {column: value} over every column (hidden ones too, no `_id`)."""
        return self.row_at(self.cursor_row)

    def row_at(self, index: int) -> dict[str, Any]:
        block = self._block_for(index)
        if block is None:
            return {}
        values = block.rows[index % BLOCK]
        return dict(zip(self._all_columns, values[1:], strict=True))

    def id_at(self, index: int) -> int | None:
        block = self._block_for(index)
        return None if block is None else block.ids[index % BLOCK]

    def move_to_row(self, index: int, *, column: int | None = None) -> None:
        """Put the cursor on row `index` (0-based, clamped) and scroll it into view."""
        if column is not None:
            self.cursor_col = column
        self._set_cursor(index, self.cursor_col)

    def move_to_id(self, row_id: int) -> bool:
        """Put the cursor on the row with this `_id`; False if it is not shown."""
        if self._frame is None:
            return False
        found = (
            self._frame.select(ID)
            .with_row_index("__row")
            .filter(pl.col(ID) == row_id)
            .select("__row")
            .head(1)
            .collect()
        )
        if found.height == 0:
            return False
        self.move_to_row(int(found.item()))
        return True

    def set_highlight(self, pattern: re.Pattern[str] | None) -> None:
        """Highlight matches of `pattern` inside the cells (None: no highlight)."""
        self._highlight = pattern
        self._highlight_key += 1
        self._lines.clear()
        self.refresh()

    @property
    def highlight(self) -> re.Pattern[str] | None:
        return self._highlight

    def set_view(self, ids: list[int] | None, title: str = "") -> None:
        """Show only the rows with these ids (None: all rows)."""
        self.view_ids = list(ids) if ids is not None else None
        self.view_title = title if ids is not None else ""
        self.cursor_row = 0
        self.refresh_data()

    def refresh_data(self) -> None:
        """Drop every cache and re-read the frame, schema and row count (after a change)."""
        self._generation += 1
        self._blocks.clear()
        self._lines.clear()
        ws = self.workspace
        if ws is None:
            self._frame, self._rows, self._schema, self._all_columns = None, 0, {}, []
        else:
            frame = ws.frame
            schema = frame.collect_schema()
            self._schema = {n: schema[n] for n in schema.names() if n != ID}
            self._all_columns = list(self._schema)
            self.hidden &= set(self._all_columns)
            if self.view_ids is not None:
                frame = frame.filter(id_in(self.view_ids))
                self._rows = frame.select(pl.len()).collect().item()
            else:
                self._rows = ws.rows
            self._frame = frame.select(ID, *self._all_columns)
        self._natural = {}
        self._layout()
        self._set_cursor(self.cursor_row, self.cursor_col, force=True)
        self.refresh()

    def refresh_rows(self) -> None:
        """Repaint (marks or highlight changed) without refetching data."""
        self._lines.clear()
        self.refresh()

    # -- data ------------------------------------------------------------------------------
    def _fetch(self, frame: pl.LazyFrame, number: int) -> _Block:
        """Collect one block of rows (any thread: polars releases the GIL while it reads)."""
        rows = frame.slice(number * BLOCK, BLOCK).collect().rows()
        return _Block([int(r[0]) for r in rows], rows)

    def _block_for(self, index: int) -> _Block | None:
        if self._frame is None or not 0 <= index < self._rows:
            return None
        number = index // BLOCK
        key = (self._generation, number)
        block = self._blocks.get(key)
        if block is None:
            block = self._fetch(self._frame, number)
            self._count_fetch(block)
            self._blocks.set(key, block)
        if index % BLOCK >= len(block.rows):
            return None
        return block

    def _count_fetch(self, block: _Block) -> None:
        self.fetches += 1
        self.fetched_rows += len(block.rows)

    def prefetch(self, *indexes: int) -> None:
        """Fetch the blocks holding these rows in the background (if not cached already), so
        paging and jumps to either end find their rows ready."""
        frame = self._frame
        if frame is None or not self.is_mounted:
            return
        for index in indexes:
            if not 0 <= index < self._rows:
                continue
            key = (self._generation, index // BLOCK)
            if key in self._blocks or key in self._in_flight:
                continue
            self._in_flight.add(key)
            self.run_worker(
                partial(self._prefetch_block, frame, key),
                thread=True,
                group="frame-table-prefetch",
                description="reading rows",
                exit_on_error=False,
            )

    def _prefetch_block(self, frame: pl.LazyFrame, key: tuple[int, int]) -> None:
        try:
            block = self._fetch(frame, key[1])
        except Exception:
            block = None  # the visible fetch will report it
        self.app.call_from_thread(self._store_block, key, block)

    def _store_block(self, key: tuple[int, int], block: _Block | None) -> None:
        self._in_flight.discard(key)
        if block is not None and key[0] == self._generation and key not in self._blocks:
            self._count_fetch(block)
            self._blocks.set(key, block)

    def _prefetch_near(self, index: int) -> None:
        self.prefetch(index + BLOCK, index - BLOCK, 0, self._rows - 1)

    # -- layout ----------------------------------------------------------------------------
    def _natural_widths(self) -> dict[str, int]:
        if self._natural or not self._all_columns:
            return self._natural
        sample = self._block_for(min(self.cursor_row, max(self._rows - 1, 0)))
        for i, name in enumerate(self._all_columns, start=1):
            header = len(name) + 1 + len(dtype_label(self._schema[name]))
            widest = 0
            if sample is not None:
                for row in sample.rows:
                    shown = cell_str(row[i])[: MAX_COLUMN_WIDTH + 1]
                    widest = max(widest, len(shown))
            self._natural[name] = max(3, min(MAX_COLUMN_WIDTH, max(header, widest)))
        return self._natural

    def _layout(self) -> None:
        """Column widths that fit the screen when possible, and the gutter width."""
        self._gutter = 2 + len(f"{max(self._rows, 1):,}") + 1
        natural = self._natural_widths()
        cols = self.columns
        wanted = [natural.get(c, MIN_COLUMN_WIDTH) for c in cols]
        self._layout_width = self._view_width
        available = max(self._view_width - self._gutter - len(cols), 0)
        widths = list(wanted)
        if sum(wanted) > available and cols:
            # water-filling: cap the widest columns so everything fits, never below the minimum
            cap = MAX_COLUMN_WIDTH
            while cap > MIN_COLUMN_WIDTH and sum(min(w, cap) for w in wanted) > available:
                cap -= 1
            widths = [min(w, cap) for w in wanted]
        elif cols:
            # spare room goes to text-like columns, which may hold longer values than sampled
            spare = available - sum(wanted)
            growable = [i for i, c in enumerate(cols) if not self._schema[c].is_numeric()]
            while spare > 0 and growable:
                share = max(spare // len(growable), 1)
                for i in list(growable):
                    grow = min(share, spare, MAX_GROWN_WIDTH - widths[i])
                    widths[i] += grow
                    spare -= grow
                    if widths[i] >= MAX_GROWN_WIDTH:
                        growable.remove(i)
                    if spare <= 0:
                        break
        self._widths = widths
        offsets, x = [], 0
        for w in widths:
            offsets.append(x)
            x += w + 1
        self._offsets = offsets
        self._layout_key = (tuple(cols), tuple(widths), self._gutter)
        index = {c: i for i, c in enumerate(self._all_columns, start=1)}
        self._positions = [index[c] for c in cols]
        self._body_width = x
        self.virtual_size = Size(self._gutter + x, self._rows + 1)
        self._lines.clear()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self._prefetch_near(round(new_value))

    def on_resize(self) -> None:
        self._layout()
        self._scroll_cursor_into_view()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._clear_styles()

    def _on_focus(self, event: Any) -> None:
        self._clear_styles()
        self.refresh()

    def _on_blur(self, event: Any) -> None:
        self._clear_styles()
        self.refresh()

    # -- cursor ----------------------------------------------------------------------------
    @property
    def _view_width(self) -> int:
        return self.scrollable_content_region.width

    @property
    def page_rows(self) -> int:
        """Lines on screen, the header included."""
        return max(self.scrollable_content_region.height, 1)

    def _set_cursor(self, row: int, col: int, *, force: bool = False) -> None:
        row = max(0, min(row, self._rows - 1)) if self._rows else 0
        col = max(0, min(col, len(self.columns) - 1)) if self.columns else 0
        moved = (row, col) != (self.cursor_row, self.cursor_col)
        old_row, old_col = self.cursor_row, self.cursor_col
        self.cursor_row, self.cursor_col = row, col
        self._scroll_cursor_into_view()
        if force:
            self.refresh()
        elif moved:
            # only the two rows (and the header when the column changed) need drawing; a
            # scroll repaints everything by itself
            self.refresh_line(old_row + 1)
            self.refresh_line(row + 1)
            if col != old_col:
                self.refresh(Region(0, 0, self.size.width, 1))
        if moved or force:
            self._prefetch_near(row)
            self.post_message(self.CursorMoved(self, row, self.current_column))

    def _scroll_cursor_into_view(self) -> None:
        visible = max(self.page_rows - 1, 1)  # the header takes one line
        top = round(self.scroll_y)
        if self.cursor_row < top:
            top = self.cursor_row
        elif self.cursor_row >= top + visible:
            top = self.cursor_row - visible + 1
        left = round(self.scroll_x)
        view = max(self._view_width - self._gutter, 1)
        if self._offsets and self.cursor_col < len(self._offsets):
            x0 = self._offsets[self.cursor_col]
            x1 = x0 + self._widths[self.cursor_col] + 1
            if x0 < left:
                left = x0
            elif x1 > left + view:
                left = max(min(x0, x1 - view), 0)
        if top != round(self.scroll_y) or left != round(self.scroll_x):
            self.scroll_to(x=left, y=top, animate=False, force=True)

    def on_click(self, event: events.Click) -> None:
        """A click puts the cursor on a cell (a double click opens the row); the keyboard
        does everything too."""
        if event.y < 1 or not self._rows:
            return
        row = round(self.scroll_y) + event.y - 1
        col = self.cursor_col
        x = event.x - self._gutter + round(self.scroll_x)
        if x >= 0:
            for i, offset in enumerate(self._offsets):
                if offset <= x < offset + self._widths[i] + 1:
                    col = i
                    break
        self._set_cursor(row, col)
        if event.chain >= 2:
            self.action_open_row()

    def action_cursor_down(self) -> None:
        self._set_cursor(self.cursor_row + 1, self.cursor_col)

    def action_cursor_up(self) -> None:
        self._set_cursor(self.cursor_row - 1, self.cursor_col)

    def action_cursor_left(self) -> None:
        self._set_cursor(self.cursor_row, self.cursor_col - 1)

    def action_cursor_right(self) -> None:
        self._set_cursor(self.cursor_row, self.cursor_col + 1)

    def action_page_down(self) -> None:
        page = self.page_rows - 1
        self.scroll_to(y=round(self.scroll_y) + page, animate=False, force=True)
        self._set_cursor(self.cursor_row + page, self.cursor_col)

    def action_page_up(self) -> None:
        page = self.page_rows - 1
        self.scroll_to(y=max(round(self.scroll_y) - page, 0), animate=False, force=True)
        self._set_cursor(self.cursor_row - page, self.cursor_col)

    def action_first_row(self) -> None:
        self._set_cursor(0, self.cursor_col)

    def action_last_row(self) -> None:
        self._set_cursor(self._rows - 1, self.cursor_col)

    def action_open_row(self) -> None:
        row_id = self.cursor_id
        if row_id is not None:
            self.post_message(self.RowOpened(self, row_id))

    def action_sort(self, descending: bool) -> None:
        column = self.current_column
        if column is None:
            return
        self._sorted = (column, descending)
        self.post_message(StepRequested(Sort(columns=(column,), descending=(descending,))))

    def action_hide_column(self) -> None:
        column = self.current_column
        if column is None or len(self.columns) <= 1:
            self.notify("The last visible column cannot be hidden.", markup=False)
            return
        self.hidden.add(column)
        self._layout()
        self._set_cursor(self.cursor_row, self.cursor_col, force=True)
        self.refresh()

    def action_show_columns(self) -> None:
        if not self.hidden:
            return
        self.hidden.clear()
        self._layout()
        self._set_cursor(self.cursor_row, self.cursor_col, force=True)
        self.refresh()

    # -- rendering -------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self._view_width
        if width != self._layout_width:
            # scrollbars appearing change the width without a resize event
            self._layout()
        base = self._style("base")
        if y == 0:
            key: tuple[Any, ...] = ("header", self._generation, self._layout_key, self.cursor_col)
            index = -1
        else:
            index = scroll_y + y - 1
            if index >= self._rows:
                return Strip.blank(width, base)
            try:
                block = self._block_for(index)
            except pl.exceptions.PolarsError as exc:
                text = Text(f"cannot read rows: {exc}", style=base)
                return Strip(text.render(self.app.console)).adjust_cell_length(width, base)
            if block is None:
                return Strip.blank(width, base)
            is_cursor = index == self.cursor_row
            key = (
                self._generation,
                index,
                self._layout_key,
                self.cursor_col if is_cursor else -1,
                block.ids[index % BLOCK] in self.marked,
                self._highlight_key,
            )
        key += (scroll_x, width)
        strip = self._lines.get(key)
        if strip is not None:
            return strip
        gutter, body, line_style = (
            self._header_segments() if index < 0 else self._row_segments(index, block)
        )
        view = max(width - self._gutter, 0)
        body_strip = Strip(body, self._body_width).crop(scroll_x, scroll_x + view)
        strip = Strip.join([Strip(gutter, self._gutter), body_strip]).adjust_cell_length(
            width, line_style
        )
        self._lines.set(key, strip)
        return strip

    _BLENDED: ClassVar[frozenset[str]] = frozenset(
        {
            "frame-table--header",
            "frame-table--header-cursor",
            "frame-table--cursor",
            "frame-table--cursor-row",
            "frame-table--match",
        }
    )

    def _style(self, name: str) -> Style:
        """A component style; ones with a (translucent) background are blended, the others
        are foreground-only so they sit on whatever row background is under them.
        Cached: computing styles costs more than drawing a line."""
        style = self._style_cache.get(name)
        if style is None:
            if name == "base":
                style = self.rich_style
            else:
                style = self.get_component_rich_style(name, partial=name not in self._BLENDED)
            self._style_cache[name] = style
        return style

    def _clear_styles(self) -> None:
        self._style_cache.clear()
        self._lines.clear()

    def _header_segments(self) -> tuple[list[Segment], list[Segment], Style]:
        console = self.app.console
        base = self._style("base") + self._style("frame-table--header")
        cursor = base + self._style("frame-table--header-cursor")
        sep = base + self._style("frame-table--separator")
        dim = Style(dim=True)
        body: list[Segment] = []
        for i, (name, w) in enumerate(zip(self.columns, self._widths, strict=True)):
            cell = Text(no_wrap=True, end="", style=cursor if i == self.cursor_col else base)
            cell.append_text(safe_text(name))
            cell.append(" " + dtype_label(self._schema[name]), dim)
            cell.truncate(w, overflow="ellipsis", pad=True)
            body.extend(cell.render(console))
            body.append(Segment(SEPARATOR, sep))
        return [Segment(" " * self._gutter, base)], body, base

    def _row_segments(
        self, index: int, block: _Block
    ) -> tuple[list[Segment], list[Segment], Style]:
        """The gutter and the cells of one row, as segments (the fast path skips `Text`)."""
        is_cursor = index == self.cursor_row
        marked = block.ids[index % BLOCK] in self.marked
        base = self._style("base")
        if is_cursor:
            base = base + self._style("frame-table--cursor-row")
        gutter_style = base + self._style("frame-table--gutter")
        sep = base + self._style("frame-table--separator")
        gutter = [
            Segment("●", base + self._style("frame-table--mark"))
            if marked
            else Segment(" ", gutter_style),
            Segment(f"{index + 1:,}".rjust(self._gutter - 3) + " ", gutter_style),
            Segment(SEPARATOR, sep),
        ]
        cursor_style = base + self._style("frame-table--cursor")
        null_style = base + self._style("frame-table--null")
        match = self._style("frame-table--match")
        highlight = self._highlight
        console = self.app.console
        values = block.rows[index % BLOCK]
        body: list[Segment] = []
        for i, (position, w) in enumerate(zip(self._positions, self._widths, strict=True)):
            value = values[position]
            style = cursor_style if is_cursor and i == self.cursor_col else base
            if value is None:
                body.append(Segment(fit_plain("∅", w) or "", style + null_style))
            elif isinstance(value, int | float) and not isinstance(value, bool):
                shown = str(value)
                shown = shown.rjust(w) if len(shown) <= w else shown[: w - 1] + "…"
                if highlight is None:
                    body.append(Segment(shown, style))
                else:
                    cell = Text(shown, style=style, no_wrap=True, end="")
                    stylize_matches(cell, highlight, match)
                    body.extend(cell.render(console))
            else:
                raw = value[: w * 4 + 4] if isinstance(value, str) else cell_str(value)
                fitted = fit_plain(raw, w) if highlight is None else None
                if fitted is not None:
                    body.append(Segment(fitted, style))
                else:
                    cell = safe_text(
                        raw, width=w, highlight=highlight, highlight_style=match, style=style
                    )
                    body.extend(cell.render(console))
            body.append(Segment(SEPARATOR, sep))
        return gutter, body, base
