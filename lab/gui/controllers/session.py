"""What the window has open: the workspace (its store thread and call log), the project shown from
it, the selected variant and the last run. One owner for the state every controller reads.

Each piece has one writer: `WorkspaceController` opens workspaces and projects, the
`EditingController` selects variants, the `RunningController` records the last run. The project
is saved from here, as a snapshot on the store thread, one save at a time (see `save`).
"""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEventLoop, QObject, Signal
from PySide6.QtWidgets import QApplication

from lab.core.model import Project, Variant
from lab.core.workspace.thread import StoreThread
from lab.gui.panes.history import HistoryTableModel
from lab.gui.tasks import when_done

if TYPE_CHECKING:  # annotations only: loaded where used, not before the first paint
    from lab.core.workspace.store import Store


class Session(QObject):
    saved = Signal()
    save_failed = Signal(object)  # the exception

    def __init__(self, store: StoreThread, parent: QObject | None = None):
        super().__init__(parent)
        self.store = store
        self.history = HistoryTableModel(store)  # the call log of this workspace
        self.project: Project | None = None
        self.current_variant: Variant | None = None
        self.last_run_id: int | None = None
        # A project opened from an experiment file: the file's own [providers] tables (its
        # runs need them) and whether its python checks may run (a file the user trusted).
        self.file_providers: dict[str, dict[str, Any]] = {}
        self.trusted = True
        self._saving = False
        self._save_again = False

    def use_store(self, store: StoreThread) -> None:
        """Another workspace: its store thread and call log (the project arrives once loaded)."""
        self.store = store
        self.history = HistoryTableModel(store)

    def finish_saves(self, timeout_s: float = 10.0) -> None:
        """On close, let the save in flight (and the one it queues) land: an edit made a moment
        before quitting must not be lost. Events keep flowing, so the window stays responsive."""
        deadline = time.monotonic() + timeout_s
        while (self._saving or self._save_again) and time.monotonic() < deadline:
            if not self._saving:
                self.save()
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)

    def save(self) -> None:
        """Save the whole project on the store thread, one save at a time.

        The store assigns ids to new variants, examples and cases; they are copied back onto
        the objects before the next save, or a second save would insert them again. So while a
        save is in flight, further edits only mark the project dirty, and one more save follows.
        """
        if self.project is None:
            return
        if self._saving:
            self._save_again = True
            return
        self._saving, self._save_again = True, False
        project = self.project
        originals = [project, *project.variants, *project.cases, *project.checks,
                     *(e for v in project.variants for e in v.examples)]
        snapshot = copy.deepcopy(project)

        def save(store: Store) -> list[int | None]:
            store.save_project(snapshot)
            copies = [snapshot, *snapshot.variants, *snapshot.cases, *snapshot.checks,
                      *(e for v in snapshot.variants for e in v.examples)]
            return [c.id for c in copies]

        def saved(ids: list[int | None]) -> None:
            for obj, new_id in zip(originals, ids):
                obj.id = new_id
            self._saving = False
            if self._save_again and project is self.project:
                self.save()
            else:
                self.saved.emit()

        def failed(exc: BaseException) -> None:
            self._saving = False
            self.save_failed.emit(exc)

        when_done(self.store.submit(save), saved, failed)
