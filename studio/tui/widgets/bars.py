"""Terminal bar charts and histograms drawn as Rich renderables (labels are data: Text only)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text


def bar_chart(bars: list[tuple[str, float]], *, width: int = 30, style: str = "bold") -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True, max_width=24, overflow="ellipsis")
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    top = max((v for _, v in bars), default=0) or 1
    total = sum(v for _, v in bars) or 1
    for label, value in bars:
        n = value / top * width
        full = int(n)
        bar = "█" * full + ("▌" if n - full >= 0.5 else "")
        table.add_row(
            Text(str(label)), Text(bar, style=style), Text(f"{value:,.0f} ({value / total:.0%})")
        )
    return table
