"""StudioApp: the shell. Loads the dataset in a worker, hosts one tab per capability, runs
steps in workers (progress in the status line, Escape cancels), offers to resume a journal,
saves recipes, and routes every worker failure through one handler. Combined sources and the
source recipe editor are in `studio/tui/sources.py` (`SourcesMixin`)."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.theme import BUILTIN_THEMES
from textual.widgets import Footer, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from studio.engine.errors import StudioError
from studio.engine.io import load_dataset
from studio.engine.journal import Journal
from studio.engine.progress import Cancelled, RunContext, running
from studio.engine.recipe import Recipe
from studio.engine.steps.base import Step
from studio.engine.workspace import Workspace
from studio.tui import keymap
from studio.tui.commands import StudioProvider
from studio.tui.messages import (
    OpenRows,
    RestoreRequested,
    StepRequested,
    WorkProgress,
    WorkspaceChanged,
)
from studio.tui.panes import PANES
from studio.tui.panes.base import Pane, make_pane
from studio.tui.sources import SourceEdit, SourcesMixin
from studio.tui.themes import DEFAULT_THEME, label_of, load_themes, resolve_theme_name
from studio.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from textual.await_complete import AwaitComplete

    from studio.engine.recipe import StepResult
    from studio.engine.sources import Combined, SourceSpec

STYLES = Path(__file__).parent / "styles"
QUIET_GROUP_SUFFIXES = ("-prefetch", "-background")
"""Worker groups ending like this are neither shown in the status line nor cancelled by Esc."""
SHOW_WORK_AFTER = 0.2
"""Seconds a worker runs before the status line shows it."""


def css_paths() -> list[Path]:
    """`app.tcss` first, then one stylesheet per pane (whatever exists in the folder)."""
    others = sorted(p for p in STYLES.glob("*.tcss") if p.name != "app.tcss")
    return [STYLES / "app.tcss", *others]


def default_recipe_path(paths: list[str]) -> Path:
    """`<input stem>.recipe.json` next to the (first) input."""
    first = Path(paths[0]) if paths else Path("dataset")
    stem = first.name.split(".")[0] or "dataset"
    return first.parent / f"{stem}.recipe.json"


def one_line(error: BaseException, limit: int = 200) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    line = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"


class StudioApp(SourcesMixin, App[None]):
    TITLE = "Dataset Studio"
    CSS_PATH = css_paths()
    COMMANDS = {StudioProvider}
    BINDINGS = keymap.bindings("app")

    def __init__(
        self,
        paths: list[str] | None = None,
        *,
        theme_name: str | None = None,
        workspace: Workspace | None = None,
        recipe: Recipe | None = None,
        start_folder: Path | None = None,
    ) -> None:
        super().__init__()
        self.paths = list(paths or [])
        self.workspace: Workspace | None = workspace
        self.recipe_to_apply = recipe
        self.start_folder = start_folder
        self.theme_set = load_themes()
        for theme in self.theme_set.themes.values():
            self.register_theme(theme)
        if theme_name is not None:
            self._theme_name = resolve_theme_name(theme_name, self.available_themes)
        else:
            self._theme_name = (
                DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
            )
        self._sources: tuple[Workspace, Combined] | None = None
        self._editing: SourceEdit | None = None
        self._saved_generation: int | None = None
        self._recipes_unsaved: list[str] = []
        """Sources whose recipe was applied (edited) since the recipe was last saved."""
        self._progress: dict[str, tuple[float, float]] = {}
        self._seen: dict[Worker, float] = {}

    # -- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="edit-banner")
        with TabbedContent(id="tabs"):
            for index, (tab_id, title, spec) in enumerate(PANES):
                with TabPane(title, id=f"tab-{tab_id}"):
                    # only the first tab is composed now; the others when first shown
                    yield make_pane(spec, tab_id, self.workspace, lazy=index > 0)
        yield StatusBar(id="status")
        yield Footer()

    def on_load(self) -> None:
        # before anything is composed: the first style pass already uses the theme (set in
        # on_mount, the switch restyled every widget once more, a fifth of the first paint)
        self.theme = self._theme_name

    def on_mount(self) -> None:
        for problem in self.theme_set.problems:
            self.notify(problem, title="Theme skipped", severity="warning", markup=False)
        self.set_interval(0.25, self._poll_work)
        if self.workspace is not None:
            self._workspace_ready()
        elif self.paths:
            self._set_status(f"Opening {', '.join(self.paths)}…")
            specs = source_specs(self.paths)
            shape = "auto"
            recipe = self.recipe_to_apply
            if recipe is not None and recipe.source.get("sources"):
                from studio.engine.sources import specs_of

                recorded = specs_of(recipe.source)
                if specs is None or [s.path for s in specs] == [s.path for s in recorded]:
                    specs, shape = recorded, str(recipe.source.get("shape") or "auto")
            if specs is not None:
                self.load_sources(specs, shape)
            else:
                self.load(self.paths[0])
        else:
            self._set_status("No dataset opened · ctrl+p → file: Open")
            self.call_after_refresh(self.action_open_file)

    def tab_titles(self) -> list[tuple[str, str]]:
        return [(tab_id, title) for tab_id, title, _spec in PANES]

    def theme_labels(self) -> dict[str, str]:
        """Theme name -> palette label: ours first, then Textual's own."""
        labels = dict(self.theme_set.labels)
        for name in sorted(self.available_themes):
            if name not in labels and name in BUILTIN_THEMES:
                labels[name] = label_of(name)
        return labels

    def key_label(self, key: str) -> str:
        return keymap.key_label(self, key)

    def set_theme(self, name: str) -> None:
        self.theme = name

    # -- status and work -------------------------------------------------------------------
    @property
    def unsaved(self) -> bool:
        ws = self.workspace
        if ws is None:
            return False
        if self._recipes_unsaved and self.sources is not None:
            return True  # a source's recipe is in no journal: only a saved recipe keeps it
        return bool(ws.steps) and ws.generation != self._saved_generation

    def _main_query(self, selector: type | str):  # noqa: ANN202
        """Query the main screen even while a view or modal is on top (App.query only sees
        the active screen)."""
        if not self.screen_stack:
            return self.query(selector)
        return self.screen_stack[0].query(selector)

    def _status_bar(self) -> StatusBar | None:
        """The status line of the main screen (None while starting or shutting down)."""
        if not self.screen_stack:
            return None
        found = self._main_query(StatusBar)
        # not before it is mounted: the work poll may tick before the bar has its children
        return found.first() if found and found.first().is_mounted else None

    def _set_status(self, text: str) -> None:
        bar = self._status_bar()
        if bar is not None:
            bar.set_text(text)

    def _status_text(self) -> str:
        ws = self.workspace
        if ws is None:
            return "No dataset opened"
        n = len(ws.steps)
        parts = [ws.dataset.name, f"{ws.rows:,} rows", f"{n} step{'' if n == 1 else 's'}"]
        if self._editing is not None:
            parts[0] = f"source {self._editing.task}: {parts[0]}"
        elif self.unsaved:
            parts[-1] += " (unsaved)"
        if ws.dataset.problems:
            n = len(ws.dataset.problems)
            parts.append(f"{n:,} problem{'' if n == 1 else 's'} (F3)")
        return " · ".join(parts)

    def running_workers(self) -> list[Worker]:
        """Our own running workers: not Textual's internal ones (e.g. the palette's) and not
        quiet background groups (`QUIET_GROUP_SUFFIXES`, e.g. the table's row prefetch)."""
        return [
            w
            for w in self.workers
            if w.state in (WorkerState.PENDING, WorkerState.RUNNING)
            and not w.is_cancelled
            and type(w.node).__module__.startswith("studio.")
            and not w.group.endswith(QUIET_GROUP_SUFFIXES)
        ]

    def _poll_work(self) -> None:
        running_now = self.running_workers()
        now = time.monotonic()
        self._seen = {w: self._seen.get(w, now) for w in running_now}
        bar = self._status_bar()
        if bar is None:
            return
        # only work that lasts shows up, so quick steps do not flicker the status line
        shown = [w for w in running_now if now - self._seen[w] >= SHOW_WORK_AFTER]
        if not shown:
            if not running_now:
                self._progress.clear()
            bar.set_work(None)
            return
        worker = shown[-1]
        description = worker.description or worker.name or "working"
        done, total = self._progress.get(description, (0.0, 0.0))
        bar.set_work(description, done, total or None)

    @on(WorkProgress)
    def _on_work_progress(self, message: WorkProgress) -> None:
        self._progress[message.description] = (message.done, message.total)

    def _post_progress(self, description: str, done: float, total: float, _note: str) -> None:
        self.post_message(WorkProgress(description, done, total))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_work":
            return bool(self.running_workers())
        if action == "switch_tab":
            return len(self.screen_stack) == 1
        return True

    def action_cancel_work(self) -> None:
        workers = self.running_workers()
        for worker in workers:
            worker.cancel()
        if workers:
            names = ", ".join(sorted({w.description or w.name for w in workers}))
            self.notify(f"Cancelled: {names}", severity="warning", markup=False)
        self._poll_work()

    # -- opening ---------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="load", description="opening")
    def load(self, path: str) -> None:
        dataset = load_dataset(path)
        journal = Journal(dataset.paths)
        pending = journal.pending()
        when = None
        if pending is not None:
            try:
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(journal.file.stat().st_mtime))
            except OSError:
                when = "an earlier session"
        workspace = Workspace(dataset, journal=journal)
        if get_current_worker().is_cancelled:
            return
        self.call_from_thread(self._file_opened, workspace, pending, when)

    def _file_opened(self, workspace: Workspace, pending: Recipe | None, when: str | None) -> None:
        # only now is an edit of a source (and the combination) left: a file that fails to
        # open leaves them as they were
        self._editing = None
        self._recipes_unsaved = []
        self._set_workspace(workspace, pending, when)

    def _set_workspace(
        self,
        workspace: Workspace,
        pending: Recipe | None,
        when: str | None,
        *,
        announce: bool = True,
    ) -> None:
        self.workspace = workspace
        self.paths = list(workspace.dataset.paths)
        self._saved_generation = None
        self._workspace_ready()
        self._hold_in_memory(workspace)
        problems = workspace.dataset.problems
        if problems and announce:  # not again on a rebuild: the status line still counts them
            n = len(problems)
            self.notify(
                f"{n:,} line{'' if n == 1 else 's'} could not be read; F3 lists them.",
                title="Problems while loading",
                severity="warning",
                markup=False,
            )
        if self.recipe_to_apply is not None:
            recipe, self.recipe_to_apply = self.recipe_to_apply, None
            self.replay(recipe, "applying recipe")
        elif pending is not None:
            from studio.tui.screens.resume import ResumeScreen

            self.push_screen(
                ResumeScreen([s.describe() for s in pending.steps], when or "an earlier session"),
                partial(self._resume_chosen, pending),
            )

    @work(
        thread=True,
        exit_on_error=False,
        group="memory-background",
        description="reading the rows into memory",
    )
    def _hold_in_memory(self, workspace: Workspace) -> None:
        """After the first paint: keep a Parquet/Arrow source in memory when it fits, so a
        filter on 1M rows does not re-read the file (quiet: no status line, no cancel)."""
        workspace.hold_in_memory()

    def _resume_chosen(self, recipe: Recipe, choice: str | None) -> None:
        ws = self.workspace
        if ws is None:
            return
        if choice == "resume":
            if self._resume_combination(recipe):
                return
            self.replay(recipe, "resuming journal")
        elif choice == "discard" and ws.journal is not None:
            ws.journal.clear()
            self.notify("Journal discarded.", markup=False)

    def _resume_combination(self, recipe: Recipe) -> bool:
        """A journal of these sources combined otherwise (a source's recipe edited, a task
        renamed, a mapping or the common shape changed): its steps were made on that combination, so rebuild it and
        replay them there. False when the journal's combination is the one open."""
        from studio.engine.sources import SourceSpec

        combined = self.sources
        recorded = recipe.source.get("sources")
        if combined is None or not recorded:
            return False
        now = combined.dataset.combined or {}
        if recorded == now.get("sources") and recipe.source.get("shape") == now.get("shape"):
            return False
        try:
            specs = [SourceSpec.from_json(s) for s in recorded]
        except (StudioError, TypeError, ValueError, KeyError) as exc:
            self.notify(
                f"The journal's sources cannot be read ({exc}); not resumed.",
                severity="error",
                markup=False,
            )
            return True
        self._set_status("Resuming the journal on its sources…")
        self.load_sources(
            specs,
            str(recipe.source.get("shape") or self._common_shape(combined)),
            replay=tuple(recipe.steps),
            restored=recipe.restored,
            title="Journal resumed",
        )
        return True

    @work(thread=True, exclusive=True, exit_on_error=False, group="step", description="replaying")
    def replay(self, recipe: Recipe, description: str) -> None:
        ws = self.workspace
        assert ws is not None
        worker = get_current_worker()
        context = RunContext(
            on_progress=partial(self._post_progress, description),
            is_cancelled=lambda: worker.is_cancelled,
        )
        try:
            with running(context):
                results = ws.replay(recipe)
        finally:  # a failing step may leave the steps before it applied: show what is there
            self.call_from_thread(self._after_change)
        n = len(results)
        self.call_from_thread(
            self.notify,
            f"{description.capitalize()}: {n} step{'' if n == 1 else 's'}, {ws.rows:,} rows.",
            markup=False,
        )

    def _workspace_ready(self) -> None:
        assert self.workspace is not None
        for pane in self._main_query(Pane):
            pane.workspace = self.workspace
        self._after_change()
        self.call_after_refresh(self._focus_active_pane)

    def _focus_active_pane(self) -> None:
        """Focus into the visible pane so the footer shows that pane's keys."""
        if self.screen is not self.screen_stack[0]:
            return
        active = self._main_query(TabbedContent).first().active.removeprefix("tab-")
        if active:
            self._focus_pane(active)

    def _focus_pane(self, tab_id: str) -> AwaitComplete:
        # a tab not shown before is built first, and focused into once mounted
        return self._main_query(f"#pane-{tab_id}").first(Pane).build(focus=True)

    def _after_change(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        self._set_status(self._status_text())
        self._show_editing()
        for pane in self._main_query(Pane):
            pane.notify_workspace_changed()  # hidden panes catch up when shown
        from studio.tui.screens.view import WorkspaceView

        for screen in self.screen_stack:
            if isinstance(screen, WorkspaceView):
                screen.workspace_changed()
        self.post_message(WorkspaceChanged(ws.generation))

    def action_open_file(self) -> None:
        from studio.tui.screens.picker import PickerScreen

        def opened(path: str | None) -> None:
            if path is not None:
                self.paths = [path]
                self._set_status(f"Opening {path}…")
                self.load(path)
            elif self.workspace is None:
                self.exit()

        def pick(go: bool | None = True) -> None:
            if go:
                self.push_screen(PickerScreen(self.start_folder), opened)

        if self._editing is not None:
            self._confirm(
                f"Open another file and leave the combined workspace and the edit of source "
                f"{self._editing.task}?",
                pick,
            )
        elif self.unsaved:
            self._confirm(f"Open another file and leave {self._unsaved_count()} unsaved?", pick)
        else:
            pick()

    # -- steps -----------------------------------------------------------------------------
    @on(StepRequested)
    def _on_step_requested(self, message: StepRequested) -> None:
        if self.workspace is None:
            self.notify("Open a dataset first.", severity="warning")
            return
        self.apply_step(message.step)

    def marked_ids(self) -> set[int]:
        """The rows marked in Browse (the Augment pane's "marked rows" scope)."""
        browse = self.query("#pane-browse")
        table = getattr(browse.first(), "table", None) if browse else None
        return set(getattr(table, "marked", ()) or ())

    def browse_cursor_id(self) -> int | None:
        """The `_id` of the row under the Browse cursor (None before data is shown)."""
        browse = self._main_query("#pane-browse")
        table = getattr(browse.first(), "table", None) if browse else None
        return getattr(table, "cursor_id", None)

    def tokenizer_spec(self) -> str:
        """The tokenizer chosen in the Tokens pane ("" when none: the estimate)."""
        from textual.css.query import NoMatches

        try:
            return str(self._main_query("#pane-tokens").first().tokenizer_spec or "")  # type: ignore[attr-defined]
        except (NoMatches, AttributeError):
            return ""

    @on(OpenRows)
    def _on_open_rows(self, message: OpenRows) -> None:
        """A pane asks to see rows (e.g. behind a figure): show them in Browse."""
        message.stop()
        self.show_tab("browse")
        self._main_query("#pane-browse").first().open_rows(message.ids, message.title)  # type: ignore[attr-defined]

    @work(thread=True, exit_on_error=False, group="step", description="applying step")
    def apply_step(self, step: Step) -> None:
        ws = self.workspace
        assert ws is not None
        worker = get_current_worker()
        context = RunContext(
            on_progress=partial(self._post_progress, "applying step"),
            is_cancelled=lambda: worker.is_cancelled,
        )
        with running(context):
            result: StepResult = ws.apply(step)
        if worker.is_cancelled:
            # the step did not poll for cancellation and finished: take it back
            ws.undo()
            self.call_from_thread(self._after_change)
            return
        self.call_from_thread(self._after_change)
        self.call_from_thread(self.notify, result.summary(), title="Step applied", markup=False)

    @work(thread=True, exit_on_error=False, group="step", description="undo")
    def action_undo(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        step = ws.undo()
        if step is None:
            self.call_from_thread(self.notify, "Nothing to undo.", markup=False)
            return
        self.call_from_thread(self._after_change)
        self.call_from_thread(self.notify, f"Undid: {step.describe()}", markup=False)

    @work(thread=True, exit_on_error=False, group="step", description="redo")
    def action_redo(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        result = ws.redo()
        if result is None:
            self.call_from_thread(self.notify, "Nothing to redo.", markup=False)
            return
        self.call_from_thread(self._after_change)
        self.call_from_thread(self.notify, f"Redid: {result.summary()}", markup=False)

    @on(RestoreRequested)
    def _on_restore_requested(self, message: RestoreRequested) -> None:
        if self.workspace is not None:
            self.restore_rows(message.step_index, list(message.ids))

    @work(thread=True, exit_on_error=False, group="step", description="putting rows back")
    def restore_rows(self, step_index: int, ids: list[int]) -> None:
        ws = self.workspace
        assert ws is not None
        try:
            ws.restore(step_index, ids)
        finally:
            self.call_from_thread(self._after_change)
        n = len(ids)
        self.call_from_thread(
            self.notify, f"Put back {n:,} row{'' if n == 1 else 's'}.", markup=False
        )

    # -- recipe ----------------------------------------------------------------------------
    def _unsaved_count(self) -> str:
        n = len(self.workspace.steps) if self.workspace else 0
        steps = f"{n} step{'' if n == 1 else 's'}"
        if not self._recipes_unsaved or self.sources is None:
            return steps
        names = ", ".join(self._recipes_unsaved)
        plural = "s" if len(self._recipes_unsaved) > 1 else ""
        recipes = f"the recipe{plural} of source{plural} {names}"
        return f"{steps} and {recipes}" if n else recipes

    def action_save_recipe(self) -> None:
        from studio.tui.screens.prompt import PathPrompt

        ws = self.workspace
        if ws is None:
            self.notify("Open a dataset first.", severity="warning")
            return
        combined = self.sources
        if not ws.steps and not (combined and any(s.steps for s in combined.specs)):
            # a combination whose sources have recipes of their own is worth saving as it is
            self.notify("No steps to save yet.", severity="warning")
            return
        default = default_recipe_path(list(ws.dataset.paths))
        self.push_screen(PathPrompt("Save the recipe to", str(default)), self._save_to)

    def _save_to(self, path: str | None) -> None:
        if not path:
            return
        target = Path(path).expanduser()
        if target.suffix != ".json":
            target = target.with_name(target.name + ".recipe.json")
        if target.exists():
            self._confirm(
                f"{target} exists. Overwrite it?",
                lambda yes: self._write_recipe(target) if yes else None,
            )
        else:
            self._write_recipe(target)

    def _write_recipe(self, target: Path) -> None:
        ws = self.workspace
        assert ws is not None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            ws.recipe().save(target, force=True)
        except StudioError as exc:
            self.notify(str(exc), severity="error", title="Not saved", markup=False)
            return
        except OSError as exc:
            self.notify(
                f"{target}: {exc.strerror or exc}",
                severity="error",
                title="Not saved",
                markup=False,
            )
            return
        saved = self._unsaved_count()
        self._saved_generation = ws.generation
        if self._editing is None:  # a source's own recipe saved alone is not the combination
            self._recipes_unsaved = []
        self._set_status(self._status_text())
        self.notify(f"Saved {saved} to {target}", title="Recipe saved", markup=False)

    # -- views -----------------------------------------------------------------------------
    def _has_workspace(self) -> bool:
        """Whether a dataset is open; warns when not."""
        if self.workspace is None:
            self.notify("Open a dataset first.", severity="warning")
            return False
        return True

    def _show_view(self, screen_type: type) -> None:
        from studio.tui.screens.view import WorkspaceView

        if isinstance(self.screen, screen_type):
            self.pop_screen()
            return
        if isinstance(self.screen, WorkspaceView):
            self.pop_screen()
        self.push_screen(screen_type())

    def action_steps_view(self) -> None:
        from studio.tui.screens.steps import StepsScreen

        self._show_view(StepsScreen)

    def action_problems_view(self) -> None:
        from studio.tui.screens.problems import ProblemsScreen

        self._show_view(ProblemsScreen)

    def action_removed_view(self) -> None:
        from studio.tui.screens.removed import RemovedScreen

        self._show_view(RemovedScreen)

    def action_open_fewshot(self) -> None:
        from studio.tui.screens.fewshot import FewShotScreen

        if not self._has_workspace():
            return
        browse = self._main_query("#pane-browse")
        table = getattr(browse.first(), "table", None) if browse else None
        marked = set(getattr(table, "marked", ()) or ())
        self._push_view(FewShotScreen(marked))

    def _push_view(self, screen: Screen) -> None:
        """Show a view screen built with arguments (closes another view on top first)."""
        from studio.tui.screens.view import WorkspaceView

        while isinstance(self.screen, WorkspaceView):
            self.pop_screen()
        self.push_screen(screen)

    def action_open_transfer(self) -> None:
        from studio.tui.screens.transfer import TransferScreen

        if not self._has_workspace():
            return
        self._push_view(TransferScreen())

    def action_help(self) -> None:
        from studio.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_switch_tab(self, number: int) -> None:
        if 1 <= number <= len(PANES):
            self.show_tab(PANES[number - 1][0])

    def show_tab(self, tab_id: str) -> AwaitComplete:
        """Switch to a tab; await the result to have a tab shown for the first time built."""
        from studio.tui.screens.view import WorkspaceView

        while isinstance(self.screen, WorkspaceView):
            self.pop_screen()
        self._main_query(TabbedContent).first().active = f"tab-{tab_id}"
        return self._focus_pane(tab_id)

    # -- quitting --------------------------------------------------------------------------
    def _confirm(self, question: str, then) -> None:  # noqa: ANN001
        from studio.tui.screens.confirm import ConfirmScreen

        self.push_screen(ConfirmScreen(question), then)

    async def action_quit(self) -> None:
        edit = self._editing
        if edit is not None:
            lost = []
            if self.edit_changed():
                lost.append(f"the edit of source {edit.task} not applied")
            combined_ws = edit.workspace
            if combined_ws.steps and combined_ws.generation != edit.saved_generation:
                n = len(combined_ws.steps)
                lost.append(f"{n} combined step{'' if n == 1 else 's'} not saved as a recipe")
            earlier = [t for t in self._recipes_unsaved if t != edit.task]
            if earlier:
                plural = "s" if len(earlier) > 1 else ""
                lost.append(
                    f"the recipe{plural} of source{plural} {', '.join(earlier)} not saved as a "
                    "recipe"
                )
            if lost:
                kept = (
                    " The journal keeps the combined steps from before the edit for next time."
                    if combined_ws.steps
                    else ""
                )
                self._confirm(
                    f"Quit with {' and '.join(lost)}?{kept}",
                    lambda yes: self.exit() if yes else None,
                )
            else:
                self.exit()
            return
        ws_steps = bool(self.workspace and self.workspace.steps)
        if self.unsaved:
            kept = " The journal keeps the steps for next time." if ws_steps else ""
            self._confirm(
                f"Quit with {self._unsaved_count()} not saved as a recipe?{kept}",
                lambda yes: self.exit() if yes else None,
            )
            return
        ws = self.workspace
        if ws is not None and ws.journal is not None and ws.steps:
            ws.journal.clear()  # saved as a recipe: nothing to resume
        self.exit()

    # -- errors ----------------------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.route_worker_state(event)

    def route_worker_state(self, event: Worker.StateChanged) -> None:
        """The one place worker failures become messages (screens forward theirs here)."""
        self._poll_work()
        if event.state == WorkerState.CANCELLED and event.worker.group == "load":
            if self.workspace is None:
                self._set_status("Opening cancelled · ctrl+p → file: Open")
            else:
                self._set_status(self._status_text())
            return
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        title = (event.worker.description or "Work").capitalize()
        if isinstance(error, Cancelled):
            self.notify(f"{title} cancelled; nothing changed.", severity="warning", markup=False)
        elif isinstance(error, StudioError):
            self.notify(str(error), severity="error", title=title, markup=False, timeout=8)
            if event.worker.group == "load" and self.workspace is None:
                self._set_status("Could not open the dataset · ctrl+p → file: Open")
            elif event.worker.group == "load":
                self._set_status(self._status_text())
        else:
            from studio.tui.screens.error import ErrorScreen

            self.push_screen(ErrorScreen(f"{title} failed", one_line(error)))


def source_specs(paths: list[str]) -> list[SourceSpec] | None:
    """Several PATHs (or one with `:task=...` options) open as sources of one workspace."""
    from studio.engine.sources import parse_source_arg

    specs = [parse_source_arg(p) for p in paths]
    if len(specs) > 1 or (specs and (specs[0].task or specs[0].mapping or specs[0].steps)):
        return specs
    return None


def run_app(paths: list[str], *, theme: str | None = None, recipe: str | None = None) -> int:
    """`studio [PATH ...] [--theme NAME] [--recipe FILE]`; bad names and files fail before the
    UI. Several PATHs (`A.jsonl:task=qa B.parquet`) open as sources of one workspace."""
    loaded = Recipe.load(recipe) if recipe else None
    if not paths and loaded is not None:
        if loaded.source.get("sources"):
            paths = [
                str(s["path"]) if isinstance(s, dict) else str(s) for s in loaded.source["sources"]
            ]
        else:
            sources = [p for p in loaded.source.get("paths", []) if Path(p).exists()]
            paths = sources[:1]
    specs = source_specs(paths) or []
    for path in [s.path for s in specs] or paths[:1]:
        if not Path(path).exists() and not any(ch in path for ch in "*?["):
            raise StudioError(f"{path}: no such file.")
    StudioApp(paths, theme_name=theme, recipe=loaded).run()
    return 0
