"""Several sources in one workspace, in the app: combining and rebuilding them (a source
added, removed, renamed or remapped; the combined steps replayed with their row ids and task
names following), and the recipe editor that opens one source on its own.

`SourcesMixin` is part of `StudioApp`; it only builds `SourceSpec`s and steps and runs the
engine's `combine` in workers."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.widgets import Static
from textual.worker import get_current_worker

from studio.engine.errors import StudioError
from studio.engine.io import load_dataset
from studio.engine.journal import Journal
from studio.engine.progress import RunContext, running
from studio.engine.steps.base import Step
from studio.engine.workspace import Workspace

if TYPE_CHECKING:
    from studio.engine.recipe import Recipe
    from studio.engine.sources import Combined, SourceSpec


@dataclass
class SourceEdit:
    """One source of a combined workspace opened on its own to edit its recipe: the
    combination (and its workspace) to return to, kept as they were."""

    index: int
    combined: Combined
    workspace: Workspace
    saved_generation: int | None
    applied_at: int | None = None
    """The edited workspace's generation when its recipe was sent to the rebuild."""

    @property
    def spec(self) -> SourceSpec:
        return self.combined.specs[self.index]

    @property
    def task(self) -> str:
        return self.spec.task_name

    def banner(self) -> str:
        n = len(self.combined.specs)
        return (
            f"editing source {self.task} ({self.index + 1} of {n}) · "
            "F7 to return to the combined workspace"
        )


def not_replayed(index: int, step: Step, error: BaseException, total: int) -> str:
    """Step `index` (of `total`) failed while a recipe was replayed: what was left out."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    rest = total - index - 1
    return f"Step {index + 1} ({step.describe()}) no longer applies: {text}" + (
        f" It and the {rest} step{'' if rest == 1 else 's'} after it were not replayed."
        if rest
        else " It was not replayed."
    )


def replay_until_failure(
    workspace: Workspace,
    steps: list[Step | None],
    restored: Mapping[int, tuple[int, ...]],
) -> str | None:
    """Apply `steps` (None: left out) with their rows put back, up to the first that no longer
    applies; None when all did, else what was not replayed."""
    import polars as pl

    for index, step in enumerate(steps):
        if step is None:
            continue
        try:
            workspace.apply(step, restore=restored.get(index, ()))
        except (StudioError, pl.exceptions.PolarsError) as exc:
            return not_replayed(index, step, exc, len(steps))
    return None


class SourcesMixin:
    """The app's handling of combined sources (mixed into `StudioApp`)."""

    _sources: tuple[Workspace, Combined] | None
    _editing: SourceEdit | None
    _recipes_unsaved: list[str]
    _saved_generation: int | None
    workspace: Workspace | None

    # -- several sources -------------------------------------------------------------------
    @property
    def sources(self) -> Combined | None:
        """The combined sources of the current workspace (None: one plain dataset)."""
        if self._sources is not None and self._sources[0] is self.workspace:
            return self._sources[1]
        return None

    @work(thread=True, exclusive=True, exit_on_error=False, group="load", description="combining")
    def load_sources(
        self,
        specs: list[SourceSpec],
        shape: str = "auto",
        replay: tuple[Step, ...] = (),
        prepared: dict | None = None,
        *,
        restored: dict[int, tuple[int, ...]] | None = None,
        previous: Combined | None = None,
        new_index: dict[int, int] | None = None,
        title: str = "Sources combined",
        edit: SourceEdit | None = None,
    ) -> None:
        """Combine the sources into one workspace (in a worker); replay `replay` (with the rows
        `restored` put back) on it. With `previous` (the combination the steps were made on)
        and `new_index` (its spec positions -> positions in `specs`; default: the same), the
        row ids the steps name follow their rows to the new combination. With `edit` (the
        source edit this rebuild applies), the result is dropped unless that edit is still
        open when it is ready."""
        from studio.engine.sources import combine

        combined = combine(specs, shape=shape, prepared=prepared)
        steps, back, notes = self._moved_steps(
            replay, dict(restored or {}), previous, combined, new_index
        )
        journal = Journal(combined.dataset.paths)
        # a rebuild never offers an earlier session: the steps replayed are the ones to keep
        pending = journal.pending() if previous is None and not replay else None
        when = None
        if pending is not None:
            try:
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(journal.file.stat().st_mtime))
            except OSError:
                when = "an earlier session"
        workspace = Workspace(combined.dataset, journal=journal)
        failed = replay_until_failure(workspace, steps, back)
        if notes:
            failed = " ".join([*notes, *([failed] if failed else [])])
        if get_current_worker().is_cancelled:
            return
        self.call_from_thread(
            self._set_sources,
            workspace,
            combined,
            pending,
            when,
            failed,
            previous is None,
            title,
            for_edit=edit,
        )

    @staticmethod
    def _moved_steps(
        replay: tuple[Step, ...],
        restored: dict[int, tuple[int, ...]],
        previous: Combined | None,
        combined: Combined,
        new_index: dict[int, int] | None,
    ) -> tuple[list[Step | None], dict[int, tuple[int, ...]], list[str]]:
        """The steps (and rows put back) with their row ids moved to `combined`'s ids; a step
        left with none of the rows it named becomes None (not replayed, noted)."""
        if previous is None:
            return list(replay), restored, []
        from studio.engine.sources import moved_ids

        index_map = (
            new_index if new_index is not None else {i: i for i in range(len(previous.specs))}
        )
        same = all(
            j < len(combined.offsets) and previous.offsets[i] == combined.offsets[j]
            for i, j in index_map.items()
            if i < len(previous.offsets)
        ) and len(index_map) == len(previous.specs)
        if same:
            return list(replay), restored, []
        move = moved_ids(previous, combined, index_map)
        steps: list[Step | None] = []
        notes: list[str] = []
        for index, step in enumerate(replay):
            moved = step.with_row_ids(move)
            if moved is None:
                notes.append(
                    f"Step {index + 1} ({step.describe()}) named only rows that are gone; left out."
                )
            steps.append(moved)
        back = {
            k: tuple(m for m in (move(i) for i in v) if m is not None) for k, v in restored.items()
        }
        return steps, {k: v for k, v in back.items() if v}, notes

    def _set_sources(
        self,
        workspace: Workspace,
        combined: Combined,
        pending: Recipe | None,
        when: str | None,
        failed: str | None,
        announce: bool = True,
        title: str = "Sources combined",
        *,
        for_edit: SourceEdit | None = None,
    ) -> None:
        if for_edit is not None and self._editing is not for_edit:
            return  # the edit was discarded (or left) while its recipe was being applied
        fresh = announce  # a combination opened, not rebuilt
        before = self.sources_shown
        if before is not None and len(combined.dataset.problems) > len(before.dataset.problems):
            announce = True  # a source added brought its own
        edit, current = self._editing, self.workspace
        if (
            edit is not None
            and current is not None
            and edit.applied_at is not None
            and edit.applied_at != current.generation
        ):
            self.notify(
                f"Source {edit.task} changed while its recipe was applied; those changes are "
                "not in it (Enter in the Sources view edits it again).",
                severity="warning",
                markup=False,
            )
        self._sources = (workspace, combined)
        self._editing = None
        if fresh:
            self._recipes_unsaved = []
        elif edit is not None and edit.task not in self._recipes_unsaved:
            self._recipes_unsaved.append(edit.task)
        self._set_workspace(workspace, pending, when, announce=announce)
        report = combined.report
        n = len(report.sources)
        mismatches = sum(len(s.missing) + len(s.problems) for s in report.sources)
        ignored = sum(len(s.ignored) for s in report.sources)
        notes = []
        if mismatches:
            notes.append(f"{mismatches} mismatch{'' if mismatches == 1 else 'es'}")
        if ignored:
            notes.append(f"{ignored} column{'' if ignored == 1 else 's'} ignored")
        self.notify(
            f"{n} source{'' if n == 1 else 's'}, {workspace.dataset.rows:,} rows as {report.shape}"
            + (f"; {', '.join(notes)} (F7 lists them)" if notes else ""),
            title=title,
            markup=False,
        )
        if failed:
            self.notify(failed, severity="warning", title="Steps not replayed", markup=False)

    def action_add_source(self) -> None:
        """Pick a file, name its task, and add it as a source."""
        from studio.tui.screens.picker import PickerScreen
        from studio.tui.screens.prompt import PathPrompt

        if self._editing is not None:
            self._finish_editing_first("add a source")
            return

        def named(path: str, task: str | None) -> None:
            if task is not None:
                self.add_source(path, task.strip())

        def picked(path: str | None) -> None:
            if path is None:
                return
            stem = Path(path.rstrip("/")).name.split(".")[0] or "task"
            self.push_screen(
                PathPrompt(f"Task name for {Path(path).name}", stem), partial(named, path)
            )

        ws = self.workspace
        here = Path(ws.dataset.paths[0]).parent if ws is not None and ws.dataset.paths else None
        self.push_screen(PickerScreen(here or self.start_folder, title="Add a source"), picked)

    def add_source(self, path: str, task: str = "") -> None:
        """Add `path` as a source: a plain workspace becomes the first source (its steps become
        that source's own recipe); a combined one is rebuilt and its steps replayed."""
        from studio.engine.sources import SourceSpec, spec_of_dataset

        if self._editing is not None:
            self._finish_editing_first("add a source")
            return
        new = SourceSpec(path=path, task=task)
        ws = self.workspace
        if ws is None:
            self.load_sources([new])
            return
        combined = self.sources
        if combined is None:
            first = spec_of_dataset(ws.dataset, steps=tuple(ws.steps), restored=ws.restored)
            if ws.steps:
                n = len(ws.steps)
                self.notify(
                    f"The {n} step{'' if n == 1 else 's'} so far became the recipe of {first.task_name}.",
                    markup=False,
                )
            self._set_status(f"Adding {path}…")
            self.load_sources([first, new], prepared={0: (ws.dataset, ws.frame)})
            return
        self._set_status(f"Adding {path}…")
        self._rebuild([*combined.specs, new], self._common_shape(combined))

    def _rebuild(
        self,
        specs: list[SourceSpec],
        shape: str,
        *,
        prepared: dict | None = None,
        new_index: dict[int, int] | None = None,
        title: str = "Sources combined",
        renames: Mapping[str, str | None] | None = None,
    ) -> None:
        """Combine `specs` again and replay the combined workspace's steps (and rows put back)
        on it, their row ids following the rows (a source removed, or grown by its recipe) and
        the task names they hold following `renames` (old -> new; None: the task is gone)."""
        from studio.engine.sources import TASK

        edit = self._editing
        if edit is not None:
            combined, ws = edit.combined, edit.workspace
        else:
            combined, ws = self.sources, self.workspace
        assert combined is not None and ws is not None
        replay = tuple(ws.steps)
        if renames:
            replay = tuple(step.with_values_renamed(TASK, renames) for step in replay)
        self.load_sources(
            specs,
            shape,
            replay=replay,
            prepared=prepared,
            restored=ws.recipe().restored,
            previous=combined,
            new_index=new_index,
            title=title,
            edit=edit,
        )

    def _common_shape(self, combined: Combined) -> str:
        return str((combined.dataset.combined or {}).get("shape") or "auto")

    def set_source(
        self, index: int, *, task: str | None = None, mapping: str | None = None
    ) -> None:
        """Rename a source's task or replace its mapping (`FIELD=COLUMN,...`); rebuilds."""
        from studio.engine.sources import field_name

        combined, ws = self.sources, self.workspace
        if combined is None or ws is None:
            return
        specs = list(combined.specs)
        spec = specs[index]
        renames: dict[str, str] = {}
        try:
            if task is not None:
                old_name = spec.task_name
                spec = replace(spec, task=task.strip())
                if spec.task_name != old_name and not any(
                    s.task_name == old_name for i, s in enumerate(specs) if i != index
                ):
                    renames[old_name] = spec.task_name
            if mapping is not None:
                pairs = []
                for part in mapping.split(","):
                    if not part.strip():
                        continue
                    key, sep, column = part.partition("=")
                    if not sep or not column.strip():
                        raise StudioError(f"Bad mapping {part!r}: use FIELD=COLUMN.")
                    pairs.append((field_name(key), column.strip()))
                spec = replace(spec, mapping=tuple(pairs))
        except StudioError as exc:
            self.notify(str(exc), severity="error", title="Sources", markup=False)
            return
        specs[index] = spec
        for old, new in renames.items():
            self._warn_sql_naming(old, new, ws.steps)
        self._rebuild(specs, self._common_shape(combined), renames=renames)

    def _warn_sql_naming(self, old: str, new: str, steps: list[Step]) -> None:
        """A SQL filter naming the renamed task is text the rename cannot safely rewrite: say so."""
        from studio.engine.steps.filter import SqlFilter

        for number, step in enumerate(steps, start=1):
            if isinstance(step, SqlFilter) and f"'{old}'" in step.where:
                self.notify(
                    f"Step {number} ({step.describe()}) names '{old}' in its SQL; the task is "
                    f"now '{new}': edit or undo that step if it should follow.",
                    severity="warning",
                    title="Task renamed",
                    markup=False,
                )

    def set_common_shape(self, shape: str) -> None:
        combined, ws = self.sources, self.workspace
        if combined is None or ws is None:
            return
        self._rebuild(list(combined.specs), shape)

    def remove_source(self, index: int) -> None:
        """Take source `index` out of the combination (at least one stays); rebuilds, and the
        combined steps replay on the rows that are left."""
        combined, ws = self.sources, self.workspace
        if combined is None or ws is None or not 0 <= index < len(combined.specs):
            return
        if len(combined.specs) == 1:
            self.notify(
                "A combination keeps at least one source.", severity="warning", markup=False
            )
            return
        specs = [s for i, s in enumerate(combined.specs) if i != index]
        moved = {i: (i if i < index else i - 1) for i in range(len(combined.specs)) if i != index}
        task = combined.specs[index].task_name
        # the steps naming its task (a mixture's counts) leave it out, unless another source
        # has the same task
        gone: dict[str, str | None] = (
            {} if any(s.task_name == task for s in specs) else {task: None}
        )
        self._set_status(f"Removing source {task}…")
        self._rebuild(
            specs,
            self._common_shape(combined),
            new_index=moved,
            title=f"Source {task} removed",
            renames=gone,
        )

    # -- one source on its own: its recipe editor ---------------------------------------------
    @property
    def editing(self) -> SourceEdit | None:
        """The source opened on its own to edit its recipe (None: not editing)."""
        return self._editing

    @property
    def sources_shown(self) -> Combined | None:
        """The combination the Sources view lists: the current one, or while a source is
        edited, the one to return to."""
        if self._editing is not None:
            return self._editing.combined
        return self.sources

    def _show_editing(self) -> None:
        edit = self._editing
        if not self.screen_stack:
            return
        found = self._main_query("#edit-banner")
        if not found:
            return
        banner = found.first(Static)
        if edit is None:
            banner.remove_class("-editing")
            self.sub_title = ""
            return
        from rich.text import Text

        banner.update(Text(edit.banner(), no_wrap=True, overflow="ellipsis"))
        banner.add_class("-editing")
        self.sub_title = edit.banner()

    def _finish_editing_first(self, what: str) -> None:
        assert self._editing is not None
        self.notify(
            f"Return to the combined workspace first to {what}: F7, then Enter applies the "
            f"edit of source {self._editing.task} (d discards it).",
            severity="warning",
            markup=False,
        )

    def edit_source(self, index: int) -> None:
        """Open source `index` on its own as the workspace, its own recipe replayed: every
        pane then works on it alone until the edit is applied (`apply_source_edit`) or
        discarded (`discard_source_edit`)."""
        combined, ws = self.sources, self.workspace
        if self._editing is not None:
            self._finish_editing_first("edit another source")
            return
        if combined is None or ws is None:
            self.notify("Add a source first: one dataset is its own recipe.", markup=False)
            return
        if not 0 <= index < len(combined.specs):
            return
        edit = SourceEdit(index, combined, ws, self._saved_generation)
        self._set_status(f"Opening source {edit.task}…")
        self._open_source(edit)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="load",
        description="opening the source",
    )
    def _open_source(self, edit: SourceEdit) -> None:
        spec = edit.spec
        dataset = load_dataset(spec.path, **dict(spec.options))
        # no journal: the edit belongs to the combination, not to the file opened alone
        workspace = Workspace(dataset)
        worker = get_current_worker()
        context = RunContext(
            on_progress=partial(self._post_progress, "opening the source"),
            is_cancelled=lambda: worker.is_cancelled,
        )
        recipe = spec.recipe
        with running(context):
            # a step that no longer applies (the file changed) ends the replay: the source
            # opens with the steps before it, to be fixed
            failed = replay_until_failure(workspace, list(recipe.steps), recipe.restored)
        if worker.is_cancelled:
            return
        self.call_from_thread(self._source_opened, edit, workspace, failed)

    def _source_opened(
        self, edit: SourceEdit, workspace: Workspace, failed: str | None = None
    ) -> None:
        from studio.tui.screens.view import WorkspaceView

        self._editing = edit
        while isinstance(self.screen, WorkspaceView):
            self.pop_screen()
        self._set_workspace(workspace, None, None, announce=False)
        n = len(workspace.steps)
        recipe = (
            f"its {n} step{'' if n == 1 else 's'} replayed: {workspace.rows:,} rows"
            if n
            else "no steps yet"
        )
        self.notify(
            f"Source {edit.task} on its own: {workspace.dataset.rows:,} rows, {recipe}. "
            "F7, then Enter, applies its recipe and returns.",
            title="Editing a source",
            markup=False,
        )
        if failed:
            self.notify(failed, severity="warning", title="Recipe not replayed", markup=False)

    def _edited_spec(self) -> SourceSpec:
        from studio.engine.sources import restored_of

        edit, ws = self._editing, self.workspace
        assert edit is not None and ws is not None
        return replace(edit.spec, steps=tuple(ws.steps), restored=restored_of(ws.recipe().restored))

    def apply_source_edit(self) -> None:
        """Write the edited recipe into the source's spec and rebuild the combination (in a
        worker), replaying the combined steps made before the edit."""
        edit, ws = self._editing, self.workspace
        if edit is None or ws is None:
            self.notify("No source is being edited (Enter in the Sources view opens one).")
            return
        if any(w.group == "step" and not w.is_finished for w in self.workers):
            # it would land in this workspace once left: applied, in no recipe
            self.notify(
                f"A step is still running on source {edit.task}: wait for it (or cancel it), "
                "then apply.",
                severity="warning",
                markup=False,
            )
            return
        spec = self._edited_spec()
        if spec == edit.spec:
            self._back_to_combined(edit)
            self.notify(
                f"The recipe of source {edit.task} is unchanged; back to the combined workspace.",
                markup=False,
            )
            return
        specs = list(edit.combined.specs)
        specs[edit.index] = spec
        edit.applied_at = ws.generation
        n = len(spec.steps)
        self._set_status(
            f"Applying the recipe of source {edit.task} ({n} step{'' if n == 1 else 's'})…"
        )
        self._rebuild(
            specs,
            self._common_shape(edit.combined),
            prepared={edit.index: (ws.dataset, ws.frame)},
            title=f"Recipe of source {edit.task} applied",
        )

    def discard_source_edit(self) -> None:
        """Leave the edit: back to the combined workspace exactly as it was."""
        edit = self._editing
        if edit is None:
            return
        self.workers.cancel_group(self, "load")  # an apply still running: its result is unwanted
        self._back_to_combined(edit)
        self.notify(
            f"Edit of source {edit.task} discarded; the combined workspace is as it was.",
            markup=False,
        )

    def edit_changed(self) -> bool:
        """Whether the source being edited has a recipe other than the one it was opened with."""
        return self._editing is not None and self._edited_spec() != self._editing.spec

    def _back_to_combined(self, edit: SourceEdit) -> None:
        self._editing = None
        self._sources = (edit.workspace, edit.combined)
        self.workspace = edit.workspace
        self.paths = list(edit.workspace.dataset.paths)
        self._saved_generation = edit.saved_generation
        self._workspace_ready()

    def action_apply_source_edit(self) -> None:
        self.apply_source_edit()

    def action_sources_view(self) -> None:
        from studio.tui.screens.sources import SourcesScreen

        self._show_view(SourcesScreen)

    def action_open_mixture(self) -> None:
        """Open the Mixture screen (rule, weights, preview, apply as a `mix.tasks` step)."""
        from studio.tui.screens.mixture import MixtureScreen

        if not self._has_workspace():
            return
        if self._editing is not None:
            self._finish_editing_first("mix the tasks")
            return
        if not isinstance(self.screen, MixtureScreen):
            self._show_view(MixtureScreen)
