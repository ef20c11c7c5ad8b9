"""The main window: the panes laid out in docks around the prompt editor, actions, menus, toolbar
and status bar, and the controllers that do the work, wired together.

Layout: variants on the left; in the middle the prompt editor above the few-shot examples, and the
results grid beside them; test cases and history tabbed along the bottom. Dock positions and the
window geometry are remembered between sessions. What the window has open lives in its `session`;
editing, running, judging and opening workspaces are done by controllers (lab/gui/controllers)
that get their panes and threads from here. All workspace access goes through the store thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QSpinBox,
    QSplitter,
    QStyle,
    QToolBar,
    QWidget,
)

from lab import APP_NAME
from lab.core.experiment.snippets import load_snippets
from lab.core.runtime.async_thread import AsyncLoopThread
from lab.core.workspace.thread import StoreThread
from lab.gui.controllers.analysis import AnalysisController
from lab.gui.controllers.editing import EditingController
from lab.gui.controllers.judging import JudgingController
from lab.gui.controllers.run_controller import RunController
from lab.gui.controllers.running import RunningController
from lab.gui.controllers.session import Session
from lab.gui.controllers.workspace import WorkspaceController
from lab.gui.dialogs.help import show_about, show_shortcuts
from lab.gui.layout import WindowLayout
from lab.gui.panes.analysis import AnalysisPane
from lab.gui.panes.cases import CasesPane
from lab.gui.panes.examples import ExamplesPane
from lab.gui.panes.history import HistoryPane
from lab.gui.panes.prompt import PromptPane
from lab.gui.panes.results import ResultsPane
from lab.gui.panes.variants import VariantsPane


class MainWindow(QMainWindow):
    def __init__(self, store: StoreThread, settings: QSettings,
                 network: AsyncLoopThread | None = None):
        super().__init__()
        # Network and keyring work (model lists, file imports, exports) happens on this loop's
        # thread; runs have their own.
        self.network = network or AsyncLoopThread()
        self.session = Session(store, self)
        self.runs = RunController(store, self)
        self.setWindowTitle(APP_NAME)
        self.setMinimumSize(960, 620)
        self.setDockNestingEnabled(True)

        self.variants_pane = VariantsPane()
        self.prompt_pane = PromptPane()
        self.examples_pane = ExamplesPane()
        self.cases_pane = CasesPane()
        self.results_pane = ResultsPane()
        self.history_pane = HistoryPane()

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
        self.history_dock = self._dock("History", self.history_pane, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.cases_dock, self.history_dock)
        self.cases_pane.docked()
        self.history_pane.docked()
        self.cases_dock.raise_()
        # The analysis of the run in the Results grid, beside it (controllers/analysis.py).
        self.analysis_pane = AnalysisPane()
        self.analysis_dock = self._dock("Analysis", self.analysis_pane,
                                        Qt.DockWidgetArea.RightDockWidgetArea)
        self.analysis_pane.docked()
        self.resizeDocks([self.analysis_dock], [500], Qt.Orientation.Horizontal)
        self.analysis_dock.hide()  # opened from the toolbar or View menu when wanted
        self.layout_memory = WindowLayout(self, settings, self.centre, self.variants_dock,
                                          self.cases_dock, self.history_dock)

        self._build_actions()
        self._build_toolbar()
        self._build_menus()
        self._build_status_bar()
        self._build_controllers()
        self._connect_actions()

        self.layout_memory.restore()
        self.workspace.load()

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

    def _action(self, text: str, shortcut: QKeySequence | str | None = None, slot=None,
                tip: str = "", icon: QStyle.StandardPixmap | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
                              if action.shortcut() else tip)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        if slot is not None:
            action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        Std = QStyle.StandardPixmap
        self.new_action = self._action("&New Workspace…", QKeySequence.StandardKey.New,
                                       tip="Create an empty workspace file")
        self.open_action = self._action("&Open Workspace…", QKeySequence.StandardKey.Open,
                                        tip="Open another workspace file")
        self.export_action = self._action(
            "&Export Fine-Tuning Data…", "Ctrl+Shift+E",
            tip="Write judged outputs as a fine-tuning dataset, validated, with a dataset card")
        self.quit_action = self._action("&Quit", QKeySequence.StandardKey.Quit, self.close)
        self.undo_action = self._action("&Undo", QKeySequence.StandardKey.Undo,
                                        lambda: self._editor_do("undo"))
        self.redo_action = self._action("&Redo", QKeySequence.StandardKey.Redo,
                                        lambda: self._editor_do("redo"))
        self.run_action = self._action(
            "&Run", "Ctrl+Return",
            tip="Run every variant over every test case", icon=Std.SP_MediaPlay)
        self.cancel_action = self._action(
            "&Cancel Run", "Ctrl+.", tip="Stop the run; finished calls are kept",
            icon=Std.SP_MediaStop)
        self.resume_action = self._action(
            "Re&sume Run", "Ctrl+Shift+Return",
            tip="Run only the calls that are missing or failed", icon=Std.SP_BrowserReload)
        self.fresh_action = self._action(
            "Run &Fresh Samples", "Ctrl+Shift+R",
            tip="Run again without answers from the cache")
        for action in (self.run_action, self.cancel_action, self.resume_action):
            action.setEnabled(False)
        self.find_action = self._action(
            "&Find…", QKeySequence.StandardKey.Find,
            lambda: self.prompt_pane.find_bar.open_for(self.prompt_pane.focused_editor()))
        self.replace_action = self._action(
            "Find and &Replace…", "Ctrl+H",
            lambda: self.prompt_pane.find_bar.open_for(self.prompt_pane.focused_editor(), True))
        self.providers_action = self._action(
            "&Providers…", "Ctrl+Shift+P",
            tip="Add model providers, their keys and settings; test the connection")
        self.refresh_models_action = self._action(
            "Refresh &Model List",
            tip="Ask every provider that has a key which models it offers")
        self.new_variant_action = self._action("&New Variant", None, tip="Add an empty variant")
        self.duplicate_variant_action = self._action(
            "&Duplicate Variant", "Ctrl+D",
            tip="Copy the selected variant to change one thing")
        self.rename_variant_action = self._action("&Rename Variant", "F2",
                                                  lambda: self.variants_pane.rename())
        self.delete_variant_action = self._action("De&lete Variant")
        self.compare_variants_action = self._action(
            "&Compare Variants…", "Ctrl+Shift+D",
            tip="Show what differs between two variants, word by word")
        self.pairwise_action = self._action(
            "&Judge Pairs Blind…", "Ctrl+J",
            tip="Compare two variants' outputs for the same input without seeing which is which")
        self.rate_actions = []
        for score in range(1, 6):
            self.rate_actions.append(self._action(
                f"Rate {score}", str(score),
                tip=f"Give the selected output a score of {score}"))
        self.thumbs_up_action = self._action("Thumbs &Up", "+")
        self.thumbs_down_action = self._action("Thumbs &Down", "-")
        self.note_action = self._action("&Note…", "N", tip="Write a note on the output")
        self.tags_action = self._action("&Tags…", "T",
                                        tip="Tag the output with failure modes, comma-separated")
        self.compare_outputs_action = self._action(
            "&Compare Two Outputs", "Ctrl+Shift+C",
            tip="Word-level differences between the two selected outputs (Ctrl+click to select)")
        self.promote_action = self._action(
            "&Promote to Example", "Ctrl+E",
            tip="Add the selected output as a few-shot example of its variant")
        # Judging keys act on the results grid only, so typing in an editor is never a rating.
        for action in (*self.rate_actions, self.thumbs_up_action, self.thumbs_down_action,
                       self.note_action, self.tags_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.results_pane.view.addAction(action)
        self.reset_layout_action = self._action("Reset &Layout", None, self.layout_memory.reset,
                                                tip="Put every pane back where it started")
        self.shortcuts_action = self._action("&Keyboard Shortcuts", QKeySequence.StandardKey.HelpContents,
                                             lambda: show_shortcuts(self))
        self.about_action = self._action(f"&About {APP_NAME}", None, lambda: show_about(self))

    def _build_toolbar(self) -> None:
        bar = QToolBar("Run")
        bar.setObjectName("RunToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.addAction(self.run_action)
        bar.addAction(self.cancel_action)
        bar.addAction(self.resume_action)
        bar.addSeparator()
        analysis = self.analysis_dock.toggleViewAction()
        analysis.setToolTip("The analysis of the run beside the results: verdicts, charts and "
                            "the prompt / retrieve / fine-tune decision")
        bar.addAction(analysis)
        bar.addSeparator()
        bar.addWidget(QLabel(" Samples per cell "))
        self.samples = QSpinBox()
        self.samples.setRange(1, 100)
        self.samples.setToolTip("How many times each variant is asked each test case; repeated "
                                "samples show how consistent the outputs are")
        bar.addWidget(self.samples)
        bar.addSeparator()
        self.estimate_label = QLabel()
        self.estimate_label.setObjectName("PaneCaption")
        bar.addWidget(self.estimate_label)
        self.addToolBar(bar)
        self.toolbar = bar

    def _build_menus(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addActions([self.new_action, self.open_action])
        file_menu.addSeparator()
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = menu.addMenu("&Edit")
        edit_menu.addActions([self.undo_action, self.redo_action])
        edit_menu.addSeparator()
        edit_menu.addActions([self.find_action, self.replace_action])
        snippets_menu = edit_menu.addMenu("Insert &Snippet")

        for snippet in load_snippets():
            action = snippets_menu.addAction(snippet.name)
            action.setToolTip(snippet.text)
            action.triggered.connect(lambda _=False, t=snippet.text: self.prompt_pane.insert_snippet(t))
        edit_menu.addSeparator()
        edit_menu.addActions([self.providers_action, self.refresh_models_action])
        variant_menu = menu.addMenu("V&ariant")
        variant_menu.addActions([self.new_variant_action, self.duplicate_variant_action,
                                 self.rename_variant_action, self.delete_variant_action])
        variant_menu.addSeparator()
        variant_menu.addAction(self.compare_variants_action)
        view_menu = menu.addMenu("&View")
        for dock in (self.variants_dock, self.cases_dock, self.history_dock):
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addAction(self.analysis_dock.toggleViewAction())
        view_menu.addSeparator()
        view_menu.addAction(self.reset_layout_action)
        run_menu = menu.addMenu("&Run")
        run_menu.addActions([self.run_action, self.fresh_action, self.cancel_action,
                             self.resume_action])
        judge_menu = menu.addMenu("&Judge")
        judge_menu.addActions([self.thumbs_up_action, self.thumbs_down_action, *self.rate_actions,
                               self.note_action, self.tags_action])
        judge_menu.addSeparator()
        judge_menu.addActions([self.compare_outputs_action, self.promote_action,
                               self.pairwise_action])
        help_menu = menu.addMenu("&Help")
        help_menu.addActions([self.shortcuts_action, self.about_action])

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.workspace_label = QLabel("Opening workspace…")
        self.totals_label = QLabel()
        self.errors_label = QLabel()
        bar.addWidget(self.workspace_label, 1)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.progress_label = QLabel()
        bar.addPermanentWidget(self.progress_label)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.errors_label)
        bar.addPermanentWidget(self.totals_label)

    def _build_controllers(self) -> None:
        """The controllers, each given what it works with; they talk back through signals."""
        session, prompt = self.session, self.prompt_pane
        self.workspace = WorkspaceController(session, self.runs, prompt, self)
        self.editing = EditingController(session, self.variants_pane, prompt, self.examples_pane,
                                         self.cases_pane, self.network, self)
        self.running = RunningController(
            session, self.runs, prompt, self.results_pane, self.history_pane,
            samples=self.samples, estimate_label=self.estimate_label, progress=self.progress,
            progress_label=self.progress_label, run_action=self.run_action,
            cancel_action=self.cancel_action, resume_action=self.resume_action, window=self)
        self.judging = JudgingController(session, self.results_pane, self.variants_pane,
                                         self.examples_pane, self.network, self)
        self.analysis = AnalysisController(session, self.runs, self.analysis_pane,
                                           self.results_pane, self.analysis_dock,
                                           self.history_dock, self)
        self.workspace.opened.connect(self.analysis.workspace_opened)
        self.editing.matrix_changed.connect(self.running.refresh_matrix)
        self.running.logged.connect(self.workspace.refresh_totals)
        self.workspace.opening.connect(lambda: self.workspace_label.setText("Opening workspace…"))
        self.workspace.opened.connect(self._show_workspace)
        self.workspace.failed.connect(self._show_open_error)
        self.workspace.totals.connect(self._show_totals)
        session.saved.connect(lambda: self.statusBar().showMessage("Saved", 1500))
        session.save_failed.connect(lambda exc: QMessageBox.warning(self, "Not saved", str(exc)))

    def _connect_actions(self) -> None:
        """What the controllers' actions do (the window's own are connected where they are made)."""
        workspace, editing, running, judging = self.workspace, self.editing, self.running, self.judging
        slots = [
            (self.new_action, workspace.new_workspace),
            (self.open_action, workspace.open_workspace),
            (self.export_action, judging.show_export),
            (self.run_action, running.start_run),
            (self.cancel_action, running.cancel_run),
            (self.resume_action, running.resume_run),
            (self.fresh_action, lambda: running.start_run(no_cache=True)),
            (self.providers_action, editing.show_providers),
            (self.refresh_models_action, editing.refresh_models),
            (self.new_variant_action, editing.new_variant),
            (self.duplicate_variant_action, editing.duplicate_variant),
            (self.delete_variant_action, editing.delete_variant),
            (self.compare_variants_action, editing.compare_variants),
            (self.pairwise_action, judging.judge_pairs),
            *((action, lambda _=False, s=score: judging.rate(score=s))
              for score, action in enumerate(self.rate_actions, start=1)),
            (self.thumbs_up_action, lambda: judging.rate(thumbs=1)),
            (self.thumbs_down_action, lambda: judging.rate(thumbs=-1)),
            (self.note_action, judging.ask_note),
            (self.tags_action, judging.ask_tags),
            (self.compare_outputs_action, judging.compare_outputs),
            (self.promote_action, judging.promote_to_example),
        ]
        for action, slot in slots:
            action.triggered.connect(slot)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.running.stop_estimates()
        self.prompt_pane.flush()
        self.session.finish_saves()
        self.running.finish_run()
        self.layout_memory.save()
        self.network.close()
        super().closeEvent(event)

    # ----------------------------------------------------------------- workspace

    def _show_workspace(self, snap: dict[str, Any]) -> None:
        project = self.session.project
        path: Path | None = snap["path"]
        self.setWindowTitle(f"{project.name} — {APP_NAME}")
        self.workspace_label.setText(f"Workspace: {path}" if path else "Workspace: in memory")
        self.workspace_label.setToolTip(str(path))
        self._show_totals(snap["calls"], snap["cost"], snap["errors"])
        self.editing.show_project(project)
        self.history_pane.set_choices(snap.get("filter_choices", {}))
        self.history_pane.set_model(self.session.history)
        self.running.show_last_run(snap.get("run_id"), snap.get("results", []),
                                   snap.get("ratings", {}))

    def _show_totals(self, calls: int, cost: float, errors: int) -> None:
        self.totals_label.setText(f"{calls:,} calls logged · ${cost:,.4f} spent")
        self.errors_label.setText(f"⚠ {errors} failed calls" if errors else "")

    def _show_open_error(self, exc: BaseException) -> None:
        self.workspace_label.setText("No workspace open")
        QMessageBox.critical(self, "Cannot open the workspace", str(exc))

    def _editor_do(self, what: str) -> None:
        widget = QApplication.focusWidget()
        if isinstance(widget, QPlainTextEdit):
            getattr(widget, what)()
