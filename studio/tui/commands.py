"""The command palette (ctrl+p), fed by the keymap registry (posting's PostingProvider).

Every entry is named `"group: Verb"`: the registry's palette actions (`"recipe: Save"`,
`"view: Steps"`), one `"tab: <Title>"` per pane and one `"theme: <Label>"` per theme. One
list (`StudioProvider.commands`) feeds both `discover` and `search`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

from textual.command import DiscoveryHit, Hit, Hits, Provider

from studio.tui import keymap

if TYPE_CHECKING:
    from studio.tui.app import StudioApp


class PaletteCommand(NamedTuple):
    name: str
    callback: Callable[[], object]
    help: str


def palette_commands(app: StudioApp) -> list[PaletteCommand]:
    """Everything the palette offers, in display order."""
    out: list[PaletteCommand] = []
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
        return palette_commands(self.app)  # type: ignore[arg-type]

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
