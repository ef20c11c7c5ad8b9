"""The main window: the panes laid out in docks around the prompt editor, menus, the run bar and
status bar, and the controllers that do the work, wired together.

Layout: variants on the left; in the middle the prompt editor above the few-shot examples, and the
results grid beside them; test cases, checks, history and documents tabbed along the bottom. Dock positions
and the window geometry are remembered between sessions. What the window has open lives in its
`session`; editing, running, judging, opening workspaces and getting ready to run are done by
controllers (lab/gui/controllers) that get their panes and threads from here. The actions (every
menu item and shortcut) are made in lab/gui/actions.py. All workspace access goes through the
store thread. The app builds what its first paint shows first and the rest right after it
(`finish_building`; lab.gui.app.StartUp), so the window appears sooner.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QSplitter,
    QWidget,
)

from lab import APP_NAME
from lab.core.experiment.snippets import load_snippets
from lab.core.runtime.async_thread import AsyncLoopThread
from lab.core.workspace.thread import StoreThread
from lab.gui.actions import WindowActions, widget_only
from lab.gui.controllers.batches import BatchesController
from lab.gui.controllers.checks import ChecksController
from lab.gui.controllers.documents import DocumentsController
from lab.gui.controllers.editing import EditingController
from lab.gui.controllers.history import HistoryController
from lab.gui.controllers.judging import JudgingController
from lab.gui.controllers.projects import ProjectsController
from lab.gui.controllers.readiness import ReadinessController
from lab.gui.controllers.run_controller import RunController
from lab.gui.controllers.running import RunningController
from lab.gui.controllers.session import Session
from lab.gui.controllers.steps import StepsController
from lab.gui.controllers.undo import ProjectUndo
from lab.gui.controllers.workspace import WorkspaceController
from lab.gui.layout import WindowLayout
from lab.gui.panes.cases import CasesPane
from lab.gui.panes.checks import ChecksPane
from lab.gui.panes.documents import DocumentsPane
from lab.gui.panes.examples import ExamplesPane
from lab.gui.panes.history import HistoryPane
from lab.gui.panes.prompt import PromptPane
from lab.gui.panes.results import ResultsPane
from lab.gui.panes.run_bar import RunBar
from lab.gui.panes.run_status import RunStatus
from lab.gui.panes.variants import VariantsPane
from lab.gui.panes.welcome_bar import WelcomeBar

if TYPE_CHECKING:
    from lab.gui.controllers.analysis import AnalysisController
    from lab.gui.panes.analysis import AnalysisPane


class MainWindow(QMainWindow):
    settled = Signal()  # the start-up work after the first paint is done (lab.gui.app.StartUp)
    built = Signal()  # the hidden panes and the controllers are built (`finish_building`)

    def __init__(self, store: StoreThread, settings: QSettings,
                 network: AsyncLoopThread | None = None, *, build_all: bool = True):
        """``build_all`` False: build what the first paint shows, and leave the panes behind
        tabs (Checks, History, Documents), the controllers and the workspace's loading to
        `finish_building`, which the app calls once the window has painted (lab.gui.app)."""
        super().__init__()
        self._built = False
        # Network and keyring work (model lists, file imports, exports) happens on this loop's
        # thread; runs have their own.
        self.network = network or AsyncLoopThread()
        self.session = Session(store, self)
        self.runs = RunController(store, self.network, self)
        self.setWindowTitle(APP_NAME)
        self.setMinimumSize(960, 620)
        self.setDockNestingEnabled(True)
        self.commands = WindowActions(self)

        self.variants_pane = VariantsPane()
        self.prompt_pane = PromptPane()
        self.examples_pane = ExamplesPane()
        self.cases_pane = CasesPane()
        self.results_pane = ResultsPane()

        editor_column = QSplitter(Qt.Orientation.Vertical)
        editor_column.addWidget(self.prompt_pane)
        editor_column.addWidget(self.examples_pane)
        editor_column.setStretchFactor(0, 3)
        editor_column.setStretchFactor(1, 2)
        editor_column.setChildrenCollapsible(False)
        self.centre = QSplitter(Qt.Orientation.Horizontal)
        self.centre.setObjectName("CentreSplitter")
        self.centre.addWidget(editor_column)
        self.centre.addWidget(self.results_pane)
        self.centre.setStretchFactor(0, 5)
        self.centre.setStretchFactor(1, 6)
        self.centre.setChildrenCollapsible(False)
        self.setCentralWidget(self.centre)

        self.variants_dock = self._dock("Variants", self.variants_pane, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.cases_dock = self._dock("Test cases", self.cases_pane, Qt.DockWidgetArea.BottomDockWidgetArea)
        # Behind the Test cases tab until chosen: their panes come in `finish_building`.
        self.checks_dock = self._dock("Checks", QWidget(), Qt.DockWidgetArea.BottomDockWidgetArea)
        self.history_dock = self._dock("History", QWidget(), Qt.DockWidgetArea.BottomDockWidgetArea)
        self.documents_dock = self._dock("Documents", QWidget(),
                                         Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.cases_dock, self.checks_dock)
        self.tabifyDockWidget(self.checks_dock, self.history_dock)
        self.tabifyDockWidget(self.history_dock, self.documents_dock)
        self.cases_pane.docked()
        self.cases_dock.raise_()
        # The analysis of the run in the Results grid, beside it (controllers/analysis.py). Its
        # pane and controller (QtCharts, the statistics) are built the first time it is shown,
        # not before the window's first paint; until then the dock holds an empty widget.
        self.analysis_pane: AnalysisPane | None = None
        self.analysis: AnalysisController | None = None
        self.analysis_dock = self._dock("Analysis", QWidget(),
                                        Qt.DockWidgetArea.RightDockWidgetArea)
        self.analysis_dock.visibilityChanged.connect(self._analysis_visible)
        self.resizeDocks([self.analysis_dock], [500], Qt.Orientation.Horizontal)
        self.analysis_dock.hide()  # opened from the toolbar or View menu when wanted
        self.layout_memory = WindowLayout(self, settings, self.centre, self.variants_dock,
                                          self.cases_dock, self.checks_dock, self.history_dock,
                                          self.documents_dock)

        self.run_bar = RunBar(self.commands)
        analysis = self.analysis_dock.toggleViewAction()
        analysis.setToolTip("The analysis of the run beside the results: verdicts, charts and "
                            "the prompt / retrieve / fine-tune decision")
        self.run_bar.add_view_toggle(analysis)
        self.addToolBar(self.run_bar)
        self.addToolBarBreak()
        self.welcome_bar = WelcomeBar()
        self.addToolBar(self.welcome_bar)
        self.run_status = RunStatus(self.statusBar())
        widget_only(self.commands.judging_keys(), self.results_pane.view)
        self._build_menus()
        self.layout_memory.restore()
        if build_all:
            self.finish_building()

    @property
    def is_built(self) -> bool:
        return self._built

    def when_built(self, then: Callable[[], None]) -> None:
        """Call ``then`` once the window is fully built: now if it is."""
        if self._built:
            then()
        else:
            self.built.connect(then)

    def finish_building(self) -> None:
        """The panes behind tabs, the controllers and what the actions do; then the workspace
        loads. Once; what needs them before the app calls it calls it first."""
        if self._built:
            return
        self._built = True
        self.history_pane = HistoryPane()
        self.checks_pane = ChecksPane()
        self.documents_pane = DocumentsPane()
        for dock, pane in ((self.checks_dock, self.checks_pane),
                           (self.history_dock, self.history_pane),
                           (self.documents_dock, self.documents_pane)):
            dock.setWidget(pane)
            pane.docked()
        self._build_controllers()
        self._connect_actions()
        self.workspace.load()
        self.built.emit()

    # ----------------------------------------------------------------- construction

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{title.replace(' ', '')}Dock")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        a = self.commands
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addActions([a.new_action, a.open_action])
        file_menu.addSeparator()
        file_menu.addActions([a.open_experiment_action, a.import_action, a.save_experiment_action,
                              a.save_experiment_as_action])
        self.projects_menu = file_menu.addMenu("&Projects")
        file_menu.addSeparator()
        file_menu.addAction(a.export_action)
        file_menu.addSeparator()
        file_menu.addAction(a.quit_action)
        self.file_menu = file_menu
        edit_menu = menu.addMenu("&Edit")
        self.edit_menu = edit_menu
        edit_menu.addActions([a.undo_action, a.redo_action])
        edit_menu.addSeparator()
        edit_menu.addActions([a.find_action, a.replace_action])
        snippets_menu = edit_menu.addMenu("Insert &Snippet")
        for snippet in load_snippets():
            action = snippets_menu.addAction(snippet.name)
            action.setToolTip(snippet.text)
            action.triggered.connect(lambda _=False, t=snippet.text: self.prompt_pane.insert_snippet(t))
        edit_menu.addSeparator()
        edit_menu.addActions([a.providers_action, a.refresh_models_action])
        variant_menu = menu.addMenu("V&ariant")
        variant_menu.addActions([a.new_variant_action, a.duplicate_variant_action,
                                 a.rename_variant_action, a.delete_variant_action])
        variant_menu.addSeparator()
        variant_menu.addActions([a.compare_variants_action, a.prompt_history_action])
        view_menu = menu.addMenu("&View")
        for dock in (self.variants_dock, self.cases_dock, self.checks_dock, self.history_dock,
                     self.documents_dock):
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addAction(self.analysis_dock.toggleViewAction())
        view_menu.addSeparator()
        view_menu.addAction(a.reset_layout_action)
        run_menu = menu.addMenu("&Run")
        run_menu.addActions([a.run_action, a.batch_action, a.fresh_action, a.cancel_action,
                             a.resume_action])
        run_menu.addSeparator()
        run_menu.addActions([a.runs_action, a.batches_action])
        judge_menu = menu.addMenu("&Judge")
        judge_menu.addActions([a.thumbs_up_action, a.thumbs_down_action, *a.rate_actions,
                               a.note_action, a.tags_action])
        judge_menu.addSeparator()
        judge_menu.addActions([a.compare_outputs_action, a.samples_action, a.promote_action,
                               a.pairwise_action])
        help_menu = menu.addMenu("&Help")
        a.about_action.setText(f"&About {APP_NAME}")
        help_menu.addActions([a.shortcuts_action, a.about_action])

    def _build_controllers(self) -> None:
        """The controllers, each given what it works with; they talk back through signals."""
        session, prompt = self.session, self.prompt_pane
        self.undo = ProjectUndo(self)
        self.workspace = WorkspaceController(session, self.runs, prompt, self)
        self.editing = EditingController(session, self.variants_pane, prompt, self.examples_pane,
                                         self.cases_pane, self.undo, self.network, self)
        self.checks = ChecksController(session, self.checks_pane, self.results_pane, self.undo,
                                       self.network, self)
        self.steps = StepsController(session, prompt, self.variants_pane, self.examples_pane,
                                     self.undo, self.editing.model_names, self)
        self.documents = DocumentsController(session, self.documents_pane, self)
        self.projects = ProjectsController(session, self.workspace, self.runs, self.run_bar,
                                           prompt, self.checks_pane, self.network, self)
        self.projects_menu.aboutToShow.connect(lambda: self.projects.fill_menu(self.projects_menu))
        self.projects.file_written.connect(lambda _path: self._show_title())
        self.running = RunningController(
            session, self.runs, prompt, self.results_pane, self.history_pane,
            run_bar=self.run_bar, run_status=self.run_status, actions=self.commands, window=self)
        self.batches = BatchesController(session, self.runs, self.running,
                                         run_status=self.run_status, actions=self.commands,
                                         window=self)
        self.judging = JudgingController(session, self.results_pane, self.variants_pane,
                                         self.examples_pane, self.undo, self.network, self)
        self.readiness = ReadinessController(session, self.runs, self.editing, self.run_bar,
                                             self.welcome_bar, self.network, self)
        self.editing.matrix_changed.connect(self.running.refresh_matrix)
        self.checks.changed.connect(self.running.refresh_matrix)
        self.steps.changed.connect(self.running.refresh_matrix)
        self.documents.changed.connect(self.running.refresh_matrix)
        self.undo.restored.connect(self._restored)
        self.edit_menu.aboutToShow.connect(self._update_undo_actions)
        self.running.logged.connect(self.workspace.refresh_totals)
        status = self.run_status
        self.workspace.opening.connect(lambda: status.workspace_label.setText("Opening workspace…"))
        self.workspace.opened.connect(self._show_workspace)
        self.workspace.opened.connect(lambda _snap: self.batches.workspace_opened())
        # After the window has shown an opened project: History may open one of its runs.
        self.history = HistoryController(session, self.running, self.workspace,
                                         self.history_pane, self.undo, self)
        self.results_pane.back_requested.connect(self.running.refresh_matrix)
        self.workspace.failed.connect(self._show_open_error)
        self.workspace.totals.connect(status.show_totals)
        session.saved.connect(lambda: self.statusBar().showMessage("Saved", 1500))
        session.save_failed.connect(lambda exc: QMessageBox.warning(self, "Not saved", str(exc)))

    def _show_shortcuts(self) -> None:
        from lab.gui.dialogs.help import show_shortcuts  # imported when opened

        show_shortcuts(self)

    def _show_about(self) -> None:
        from lab.gui.dialogs.help import show_about  # imported when opened

        show_about(self)

    def _connect_actions(self) -> None:
        """What each action does."""
        a = self.commands
        workspace, editing, running, judging = self.workspace, self.editing, self.running, self.judging
        slots = [
            (a.new_action, workspace.new_workspace),
            (a.open_action, workspace.open_workspace),
            (a.open_experiment_action, self.projects.open_experiment),
            (a.import_action, self.projects.import_experiment),
            (a.save_experiment_action, self.projects.save_experiment),
            (a.save_experiment_as_action, self.projects.save_experiment_as),
            (a.export_action, judging.show_export),
            (a.quit_action, self.close),
            (a.undo_action, lambda: self._editor_do("undo")),
            (a.redo_action, lambda: self._editor_do("redo")),
            (a.find_action,
             lambda: self.prompt_pane.find_bar.open_for(self.prompt_pane.focused_editor())),
            (a.replace_action,
             lambda: self.prompt_pane.find_bar.open_for(self.prompt_pane.focused_editor(), True)),
            (a.run_action, running.start_run),
            (a.cancel_action, self.batches.cancel),
            (a.resume_action, running.resume_run),
            (a.fresh_action, lambda: running.start_run(no_cache=True)),
            (a.providers_action, editing.show_providers),
            (a.refresh_models_action, editing.refresh_models),
            (a.new_variant_action, editing.new_variant),
            (a.duplicate_variant_action, editing.duplicate_variant),
            (a.rename_variant_action, self.variants_pane.rename),
            (a.delete_variant_action, editing.delete_variant),
            (a.compare_variants_action, editing.compare_variants),
            (a.prompt_history_action, self.history.show_prompt_history),
            (a.runs_action, self.history.show_runs),
            (a.pairwise_action, judging.judge_pairs),
            *((action, lambda _=False, s=score: judging.rate(score=s))
              for score, action in enumerate(a.rate_actions, start=1)),
            (a.thumbs_up_action, lambda: judging.rate(thumbs=1)),
            (a.thumbs_down_action, lambda: judging.rate(thumbs=-1)),
            (a.note_action, judging.ask_note),
            (a.tags_action, judging.ask_tags),
            (a.compare_outputs_action, judging.compare_outputs),
            (a.promote_action, judging.promote_to_example),
            (a.samples_action, judging.show_samples),
            (a.reset_layout_action, self.layout_memory.reset),
            (a.shortcuts_action, self._show_shortcuts),
            (a.about_action, self._show_about),
        ]
        for action, slot in slots:
            action.triggered.connect(lambda _=False, slot=slot: slot())

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._built:  # closed before its first paint: nothing was opened or edited
            self.layout_memory.save()
            self.network.close()
            super().closeEvent(event)
            return
        self.running.stop_estimates()
        self.prompt_pane.flush()
        self.checks_pane.flush()
        self.documents.close()
        self.session.finish_saves()
        self.running.finish_run()
        self.checks.close()
        self.layout_memory.save()
        self.network.close()
        super().closeEvent(event)

    # ----------------------------------------------------------------- workspace

    def _analysis_visible(self, visible: bool) -> None:
        """Build the Analysis pane and its controller when the dock is first shown."""
        if not visible or self.analysis is not None:
            return
        self.finish_building()
        from lab.gui.controllers.analysis import AnalysisController
        from lab.gui.panes.analysis import AnalysisPane

        self.analysis_pane = AnalysisPane()
        self.analysis_dock.setWidget(self.analysis_pane)
        self.analysis_pane.docked()
        self.analysis = AnalysisController(self.session, self.runs, self.analysis_pane,
                                           self.results_pane, self.analysis_dock,
                                           self.history_dock, self)
        self.workspace.opened.connect(self.analysis.workspace_opened)
        if self.session.project is not None:  # the workspace opened before the dock was shown
            self.analysis.workspace_opened()
        self.analysis.dock_shown()

    def _show_workspace(self, snap: dict[str, Any]) -> None:
        project = self.session.project
        path: Path | None = snap["path"]
        self.projects.project_opened(snap)  # its file's providers and trust come first
        self._show_title()
        status = self.run_status
        status.workspace_label.setText(f"Workspace: {path}" if path else "Workspace: in memory")
        status.workspace_label.setToolTip(str(path))
        status.show_totals(snap["calls"], snap["cost"], snap["errors"])
        self.undo.reset(project)
        self.run_bar.samples.setValue(snap.get("samples", 1))
        self.editing.show_project(project)
        self.checks.show_project()
        self.documents.show_project()
        self._update_undo_actions()
        self.history_pane.set_choices(snap.get("filter_choices", {}))
        self.history_pane.set_model(self.session.history)
        self.running.show_last_run(snap.get("run_id"), snap.get("results", []),
                                   snap.get("ratings", {}))
        self.readiness.first_start()

    def _show_title(self) -> None:
        project = self.session.project
        if project is not None:
            where = f" ({Path(project.source_path).name})" if project.source_path else ""
            self.setWindowTitle(f"{project.name}{where} — {APP_NAME}")

    def event(self, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.WindowActivate and self.session.project is not None
                and self._built):
            self.projects.refresh_list()  # `lab run` may have added a project meanwhile
        return super().event(event)

    def _show_open_error(self, exc: BaseException) -> None:
        self.run_status.workspace_label.setText("No workspace open")
        QMessageBox.critical(self, "Cannot open the workspace", str(exc))

    def _editor_do(self, what: str) -> None:
        """Edit ▸ Undo and Redo: a text box with the focus undoes its own typing; anywhere
        else, the project's last edit (deleting an example, adding a check, …)."""
        widget = QApplication.focusWidget()
        if isinstance(widget, (QPlainTextEdit, QLineEdit)) and not widget.isReadOnly():
            getattr(widget, what)()
            return
        self.prompt_pane.flush()  # typing still pending is an edit of its own, not undone here
        self.checks_pane.flush()
        getattr(self.undo.stack, what)()

    def _update_undo_actions(self) -> None:
        stack, a = self.undo.stack, self.commands
        a.undo_action.setText(f"&Undo {stack.undoText()}" if stack.canUndo() else "&Undo")
        a.redo_action.setText(f"&Redo {stack.redoText()}" if stack.canRedo() else "&Redo")

    def _restored(self, owner, what: str) -> None:
        if what == "checks":
            self.checks.show_project(self.checks_pane.current_row())
            self.running.refresh_matrix()
            self.session.save()
