"""Projects and their experiment files: File ▸ Open Experiment… opens a TOML file as a project of
the workspace; Save Experiment and Save Experiment As… write the project back; a change made to
the file elsewhere is noticed and offered for reload; the project switcher (the run bar's combo
and File ▸ Projects) opens any project of the workspace, among them those `lab run` added.

A file with python checks that is not trusted is shown check by check, and opens trusted (the
checks run) or with them off (flagged in the checks pane, never run). Reading and writing files
happens on the network thread, the workspace on the store thread (lab.core.run.experiment_files
does both halves).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QFileSystemWatcher, QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QMessageBox

from lab.core.experiment.file import ExperimentSpec
from lab.core.run.experiment_files import (
    FileState,
    adopt_experiment,
    file_digest,
    read_experiment,
    trust_read_file,
    write_experiment,
)
from lab.core.runtime.async_thread import AsyncLoopThread
from lab.gui.controllers.run_controller import RunController
from lab.gui.controllers.session import Session
from lab.gui.controllers.workspace import SAMPLES_KEY, WorkspaceController
from lab.gui.dialogs import messages
from lab.gui.panes.checks import ChecksPane
from lab.gui.panes.prompt import PromptPane
from lab.gui.panes.run_bar import RunBar
from lab.gui.tasks import when_done

if TYPE_CHECKING:  # annotations only: loaded where used, not before the first paint
    from lab.gui.dialogs.trust import TrustDialog


class ProjectsController(QObject):
    file_written = Signal(str)  # the path the project was written to

    def __init__(self, session: Session, workspace: WorkspaceController, runs: RunController,
                 run_bar: RunBar, prompt_pane: PromptPane, checks_pane: ChecksPane,
                 network: AsyncLoopThread, window: QMainWindow):
        super().__init__(window)
        self._session = session
        self._workspace = workspace
        self._runs = runs
        self._bar = run_bar
        self._prompt_pane = prompt_pane  # pending typing lands before a project is left or saved
        self._checks_pane = checks_pane
        self._network = network
        self._window = window
        self._status = window.statusBar()
        self._projects: list[dict[str, Any]] = []
        self._digest: str | None = None  # the file's content as the window last read or wrote it
        self._asking = False
        self.watcher = QFileSystemWatcher(self)
        self.watcher.fileChanged.connect(self._file_changed)
        self.trust_dialog: TrustDialog | None = None
        # the last import: (experiment file, report, report lines, everything converted)
        self.last_import: tuple[Path, Path, list[str], bool] | None = None
        self.import_message: QMessageBox | None = None
        run_bar.project_chosen.connect(self.switch_to)

    # ---- the open project

    def project_opened(self, snap: dict[str, Any]) -> None:
        """A project is about to be shown: what its file says, and the workspace's projects."""
        state: FileState = snap["file"]
        self._session.file_providers = dict(state.providers)
        self._session.trusted = state.trusted
        self._digest = state.sha256
        self._watch(state.path if state.exists else None)
        if state.problem:
            self._status.showMessage(state.problem, 10000)
        self._show_projects(snap.get("projects", []))

    def _watch(self, path: str | None) -> None:
        if self.watcher.files():
            self.watcher.removePaths(self.watcher.files())
        if path:
            self.watcher.addPath(path)

    def _show_projects(self, projects: list[dict[str, Any]]) -> None:
        self._projects = projects
        project = self._session.project
        self._bar.set_projects(projects, project.id if project else None)

    def refresh_list(self) -> None:
        """Read the workspace's projects again (`lab run` may have added one)."""
        when_done(self._session.store.submit(lambda store: store.list_projects()),
                  self._show_projects, lambda _exc: None)

    def fill_menu(self, menu: QMenu) -> None:
        """File ▸ Projects: the workspace's projects, the open one checked."""
        menu.clear()
        current = self._session.project.id if self._session.project else None
        for row in self._projects:
            action = menu.addAction(row["name"], lambda pid=row["id"]: self.switch_to(pid))
            action.setCheckable(True)
            action.setChecked(row["id"] == current)
            if row.get("source_path"):
                action.setToolTip(row["source_path"])
        if not self._projects:
            menu.addAction("No projects").setEnabled(False)
        self.refresh_list()

    def _ready_to_leave(self) -> bool:
        if self._runs.busy:
            QMessageBox.information(self._window, "A run is in progress",
                                    "Cancel the run (Ctrl+.) before opening another project.")
            return False
        self._prompt_pane.flush()
        self._checks_pane.flush()
        self._session.finish_saves()
        return True

    def switch_to(self, project_id: int) -> None:
        project = self._session.project
        if project is not None and project.id == project_id:
            return
        if not self._ready_to_leave():
            self._show_projects(self._projects)  # the switcher goes back to the open project
            return
        self._workspace.load(project_id)

    # ---- opening a file

    def open_experiment(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self._window, "Open experiment", str(Path.home()),
                "Experiment files (*.toml);;All files (*)")
        if not path:
            return
        when_done(self._network.run_blocking(read_experiment, path), self._read,
                  lambda exc: QMessageBox.warning(self._window, "Cannot open the experiment",
                                                  str(exc)))

    # ---- importing another tool's experiment

    PROMPTFOO_FILTER = "promptfoo configs (*.yaml *.yml)"
    EVALS_FILTER = "OpenAI Evals: a registry eval (*.yaml *.yml) or a platform export (*.json)"

    def import_experiment(self, path: str | None = None, source: str | None = None) -> None:
        """File ▸ Import: convert a promptfoo config or an OpenAI Evals eval into an experiment
        file beside it (with its import report), say what the report says, and open it.
        `source` is "promptfoo" or "openai-evals" (asked with the file when not given)."""
        if path is None:
            path, chosen = QFileDialog.getOpenFileName(
                self._window, "Import an experiment", str(Path.home()),
                f"{self.PROMPTFOO_FILTER};;{self.EVALS_FILTER};;All files (*)")
            source = "openai-evals" if chosen == self.EVALS_FILTER else "promptfoo"
        if not path:
            return
        from lab.core.importers.written import default_out  # when used, not at start-up

        out = default_out(Path(path))
        if out.exists() and not messages.confirm(
                self._window, "Replace the experiment file?",
                f"{out} already exists. Replace it with the imported experiment?"):
            return
        kind = source or "promptfoo"

        def convert() -> tuple[Path, Path, list[str], bool]:
            from lab.core.importers import import_openai_evals, import_promptfoo
            from lab.core.importers.written import write_import

            source_path = Path(path)
            result = (import_promptfoo(source_path) if kind == "promptfoo"
                      else import_openai_evals(source_path))
            report = write_import(result, out)
            return out, report, result.report.lines(), result.report.complete

        when_done(self._network.run_blocking(convert), self._imported,
                  lambda exc: QMessageBox.warning(self._window, "Cannot import", str(exc)))

    def _imported(self, done: tuple[Path, Path, list[str], bool]) -> None:
        out, report, lines, complete = done
        self.last_import = done
        headline = (f"Imported into {out.name}; everything converted." if complete else
                    f"Imported into {out.name}; some parts were left out. Each is in "
                    f"{report.name} with the reason and the original text.")
        box = QMessageBox(QMessageBox.Icon.Information if complete else
                          QMessageBox.Icon.Warning, "Import", headline, parent=self._window)
        box.setDetailedText("\n".join(lines))
        box.open()  # not modal to the event loop: the experiment opens behind it
        self.import_message = box
        self.open_experiment(str(out))

    def _read(self, result: tuple[ExperimentSpec, list[str]]) -> None:
        # imported when opened, not before the window's first paint
        from lab.gui.dialogs.trust import TrustDialog

        spec, untrusted = result
        if not untrusted:
            self._adopt(spec, trusted=True)
            return
        dialog = TrustDialog(str(spec.source), spec.project.checks, self._window)
        self.trust_dialog = dialog

        def chosen(_result: int) -> None:
            if dialog.choice == "trust":
                when_done(self._network.run_blocking(trust_read_file, spec),
                          lambda _r: self._adopt(spec, trusted=True),
                          lambda exc: QMessageBox.warning(self._window, "Not trusted", str(exc)))
            elif dialog.choice == "off":
                self._adopt(spec, trusted=False)

        dialog.finished.connect(chosen)
        dialog.open()

    def _adopt(self, spec: ExperimentSpec, trusted: bool) -> None:
        if not self._ready_to_leave():
            return
        samples = spec.samples

        def adopt(store) -> int:
            project_id = adopt_experiment(store, spec)
            store.set_meta(SAMPLES_KEY.format(project_id), str(samples))
            return project_id

        def adopted(project_id: int) -> None:
            self._workspace.load(project_id)
            self._status.showMessage(f"Opened {spec.source}" + (
                "" if trusted else " with its python checks off (not trusted)"), 8000)

        when_done(self._session.store.submit(adopt), adopted,
                  lambda exc: QMessageBox.warning(self._window, "Cannot open the experiment",
                                                  str(exc)))

    # ---- writing the file

    def save_experiment(self) -> None:
        project = self._session.project
        if project is None:
            return
        if not project.source_path:
            self.save_experiment_as()
        else:
            self._write(project.source_path)

    def save_experiment_as(self, path: str | None = None) -> None:
        project = self._session.project
        if project is None:
            return
        if path is None:
            slug = re.sub(r"[^\w-]+", "-", project.name.lower()).strip("-") or "experiment"
            start = project.source_path or str(Path.home() / f"{slug}.toml")
            path, _ = QFileDialog.getSaveFileName(self._window, "Save experiment as", start,
                                                  "Experiment files (*.toml)")
        if path:
            self._write(str(Path(path).resolve()), new_path=True)

    def _write(self, path: str, new_path: bool = False) -> None:
        self._prompt_pane.flush()
        self._checks_pane.flush()
        session = self._session
        project = session.project
        snapshot = copy.deepcopy(project)
        samples, providers, trusted = self._bar.samples.value(), session.file_providers, session.trusted

        def written(digest: str) -> None:
            self._digest = digest
            if new_path and project is session.project:
                project.source_path = path
                session.save()  # the workspace remembers the project's file
            self._watch(path)
            self._status.showMessage(f"Saved to {path}", 5000)
            self.file_written.emit(path)

        when_done(self._network.run_blocking(lambda: write_experiment(
                      snapshot, path, samples=samples, providers=providers, trusted=trusted)),
                  written, lambda exc: QMessageBox.warning(self._window, "Not saved", str(exc)))

    # ---- a change made elsewhere

    def _file_changed(self, path: str) -> None:
        # Editors often replace the file (a new inode): watch the new one.
        if Path(path).exists() and path not in self.watcher.files():
            self.watcher.addPath(path)
        when_done(self._network.run_blocking(file_digest, path),
                  lambda digest: self._compare(path, digest), lambda _exc: None)

    def _compare(self, path: str, digest: str | None) -> None:
        project = self._session.project
        if (digest is None or digest == self._digest or self._asking or project is None
                or project.source_path != path):
            return
        self._asking = True
        try:
            reload = messages.confirm(
                self._window, "The experiment file changed",
                f"{path} was changed outside the lab. Reload it? The project then shows the "
                "file's content (what the window had is kept in the runs already made).")
        finally:
            self._asking = False
        self._digest = digest  # asked once per content
        if reload:
            self.open_experiment(path)
