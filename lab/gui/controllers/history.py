"""History you can use: the selected variant's prompt versions (compare any two word by word,
restore one, name one), the project's runs (open one in the grid as it was, compare two side by
side), and a logged call selected in History shown in full, to rate, promote or open its run.

The store answers (lab.core.workspace.run_history); comparing is the core's
(lab.core.analysis); restoring a prompt is an undoable edit of the variant.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMainWindow, QMessageBox

from lab.core.experiment.template import render
from lab.core.model import Example, PromptVersion, Rating
from lab.gui.controllers.running import RunningController
from lab.gui.controllers.session import Session
from lab.gui.controllers.undo import ProjectUndo
from lab.gui.controllers.workspace import WorkspaceController
from lab.gui.panes.history import HistoryPane
from lab.gui.panes.result_cells import cell_from_row
from lab.gui.tasks import when_done

if TYPE_CHECKING:  # annotations only: loaded where used, not before the first paint
    from lab.core.workspace.store import Store
    from lab.gui.dialogs.run_compare import RunCompareDialog
    from lab.gui.dialogs.runs import RunsDialog
    from lab.gui.dialogs.versions import PromptHistoryDialog


def toggle_thumbs(store: Store, call_id: int, thumbs: int) -> Rating:
    """Thumbs up or down on a logged call, keeping its score, note and tags; the same again
    clears it."""
    rating = store.ratings_for_calls([call_id]).get(call_id) or Rating(call_id=call_id)
    rating.thumbs = None if rating.thumbs == thumbs else thumbs
    store.set_rating(rating)
    return rating


class HistoryController(QObject):
    def __init__(self, session: Session, running: RunningController,
                 workspace: WorkspaceController, history_pane: HistoryPane, undo: ProjectUndo,
                 window: QMainWindow):
        super().__init__(window)
        self._session = session
        self._running = running  # shows a run in the grid
        self._workspace = workspace  # a call of another project opens that project first
        self._pane = history_pane
        self._undo = undo
        self._window = window
        self._status = window.statusBar()
        self._detail: dict[str, Any] | None = None  # the call shown in History, as logged
        self._open_after_load: int | None = None
        self.versions_dialog: PromptHistoryDialog | None = None
        self.runs_dialog: RunsDialog | None = None
        self.compare_dialog: RunCompareDialog | None = None
        history_pane.call_selected.connect(self.show_call)
        history_pane.rate_requested.connect(self.rate_call)
        history_pane.promote_requested.connect(self.promote_call)
        history_pane.open_run_requested.connect(self.open_run_of_call)
        workspace.opened.connect(self._project_opened)

    def _warn(self, title: str):
        return lambda exc: QMessageBox.warning(self._window, title, str(exc))

    # ---- prompt versions

    def show_prompt_history(self) -> PromptHistoryDialog | None:
        # imported when opened, not before the window's first paint
        from lab.gui.dialogs.versions import PromptHistoryDialog

        project, variant = self._session.project, self._session.current_variant
        if project is None or variant is None:
            self._status.showMessage("Select a variant to see its prompt history.", 4000)
            return None
        dialog = PromptHistoryDialog(variant.name, self._window)
        self.versions_dialog = dialog
        dialog.restore_requested.connect(lambda version: self.restore_version(variant, version))
        dialog.name_requested.connect(lambda vid, name: self._name(dialog, variant, vid, name))
        self._load_versions(dialog, variant)
        dialog.show()
        return dialog

    def _load_versions(self, dialog: PromptHistoryDialog, variant, select: int | None = 1) -> None:
        project = self._session.project
        project_id, variant_id, name = project.id, variant.id, variant.name
        current = PromptVersion(variant.system, project.user_template, list(variant.examples))
        when_done(self._session.store.submit(lambda store: store.variant_prompt_versions(
                      project_id, variant_id, name)),
                  lambda versions: dialog.set_versions(current, versions, select),
                  self._warn("Cannot read the prompt history"))

    def _name(self, dialog: PromptHistoryDialog, variant, version_id: int, name: str) -> None:
        rows = dialog.selected_rows()
        when_done(self._session.store.submit(lambda store: store.name_prompt_version(
                      version_id, name)),
                  lambda _r: self._load_versions(dialog, variant, rows[0] if rows else 1),
                  self._warn("Not named"))

    def restore_version(self, variant, version: PromptVersion) -> None:
        """The version's system prompt and examples become the variant's (undoable)."""
        project = self._session.project
        if project is None or not any(v is variant for v in project.variants):
            return
        before = {"system": variant.system, "examples": list(variant.examples)}
        after = {"system": version.system,
                 "examples": [Example(e.input, e.output, e.note, e.enabled)
                              for e in version.examples]}
        self._undo.fields_changed(variant, before, after,
                                  f"Restore an earlier prompt of {variant.name}", done=False)
        note = ("" if version.user_template == project.user_template else
                " The user message was different then; it is left as it is.")
        self._status.showMessage(f"Restored an earlier prompt of {variant.name}.{note}", 8000)
        if self.versions_dialog is not None and self.versions_dialog.isVisible():
            self._load_versions(self.versions_dialog, variant)

    # ---- runs

    def show_runs(self) -> RunsDialog | None:
        # imported when opened, not before the window's first paint
        from lab.gui.dialogs.runs import PAGE, RunsDialog

        project = self._session.project
        if project is None:
            return None
        project_id = project.id
        dialog = RunsDialog(project.name, lambda before: self._session.store.submit(
            lambda store: store.project_runs(project_id, limit=PAGE, before_id=before)),
            self._window)
        self.runs_dialog = dialog
        dialog.open_requested.connect(self._running.show_run)
        dialog.compare_requested.connect(self.compare_runs)
        dialog.show()
        return dialog

    def compare_runs(self, before: int, after: int) -> None:
        def side(store: Store, run_id: int) -> dict[str, Any]:
            from lab.core.run.setup import stored_spec  # on the store thread

            spec = stored_spec(store.get_run(run_id))
            return {"id": run_id, "variants": [v.name for v in spec.project.variants],
                    "rows": store.calls_for_run(run_id),
                    "labels": {i: c.label or f"Case {i + 1}"
                               for i, c in enumerate(spec.project.cases)}}

        def opened(sides) -> None:
            # imported when opened, not before the window's first paint
            from lab.gui.dialogs.run_compare import RunCompareDialog

            self.compare_dialog = RunCompareDialog(*sides, parent=self._window)
            self.compare_dialog.show()

        when_done(self._session.store.submit(lambda store: (side(store, before),
                                                            side(store, after))),
                  opened, self._warn("Cannot compare the runs"))

    # ---- a call from History

    def show_call(self, call_id: int) -> None:
        def shown(row: dict[str, Any] | None) -> None:
            if row is None or self._pane.selected_call != call_id:
                return
            self._detail = row
            cell = cell_from_row(row)
            rating = row.get("rating")
            if rating is not None:
                cell.thumbs, cell.score = rating.thumbs, rating.score
                cell.note, cell.tags = rating.note, list(rating.tags)
            case = ", ".join(f"{k} = {v}" for k, v in json.loads(
                row.get("case_vars_json") or "{}").items())
            case = case if len(case) <= 90 else case[:89] + "…"
            self._pane.show_call(cell, row.get("variant_name") or "", case, row.get("parts"),
                                 judged=row["status"] == "ok" and not row.get("judged_call_id"),
                                 has_run=row.get("run_id") is not None)

        def load(store: Store) -> dict[str, Any] | None:
            row = store.call_detail(call_id)
            if row is not None:
                row["rating"] = store.ratings_for_calls([call_id]).get(call_id)
                row["parts"] = store.call_parts(call_id)
            return row

        when_done(self._session.store.submit(load), shown, self._warn("Cannot show the call"))

    def rate_call(self, call_id: int, thumbs: int) -> None:
        when_done(self._session.store.submit(lambda store: toggle_thumbs(store, call_id, thumbs)),
                  lambda _r: (self._status.showMessage("Judgement saved", 1500),
                              self.show_call(call_id)),
                  self._warn("Not saved"))

    def promote_call(self, call_id: int) -> None:
        row, project = self._detail, self._session.project
        if row is None or row["id"] != call_id or project is None:
            return
        name = row.get("variant_name") or ""
        variant = next((v for v in project.variants if v.name == name), None)
        if variant is None:
            self._status.showMessage(f"This project has no variant named '{name}' now.", 5000)
            return
        try:
            user = render(project.user_template, json.loads(row.get("case_vars_json") or "{}"))
        except Exception as exc:  # noqa: BLE001 - shown to the user, who can fix the template
            QMessageBox.warning(self._window, "Cannot promote", str(exc))
            return
        variant.examples.append(Example(input=user, output=row.get("response_text") or "",
                                        note=f"promoted from call {call_id}"))
        self._undo.edited(variant, "examples", f"to {variant.name}")
        self._undo.restored.emit(variant, "examples")  # shown (its variant selected) and saved
        self._status.showMessage(f"Added as example {len(variant.examples)} of {variant.name}",
                                 4000)

    def open_run_of_call(self, call_id: int) -> None:
        def found(ids: tuple[int | None, int | None]) -> None:
            run_id, project_id = ids
            project = self._session.project
            if run_id is None:
                return
            if project_id is not None and project is not None and project_id != project.id:
                self._open_after_load = run_id  # that project first, then its run
                self._workspace.load(project_id)
            else:
                self._running.show_run(run_id)

        when_done(self._session.store.submit(lambda store: store.run_ids_of_call(call_id)),
                  found, self._warn("Cannot open the run"))

    def _project_opened(self, _snap) -> None:
        run_id, self._open_after_load = self._open_after_load, None
        if run_id is not None:
            self._running.show_run(run_id)
