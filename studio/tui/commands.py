"""The command palette (ctrl+p), fed by the keymap registry (posting's PostingProvider).

Every entry is named `"group: Verb"`: the keys active where the palette was opened (the
focused pane's and widget's bindings, `"browse: Search"`, `"table: Sort"`), the registry's
app actions (`"recipe: Save"`, `"view: Steps"`), one `"tab: <Title>"` per pane and one
`"theme: <Label>"` per theme. One list (`StudioProvider.commands`) feeds both `discover`
and `search`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

from textual.command import DiscoveryHit, Hit, Hits, Provider

from studio.tui import keymap

if TYPE_CHECKING:
    from textual.screen import Screen

    from studio.tui.app import StudioApp


class PaletteCommand(NamedTuple):
    name: str
    callback: Callable[[], object]
    help: str


def _group_of(node: object, binding_id: str | None) -> str:
    if binding_id and "." in binding_id:
        return binding_id.partition(".")[0]
    tab = getattr(node, "TAB_ID", "")
    return tab or type(node).__name__.removesuffix("Screen").lower()


def focused_commands(app: StudioApp, screen: Screen | None) -> list[PaletteCommand]:
    """The keys active where the palette was opened (focused widget, its pane, the screen),
    so every action of the focused pane is in the palette too (`"browse: Sort"`)."""
    if screen is None:
        return []
    out: list[PaletteCommand] = []
    seen: set[tuple[int, str]] = set()
    app_ids = {a.id for a in keymap.ACTIONS if a.where == "app"}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if (
            active.node is app
            or not binding.id  # our bindings all carry ids; Textual's generic ones do not
            or type(active.node).__module__.startswith("textual.")
            or binding.id in app_ids
            or binding.system
            or not active.enabled
            or (id(active.node), binding.action) in seen
        ):
            continue
        seen.add((id(active.node), binding.action))
        label = binding.description or binding.action
        keys = keymap.display_keys(app, key, binding.key_display)
        named = keymap.palette_name(binding.id)
        out.append(
            PaletteCommand(
                named or f"{_group_of(active.node, binding.id)}: {label}",
                partial(app.run_action, binding.action, active.node),
                f"{binding.tooltip or label}  ({keys})",
            )
        )
    return out


def palette_commands(app: StudioApp, screen: Screen | None = None) -> list[PaletteCommand]:
    """Everything the palette offers, in display order."""
    out: list[PaletteCommand] = focused_commands(app, screen)
    for action in keymap.palette_actions():
        if action.where != "app":
            continue
        assert action.palette is not None
        help_text = action.description
        if action.keys:
            keys = ", ".join(app.key_label(k) for k in action.keys.split(","))
            help_text = f"{help_text}  ({keys})"
        out.append(
            PaletteCommand(action.palette, partial(app.run_action, action.action), help_text)
        )
    for number, (tab_id, title) in enumerate(app.tab_titles(), start=1):
        out.append(
            PaletteCommand(
                f"tab: {title}",
                partial(app.show_tab, tab_id),
                f"Switch to the {title} tab  ({number})" if number <= 9 else f"Switch to {title}",
            )
        )
    for name, label in app.theme_labels().items():
        out.append(
            PaletteCommand(
                f"theme: {label}", partial(app.set_theme, name), f"Use the {name} colour theme"
            )
        )
    return out


class StudioProvider(Provider):
    @property
    def commands(self) -> list[PaletteCommand]:
        return palette_commands(self.app, self.screen)  # type: ignore[arg-type]

    async def discover(self) -> Hits:
        for command in self.commands:
            yield DiscoveryHit(command.name, command.callback, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self.commands:
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(command.name), command.callback, help=command.help
                )
