"""Pick a data file in the current folder; the bundled samples are one key (`s`) away."""

from __future__ import annotations

import time
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from studio.tui import keymap

DATA_SUFFIXES = (
    ".jsonl",
    ".ndjson",
    ".json",
    ".csv",
    ".tsv",
    ".parquet",
    ".arrow",
    ".feather",
    ".ipc",
)
COMPRESSED = (".gz", ".zst")
LIMIT = 2000


def is_data_file(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSED:
        suffixes = suffixes[:-1]
    return (
        bool(suffixes) and suffixes[-1] in DATA_SUFFIXES and not path.name.endswith(".recipe.json")
    )


def is_dataset_folder(path: Path) -> bool:
    """A Hugging Face `save_to_disk` folder opens as one dataset."""
    return (path / "dataset_info.json").is_file() or (path / "state.json").is_file()


def samples_dir() -> Path | None:
    for candidate in (
        Path(__file__).resolve().parents[3] / "sample_data",
        Path.cwd() / "sample_data",
    ):
        if candidate.is_dir():
            return candidate
    return None


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


class PickerScreen(Screen[str | None]):
    BINDINGS = keymap.bindings("picker")

    def __init__(self, folder: Path | None = None, title: str = "Open a dataset") -> None:
        super().__init__()
        self.heading = title
        self.start = (folder or Path.cwd()).resolve()
        self.folder = self.start
        self.entries: list[Path] = []

    def compose(self) -> ComposeResult:
        yield Static("Open a dataset", classes="view-title", id="picker-title")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="picker-table")
        yield Static("", classes="view-hint", id="picker-hint")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Name", key="name")
        table.add_column("Size", key="size")
        table.add_column("Modified", key="modified")
        self.show_folder(self.folder)
        table.focus()

    def list_folder(self, folder: Path) -> list[Path]:
        try:
            children = sorted(folder.iterdir(), key=lambda p: (not p.is_dir(), p.name.lower()))
        except OSError:
            return []
        out = []
        for child in children:
            if child.name.startswith("."):
                continue
            if child.is_dir() or is_data_file(child):
                out.append(child)
        return out[:LIMIT]

    def show_folder(self, folder: Path) -> None:
        self.folder = folder
        self.entries = self.list_folder(folder)
        table = self.query_one(DataTable)
        table.clear()
        for path in self.entries:
            try:
                st = path.stat()
            except OSError:
                continue
            if path.is_dir():
                name = (
                    Text(path.name + "/", style="bold")
                    if not is_dataset_folder(path)
                    else Text(path.name + "/ (dataset)")
                )
                size = Text("")
            else:
                name = Text(path.name)
                size = Text(_size(st.st_size), justify="right")
            modified = Text(time.strftime("%Y-%m-%d %H:%M", time.localtime(st.st_mtime)))
            table.add_row(name, size, modified, key=str(path))
        files = sum(1 for p in self.entries if not p.is_dir())
        self.query_one("#picker-title", Static).update(
            Text(f"{self.heading} · {folder}", no_wrap=True, overflow="ellipsis")
        )
        samples = samples_dir()
        if samples is not None and folder == samples:
            hint = "Bundled samples · s goes back to your folder"
        elif samples is not None:
            hint = "s shows the bundled sample datasets"
        else:
            hint = "No bundled samples found"
        if not files:
            hint = f"No data files here ({', '.join(DATA_SUFFIXES)}). " + hint
        self.query_one("#picker-hint", Static).update(Text(hint, style="dim"))

    def selected(self) -> Path | None:
        table = self.query_one(DataTable)
        if not self.entries or not 0 <= table.cursor_row < len(self.entries):
            return None
        return self.entries[table.cursor_row]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        path = self.selected()
        if path is None:
            return
        if path.is_dir() and not is_dataset_folder(path):
            self.show_folder(path)
            return
        self.dismiss(str(path))

    def action_parent(self) -> None:
        if self.folder.parent != self.folder:
            self.show_folder(self.folder.parent)

    def action_toggle_samples(self) -> None:
        samples = samples_dir()
        if samples is None:
            self.notify("No bundled sample data was found.", severity="warning")
            return
        self.show_folder(self.start if self.folder == samples else samples)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("quit", "cancel"):
            quits = getattr(self.app, "workspace", None) is None
            return quits if action == "quit" else not quits
        return True

    def action_quit(self) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
