"""One registry of the shell's actions: every key of the app, its views and modals maps to a
named action here (harlequin's HARLEQUIN_ACTIONS, posting's binding ids and tooltips).

An action id is `"<where>.<name>"`: `where` is the screen or widget that owns the binding
(`app` for global keys, `steps`, `removed`, `problems`, `help`, `picker`, `confirm`, ...).
`bindings(where)` turns the registry into Textual `Binding`s carrying the action id as their
`id` and the description as their tooltip, so a user keymap (`App.set_keymap`) can rebind
any of them by id. The command palette (`studio.tui.commands`) and the help screen read the
same registry.

Key decisions (kept consistent with the Browse pane's keys, which use letters, `space`,
`Enter` and `Escape`):
- `1`..`9` switch tabs (no pane binds digits; text inputs consume digits before bindings);
- the Steps, Problems and Removed views are `F2`, `F3`, `F4` (Browse uses `S`, `P`/`R` are
  kept free for panes); each view closes with `Escape` or its own key again;
- `?` help, `ctrl+p` palette, `ctrl+z`/`ctrl+y` undo/redo, `ctrl+s` save recipe, `q` quit;
- `Escape` cancels running work, but only while something runs (otherwise the key goes to
  the focused widget).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.binding import Binding

if TYPE_CHECKING:
    from textual.app import App


@dataclass(frozen=True, slots=True)
class Action:
    id: str
    """`"<where>.<name>"`, also the Binding id."""
    action: str
    """The Textual action string run on the owner (`"undo"`, `"switch_tab(1)"`)."""
    description: str
    """One line for help and tooltips."""
    keys: str = ""
    """Default keys, comma separated (`"down,j"`); empty for palette-only actions."""
    label: str = ""
    """Short footer label."""
    palette: str | None = None
    """Command palette name, `"group: Verb"`; None keeps it out of the palette."""
    show: bool = False
    """Show in the footer."""
    key_display: str | None = None
    priority: bool = False

    @property
    def where(self) -> str:
        return self.id.partition(".")[0]

    def binding(self) -> Binding:
        return Binding(
            self.keys,
            self.action,
            self.label or self.description,
            show=self.show,
            key_display=self.key_display,
            priority=self.priority,
            tooltip=self.description,
            id=self.id,
        )


WHERE_TITLES: dict[str, str] = {
    "app": "Everywhere",
    "steps": "Steps view",
    "problems": "Problems view",
    "removed": "Removed view",
    "help": "Help",
    "picker": "File picker",
    "confirm": "Questions",
    "resume": "Resume journal",
    "prompt": "Path prompt",
    "error": "Error message",
    "fewshot": "Few-shot pack",
    "transfer": "Transfer stages",
    "sources": "Sources view",
    "mixture": "Mixture",
}

_TAB_ACTIONS = [
    Action(
        f"app.tab_{n}",
        f"switch_tab({n})",
        f"Switch to tab {n}",
        str(n),
        label=f"Tab {n}",
        key_display=str(n),
    )
    for n in range(1, 10)
]

ACTIONS: list[Action] = [
    Action(
        "app.help",
        "help",
        "Show every key of the app and its panes",
        "question_mark,f1",
        "Help",
        palette="app: Help",
        show=True,
        key_display="?",
    ),
    Action(
        "app.command_palette",
        "command_palette",
        "Open the command palette",
        "ctrl+p",
        "Palette",
        priority=True,
    ),
    Action("app.undo", "undo", "Undo the last step", "ctrl+z", "Undo", palette="recipe: Undo"),
    Action(
        "app.redo", "redo", "Redo the last undone step", "ctrl+y", "Redo", palette="recipe: Redo"
    ),
    Action(
        "app.save_recipe",
        "save_recipe",
        "Save the steps as a recipe file",
        "ctrl+s",
        "Save",
        palette="recipe: Save",
    ),
    Action(
        "app.steps_view",
        "steps_view",
        "Show the steps (the recipe) with rows in and out",
        "f2",
        "Steps",
        palette="view: Steps",
    ),
    Action(
        "app.problems_view",
        "problems_view",
        "Show problems found while loading (file, line, reason)",
        "f3",
        "Problems",
        palette="view: Problems",
    ),
    Action(
        "app.removed_view",
        "removed_view",
        "Show removed rows and put them back",
        "f4",
        "Removed",
        palette="view: Removed",
    ),
    Action(
        "app.cancel_work",
        "cancel_work",
        "Cancel the running work (only while something runs)",
        "escape",
        "Cancel",
        palette="app: Cancel running work",
        priority=True,
    ),
    Action(
        "app.open_file",
        "open_file",
        "Open another data file",
        "",
        palette="file: Open",
    ),
    Action(
        "app.add_source",
        "add_source",
        "Add another dataset as a source (the data is mapped onto one shape with a task column)",
        "",
        palette="file: Add source…",
    ),
    Action(
        "app.apply_source_edit",
        "apply_source_edit",
        "Apply the recipe of the source being edited and return to the combined workspace",
        "",
        palette="sources: Apply this source's recipe and return",
    ),
    Action(
        "app.sources_view",
        "sources_view",
        "Show the sources: rows, shape, task, mapping, mismatches",
        "f7",
        "Sources",
        palette="view: Sources",
    ),
    Action(
        "app.open_mixture",
        "open_mixture",
        "Mix the tasks: rule, weights and a preview before applying",
        "f8",
        "Mixture",
        palette="mix: Mixture…",
    ),
    Action(
        "app.quit",
        "quit",
        "Quit (asks first if steps are unsaved)",
        "q",
        "Quit",
        palette="app: Quit",
    ),
    Action(
        "app.open_fewshot",
        "open_fewshot",
        "Write a few-shot prompt pack (exemplars, evaluation set, prompt)",
        "",
        palette="prepare: Few-shot pack",
    ),
    Action(
        "app.open_transfer",
        "open_transfer",
        "Prepare transfer-learning stages (sources, then the target), leak-checked",
        "",
        palette="prepare: Transfer stages",
    ),
    *_TAB_ACTIONS,
    # -- Steps view
    Action("steps.close", "close", "Close the Steps view", "escape,f2", "Close", show=True),
    Action("steps.undo", "app.undo", "Undo the last step", "u", "Undo", show=True),
    Action("steps.redo", "app.redo", "Redo the last undone step", "r", "Redo", show=True),
    Action("steps.save", "app.save_recipe", "Save the recipe", "w", "Save", show=True),
    # -- Problems view
    Action("problems.close", "close", "Close the Problems view", "escape,f3", "Close", show=True),
    # -- Removed view
    Action("removed.close", "close", "Close the Removed view", "escape,f4", "Close", show=True),
    Action("removed.mark", "mark", "Mark or unmark the current row", "space", "Mark", show=True),
    Action(
        "removed.mark_all",
        "mark_all",
        "Mark every listed row of this step",
        "a",
        "Mark all",
    ),
    Action(
        "removed.restore",
        "restore",
        "Put back the marked rows (or the current row)",
        "enter,p",
        "Put back",
        show=True,
    ),
    Action(
        "removed.next_step",
        "next_step",
        "Show the rows of the next step",
        "tab,l",
        "Next",
        show=True,
    ),
    Action(
        "removed.previous_step",
        "previous_step",
        "Show the rows of the previous step",
        "shift+tab,h",
        "Prev step",
    ),
    # -- Sources view (while a source is edited on its own, only the keep/apply/discard keys)
    # the view's hint line lists every key; the footer leaves out Close and Shape to fit 80 columns
    Action("sources.close", "close", "Close the Sources view", "escape,f7", "Close"),
    Action(
        "sources.keep_editing",
        "keep_editing",
        "Close the Sources view and keep editing the source",
        "escape,f7",
        "Keep editing",
        show=True,
    ),
    Action(
        "sources.edit",
        "edit_source",
        "Edit this source's recipe",
        "enter",
        "Recipe",
        palette="sources: Edit this source's recipe",
        show=True,
        priority=True,
    ),
    Action(
        "sources.apply_edit",
        "apply_edit",
        "Apply the edited recipe to its source and return to the combined workspace",
        "enter",
        "Apply & return",
        show=True,
        priority=True,
    ),
    Action(
        "sources.discard_edit",
        "discard_edit",
        "Discard the edit and return to the combined workspace as it was",
        "d",
        "Discard edit",
        show=True,
    ),
    Action(
        "sources.remove",
        "remove_source",
        "Remove this source from the combination",
        "x",
        "Remove",
        show=True,
    ),
    Action("sources.add", "add_source", "Add a source", "a", "Add", show=True),
    Action("sources.task", "rename_task", "Rename the task of this source", "t", "Task", show=True),
    Action(
        "sources.mapping",
        "edit_mapping",
        "Map common fields onto this source's columns (FIELD=COLUMN,...)",
        "e",
        "Mapping",
        show=True,
    ),
    Action(
        "sources.shape",
        "cycle_shape",
        "Switch the common shape (auto, chat, alpaca)",
        "s",
        "Shape",
    ),
    Action("sources.mixture", "open_mixture", "Open the mixture", "m", "Mixture", show=True),
    # -- Mixture
    Action("mixture.close", "close", "Close the mixture", "escape,f8", "Close", show=True),
    Action(
        "mixture.apply", "apply_mix", "Apply the mixture as a step", "ctrl+g", "Apply", show=True
    ),
    Action(
        "mixture.dedup",
        "dedup_across",
        "Drop rows that duplicate a row of another task",
        "ctrl+l",
        "Drop leaks",
        show=True,
    ),
    # -- Help
    Action("help.close", "close", "Close help", "escape,question_mark,q", "Close", show=True),
    # -- File picker
    Action("picker.open", "open", "Open the selected file", "enter", "Open", show=True),
    Action(
        "picker.samples",
        "toggle_samples",
        "Switch between this folder and the bundled samples",
        "s",
        "Samples",
        show=True,
    ),
    Action("picker.up", "parent", "Go to the parent folder", "backspace", "Up", show=True),
    # with no dataset open, Escape quits; otherwise it goes back (the footer says which)
    Action("picker.quit", "quit", "Quit without opening a file", "escape,q", "Quit", show=True),
    Action(
        "picker.cancel", "cancel", "Go back without choosing a file", "escape,q", "Back", show=True
    ),
    # -- Confirm
    Action("confirm.yes", "answer(True)", "Yes", "y", "Yes", show=True),
    Action("confirm.no", "answer(False)", "No", "n,escape", "No", show=True),
    # -- Resume journal
    Action("resume.resume", "resume", "Replay the journalled steps", "r,y", "Resume", show=True),
    Action("resume.discard", "discard", "Discard the journal", "d", "Discard", show=True),
    Action(
        "resume.later", "later", "Decide later (keep the journal)", "escape", "Later", show=True
    ),
    # -- Path prompt
    Action("prompt.cancel", "cancel", "Cancel", "escape", "Cancel", show=True),
    # -- Error modal
    Action("error.close", "close", "Close", "escape,enter,q", "Close", show=True),
    # -- Few-shot pack screen
    Action("fewshot.close", "close", "Close the few-shot screen", "escape", "Close", show=True),
    Action(
        "fewshot.preview",
        "preview",
        "Preview the prompt and its tokens",
        "ctrl+r",
        "Preview",
        show=True,
    ),
    Action("fewshot.write", "write", "Write the pack to the folder", "ctrl+o", "Write", show=True),
    # -- Transfer stages screen
    Action("transfer.close", "close", "Close the transfer screen", "escape", "Close", show=True),
    Action(
        "transfer.add_source",
        "add_source",
        "Add a stage-1 source file",
        "ctrl+n",
        "Add file",
        show=True,
    ),
    Action(
        "transfer.preview",
        "preview",
        "Preview both stages and the leaks",
        "ctrl+r",
        "Preview",
        show=True,
    ),
    Action(
        "transfer.write", "write", "Write both stages to the folder", "ctrl+o", "Write", show=True
    ),
]

BY_ID: dict[str, Action] = {a.id: a for a in ACTIONS}
if len(BY_ID) != len(ACTIONS):  # pragma: no cover - a programming error
    raise RuntimeError("duplicate action id in keymap.ACTIONS")


def actions(where: str) -> list[Action]:
    return [a for a in ACTIONS if a.where == where]


def bindings(where: str) -> list[Binding]:
    """The Textual bindings for one owner (only actions that have keys)."""
    return [a.binding() for a in actions(where) if a.keys]


def palette_actions() -> Iterable[Action]:
    return (a for a in ACTIONS if a.palette)


def palette_name(action_id: str | None) -> str | None:
    """The palette name a screen's or pane's action asks for (else `"<where>: <label>"`)."""
    for action in ACTIONS:
        if action.id == action_id:
            return action.palette
    return None


_SPECIAL_KEYS = {
    "question_mark": "?",
    "escape": "Esc",
    "enter": "Enter",
    "space": "Space",
    "tab": "Tab",
    "shift+tab": "Shift+Tab",
    "backspace": "Backspace",
}


def key_label(app: App, key: str) -> str:
    """How one key is shown in help and the palette (`^z`, `F2`, `?`)."""
    key = key.strip()
    if key in _SPECIAL_KEYS:
        return _SPECIAL_KEYS[key]
    if key.startswith("f") and key[1:].isdigit():
        return key.upper()
    return app.get_key_display(Binding(key, ""))


def display_keys(app: App, keys: str, display: str | None = None) -> str:
    parts = [k.strip() for k in keys.split(",") if k.strip()]
    if display and len(parts) == 1:
        return display
    return ", ".join(key_label(app, k) for k in parts)
