"""Opening workspaces: the one the window starts on, File ▸ New and Open, and the totals of the
call log shown in the status bar.

Everything the window shows on open is read in one go on the store thread; the window only
reacts to what comes back. Another workspace opens only between runs, once pending saves landed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from lab.core.workspace.location import (
    current_project_id,
    install_sample,
    open_default_workspace,
)
from lab.core.workspace.store import Store
from lab.core.workspace.thread import StoreThread
from lab.gui.controllers.run_controller import RunController
from lab.gui.controllers.session import Session
from lab.gui.panes.prompt import PromptPane
from lab.gui.tasks import when_done


def call_totals(store: Store) -> tuple[int, float, int]:
    """Calls logged, dollars spent, failed calls: over the whole workspace."""
    row = store.db.execute(
        "SELECT count(*), coalesce(sum(cost_usd), 0), coalesce(sum(status = 'error'), 0)"
        " FROM calls").fetchone()
    return tuple(row)


def load_workspace_snapshot(store: Store) -> dict[str, Any]:
    """Everything the window shows on open, read in one go on the store thread."""
    project_id = current_project_id(store)
    if project_id is None:
        project_id = install_sample(store)
    run_id = store.latest_run_id(project_id)
    results = store.calls_for_run(run_id) if run_id else []
    totals = call_totals(store)
    return {
        "project": store.load_project(project_id),
        "path": store.path,
        "calls": totals[0],
        "cost": totals[1],
        "errors": totals[2],
        "run_id": run_id,
        "results": results,
        "ratings": store.ratings_for_calls(r["id"] for r in results),
        "filter_choices": store.call_filter_choices(),
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

    def load(self) -> None:
        when_done(self._session.store.submit(load_workspace_snapshot), self._loaded,
                  self.failed.emit)

    def _loaded(self, snap: dict[str, Any]) -> None:
        self._session.project = snap["project"]
        self.opened.emit(snap)

    def refresh_totals(self) -> None:
        when_done(self._session.store.submit(call_totals), lambda t: self.totals.emit(*t),
                  lambda _e: None)

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
