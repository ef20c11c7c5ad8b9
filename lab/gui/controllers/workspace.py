"""Opening workspaces and their projects: the one the window starts on, File ▸ New and Open,
another project of the workspace, and the totals of the call log shown in the status bar.

Everything the window shows when a project opens is read in one go on the store thread (the
project, its last run's results, what its experiment file says now); the window only reacts to
what comes back. Another workspace opens only between runs, once pending saves landed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from lab.core.run.experiment_files import file_state
from lab.core.workspace.location import (
    LAST_PROJECT_KEY,
    current_project_id,
    install_sample,
    open_default_workspace,
)
from lab.core.workspace.thread import StoreThread
from lab.gui.controllers.run_controller import RunController
from lab.gui.controllers.session import Session
from lab.gui.panes.prompt import PromptPane
from lab.gui.tasks import when_done

if TYPE_CHECKING:  # annotations only: loaded where used, not before the first paint
    from lab.core.workspace.store import Store

SAMPLES_KEY = "samples:{}"  # workspace meta: the Samples setting of a project


def load_snapshot(store: Store, project_id: int | None = None) -> dict[str, Any]:
    """Everything the window shows when a project opens (`project_id`, else the one open last,
    else the sample), read in one go on the store thread; the project becomes the one opened
    next time."""
    if project_id is None:
        project_id = current_project_id(store)
    if project_id is None:
        project_id = install_sample(store)
    store.set_meta(LAST_PROJECT_KEY, str(project_id))
    project = store.load_project(project_id)
    run_id = store.latest_run_id(project_id)
    results = store.calls_for_run(run_id) if run_id else []
    totals = store.call_totals()
    samples = store.get_meta(SAMPLES_KEY.format(project_id))
    state = file_state(project)
    return {
        "project": project,
        "path": store.path,
        "calls": totals[0],
        "cost": totals[1],
        "errors": totals[2],
        "run_id": run_id,
        "results": results,
        "ratings": store.ratings_for_calls(r["id"] for r in results),
        "filter_choices": store.call_filter_choices(),
        "projects": store.list_projects(),
        "file": state,
        # As last set in the window (opening a file sets it to the file's), else the file's.
        "samples": int(samples) if samples and samples.isdigit() else (state.samples or 1),
    }


class WorkspaceController(QObject):
    opening = Signal()  # another workspace is on its way: nothing shown yet
    opened = Signal(object)  # the snapshot; its project is already the session's
    failed = Signal(object)  # the exception: the workspace could not be opened
    totals = Signal(int, float, int)  # calls logged, dollars spent, failed calls

    def __init__(self, session: Session, runs: RunController, prompt_pane: PromptPane,
                 window: QMainWindow):
        super().__init__(window)
        self._session = session
        self._runs = runs
        self._prompt_pane = prompt_pane
        self._window = window

    def load(self, project_id: int | None = None) -> None:
        """Open `project_id` (default: the one open last) and show it, off the GUI thread."""
        when_done(self._session.store.submit(lambda store: load_snapshot(store, project_id)),
                  self._loaded, self.failed.emit)

    def _loaded(self, snap: dict[str, Any]) -> None:
        self._session.project = snap["project"]
        self.opened.emit(snap)

    def refresh_totals(self) -> None:
        when_done(self._session.store.submit(lambda store: store.call_totals()),
                  lambda t: self.totals.emit(*t), lambda _e: None)

    def switch(self, path: str) -> None:
        if self._runs.running:
            QMessageBox.information(self._window, "A run is in progress",
                                    "Cancel the run (Ctrl+.) before opening another workspace.")
            return
        self._prompt_pane.flush()
        self._session.finish_saves()
        self._session.store.close()
        store = StoreThread(lambda: open_default_workspace(path))
        self._session.use_store(store)
        self._runs.set_store(store)
        self.opening.emit()
        self.load()

    def new_workspace(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self._window, "New workspace", str(Path.home() / "workspace.db"),
            "Prompt Lab workspace (*.db *.sqlite)")
        if path:
            self.switch(path)

    def open_workspace(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self._window, "Open workspace", str(Path.home()),
            "Prompt Lab workspace (*.db *.sqlite);;All files (*)")
        if path:
            self.switch(path)
