"""Help (`?`): every key of the app, its views and its panes and widgets.

Keys come from the keymap registry and from the `BINDINGS` of every pane class in `PANES`
and every studio widget mounted on the main screen, so new panes appear without edits here.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from studio.tui import keymap
from studio.tui.panes.base import Pane

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode


class KeyHelp(NamedTuple):
    where: str
    keys: str
    description: str


def _as_binding(entry: object) -> Binding | None:
    if isinstance(entry, Binding):
        return entry
    if isinstance(entry, tuple) and len(entry) >= 2:
        return Binding(*entry)
    return None


def class_bindings(cls: type) -> list[Binding]:
    """Bindings declared by a class and its non-Textual base classes (subclass wins)."""
    out: list[Binding] = []
    seen: set[str] = set()
    for klass in cls.__mro__:
        if (
            klass.__module__.startswith(("textual.", "builtins"))
            or "BINDINGS" not in klass.__dict__
        ):
            continue
        for entry in klass.__dict__["BINDINGS"]:
            binding = _as_binding(entry)
            if binding is None or binding.key in seen or binding.system:
                continue
            seen.add(binding.key)
            out.append(binding)
    return out


def _title_of(cls: type) -> str:
    """`HELP_TITLE` if the class has one, a pane's `TITLE` + " tab", else its spaced name."""
    explicit = getattr(cls, "HELP_TITLE", "")
    if explicit:
        return explicit
    title = getattr(cls, "TITLE", "") or ""
    if isinstance(title, str) and title and issubclass(cls, Pane):
        return f"{title} tab"
    name = cls.__name__.removesuffix("Screen")
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).split()
    return " ".join([words[0], *(w.lower() for w in words[1:])]) if words else cls.__name__


def screen_classes() -> list[type]:
    """Screens defined in `studio.tui.screens` (row detail, column summary, ...)."""
    import studio.tui.screens as package

    found: list[type] = []
    for info in pkgutil.iter_modules(package.__path__):
        try:
            module = importlib.import_module(f"{package.__name__}.{info.name}")
        except Exception:  # noqa: BLE001, S112 - a broken screen must not break help
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Screen)
                and value.__module__ == module.__name__
                and "BINDINGS" in value.__dict__
            ):
                found.append(value)
    return found


def widget_classes(app: App) -> list[type]:
    """Pane classes (mounted or not), our (non-Textual) widgets on the main screen and the
    widgets with keys that pane modules define."""
    from studio.tui.panes import PANES, load_pane

    classes: list[type] = []
    for _tab, _title, spec in PANES:
        try:
            classes.append(load_pane(spec))
        except Exception:  # noqa: BLE001, S112 - a broken pane must not break help
            continue
    if app.screen_stack:
        base: DOMNode = app.screen_stack[0]
        for node in base.walk_children():
            cls = type(node)
            if not cls.__module__.startswith(("textual.", "builtins")) and cls not in classes:
                classes.append(cls)
    for pane in list(classes):
        classes.extend(c for c in module_widgets(pane.__module__) if c not in classes)
    classes.extend(c for c in screen_classes() if c not in classes)
    return classes


def module_widgets(module_name: str) -> list[type]:
    """Widgets with keys defined in a pane's module: a lazy pane has not mounted them yet."""
    from textual.widget import Widget

    module = importlib.import_module(module_name)
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Widget)
        and not issubclass(value, Pane)
        and value.__module__ == module_name
        and "BINDINGS" in value.__dict__
    ]


def collect_keys(app: App) -> list[KeyHelp]:
    from studio.tui.panes import PANES

    def keys_of(keys: str, display: str | None) -> str:
        return keymap.display_keys(app, keys, display)

    out: list[KeyHelp] = []
    for action in keymap.ACTIONS:
        if not action.keys or action.id == "app.command_palette":
            continue
        where = keymap.WHERE_TITLES.get(action.where, action.where)
        description = action.description
        if action.id.startswith("app.tab_"):
            number = int(action.id.removeprefix("app.tab_"))
            if number > len(PANES):
                continue
            description = f"Switch to the {PANES[number - 1][1]} tab"
        out.append(KeyHelp(where, keys_of(action.keys, action.key_display), description))
    out.insert(
        1, KeyHelp(keymap.WHERE_TITLES["app"], keys_of("ctrl+p", None), "Open the command palette")
    )
    known = set(keymap.BY_ID)
    for cls in widget_classes(app):
        for binding in class_bindings(cls):
            if binding.id in known:
                continue
            text = binding.tooltip or binding.description or binding.action
            out.append(KeyHelp(_title_of(cls), keys_of(binding.key, binding.key_display), text))
    return out


class HelpScreen(Screen[None]):
    BINDINGS = keymap.bindings("help")

    def compose(self) -> ComposeResult:
        yield Static(
            "Keys · every action is also in the command palette (ctrl+p)", classes="view-title"
        )
        yield DataTable(cursor_type="row", zebra_stripes=True, id="help-table")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Keys", key="keys")
        table.add_column("Action", key="action")
        for row in self.rows(collect_keys(self.app)):
            table.add_row(*row)
        table.focus()

    @staticmethod
    def rows(entries: Iterable[KeyHelp]) -> Iterable[tuple[Text, Text]]:
        """A bold heading row per section, then its keys."""
        last = None
        for entry in entries:
            if entry.where != last:
                if last is not None:
                    yield Text(""), Text("")
                yield Text(entry.where, style="bold underline"), Text("")
                last = entry.where
            yield Text(" " + entry.keys), Text(entry.description)

    def action_close(self) -> None:
        self.dismiss(None)
