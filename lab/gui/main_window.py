"""The main window: the panes laid out in docks around the prompt editor, menus, status bar.

Layout: variants on the left; in the middle the prompt editor above the few-shot examples, and the
results grid beside them; test cases and history tabbed along the bottom. Dock positions and the
window geometry are remembered between sessions. All workspace access goes through the store
thread; this class only reacts to what comes back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
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
from lab.core.model import Project, Variant
from lab.core.runtime.async_thread import AsyncLoopThread
from lab.core.workspace.location import (
    current_project_id,
    install_sample,
    open_default_workspace,
)
from lab.core.workspace.store import Store
from lab.core.workspace.thread import StoreThread
from lab.gui.controllers.editing import EditingMixin
from lab.gui.controllers.judging import JudgingMixin
from lab.gui.controllers.run_controller import RunController
from lab.gui.controllers.running import RunningMixin
from lab.gui.dialogs.help import show_about, show_shortcuts
from lab.gui.panes.cases import CasesPane
from lab.gui.panes.examples import ExamplesPane
from lab.gui.panes.history import HistoryPane, HistoryTableModel
from lab.gui.panes.prompt import PromptPane
from lab.gui.panes.results import ResultsPane
from lab.gui.panes.variants import VariantsPane
from lab.gui.tasks import when_done

SETTINGS_GEOMETRY = "window/geometry"
SETTINGS_STATE = "window/state"
SETTINGS_SPLITTER = "window/centre-splitter"
LAYOUT_VERSION = 1  # bump when docks change, so an old saved layout is not applied


def load_workspace_snapshot(store: Store) -> dict[str, Any]:
    """Everything the window shows on open, read in one go on the store thread."""
    project_id = current_project_id(store)
    if project_id is None:
        project_id = install_sample(store)
    run_id = store.latest_run_id(project_id)
    results = store.calls_for_run(run_id) if run_id else []
    totals = store.db.execute(
        "SELECT count(*), coalesce(sum(cost_usd), 0),"
        " coalesce(sum(status = 'error'), 0) FROM calls"
    ).fetchone()
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


class MainWindow(EditingMixin, RunningMixin, JudgingMixin, QMainWindow):
    def __init__(self, store: StoreThread, settings: QSettings,
                 network: AsyncLoopThread | None = None):
        super().__init__()
        self.store = store
        self.settings = settings
        # Network and keyring work (model lists, later runs) happens on this loop's thread.
        self.network = network or AsyncLoopThread()
        self.models: dict[str, list[str]] = {}  # provider name -> model names, as last listed
        self.runs = RunController(store, self)
        self.last_run_id: int | None = None
        self._run_counts = {"done": 0, "errors": 0, "cost": 0.0, "total": 0}
        self._estimate_timer = QTimer(self)
        self._estimate_timer.setSingleShot(True)
        self._estimate_timer.setInterval(400)
        self._estimate_timer.timeout.connect(self._request_estimate)
        self.project: Project | None = None
        self.current_variant: Variant | None = None
        self._saving = False
        self._save_again = False
        self.setWindowTitle(APP_NAME)
        self.setMinimumSize(960, 620)
        self.setDockNestingEnabled(True)

        self.variants_pane = VariantsPane()
        self.prompt_pane = PromptPane()
        self.examples_pane = ExamplesPane()
        self.cases_pane = CasesPane()
        self.results_pane = ResultsPane()
        self.history_pane = HistoryPane()
        self.history_model = HistoryTableModel(store)

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

        self._build_actions()
        self._build_toolbar()
        self._build_menus()
        self._build_status_bar()

        self.variants_pane.variant_selected.connect(self._select_variant)
        self.prompt_pane.system_edited.connect(self._save_system)
        self.prompt_pane.template_edited.connect(self._save_template)
        self.prompt_pane.model_picker.model_chosen.connect(self._save_model)
        self.prompt_pane.parameters.params_edited.connect(self._save_params)
        self.examples_pane.model.edited.connect(self._save_examples)
        self.cases_pane.model.edited.connect(self._cases_edited)
        self.variants_pane.add_requested.connect(self.new_variant)
        self.variants_pane.duplicate_requested.connect(self.duplicate_variant)
        self.variants_pane.delete_requested.connect(self.delete_variant)
        self.variants_pane.compare_requested.connect(self.compare_variants)
        self.variants_pane.model.renamed.connect(self._variant_renamed)
        self.cases_pane.import_requested.connect(self.import_cases)
        self.cases_pane.paste_requested.connect(self.paste_cases)
        self.samples.valueChanged.connect(lambda _v: self._refresh_matrix())
        self.runs.estimated.connect(self._show_estimate)
        self.runs.started.connect(self._run_started)
        self.runs.event.connect(self._run_event)
        self.runs.finished.connect(self._run_finished)
        self.runs.refused.connect(self._run_refused)

        self._restore_layout()
        self._load()

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
                                       self._new_workspace, "Create an empty workspace file")
        self.open_action = self._action("&Open Workspace…", QKeySequence.StandardKey.Open,
                                        self._open_workspace, "Open another workspace file")
        self.export_action = self._action(
            "&Export Fine-Tuning Data…", "Ctrl+Shift+E", self.show_export,
            "Write judged outputs as a fine-tuning dataset, validated, with a dataset card")
        self.quit_action = self._action("&Quit", QKeySequence.StandardKey.Quit, self.close)
        self.undo_action = self._action("&Undo", QKeySequence.StandardKey.Undo,
                                        lambda: self._editor_do("undo"))
        self.redo_action = self._action("&Redo", QKeySequence.StandardKey.Redo,
                                        lambda: self._editor_do("redo"))
        self.run_action = self._action(
            "&Run", "Ctrl+Return", self.start_run,
            "Run every variant over every test case", Std.SP_MediaPlay)
        self.cancel_action = self._action(
            "&Cancel Run", "Ctrl+.", self.cancel_run, "Stop the run; finished calls are kept",
            Std.SP_MediaStop)
        self.resume_action = self._action(
            "Re&sume Run", "Ctrl+Shift+Return", self.resume_run,
            "Run only the calls that are missing or failed", Std.SP_BrowserReload)
        self.fresh_action = self._action(
            "Run &Fresh Samples", "Ctrl+Shift+R", lambda: self.start_run(no_cache=True),
            "Run again without answers from the cache")
        for action in (self.run_action, self.cancel_action, self.resume_action):
            action.setEnabled(False)
        self.find_action = self._action(
            "&Find…", QKeySequence.StandardKey.Find,
            lambda: self.prompt_pane.find_bar.open_for(self.prompt_pane.focused_editor()))
        self.replace_action = self._action(
            "Find and &Replace…", "Ctrl+H",
            lambda: self.prompt_pane.find_bar.open_for(self.prompt_pane.focused_editor(), True))
        self.providers_action = self._action(
            "&Providers…", "Ctrl+Shift+P", self.show_providers,
            "Add model providers, their keys and settings; test the connection")
        self.refresh_models_action = self._action(
            "Refresh &Model List", None, self.refresh_models,
            "Ask every provider that has a key which models it offers")
        self.new_variant_action = self._action("&New Variant", None, self.new_variant,
                                               "Add an empty variant")
        self.duplicate_variant_action = self._action(
            "&Duplicate Variant", "Ctrl+D", self.duplicate_variant,
            "Copy the selected variant to change one thing")
        self.rename_variant_action = self._action("&Rename Variant", "F2",
                                                  lambda: self.variants_pane.rename())
        self.delete_variant_action = self._action("De&lete Variant", None, self.delete_variant)
        self.compare_variants_action = self._action(
            "&Compare Variants…", "Ctrl+Shift+D", self.compare_variants,
            "Show what differs between two variants, word by word")
        self.pairwise_action = self._action(
            "&Judge Pairs Blind…", "Ctrl+J", self.judge_pairs,
            "Compare two variants' outputs for the same input without seeing which is which")
        self.rate_actions = []
        for score in range(1, 6):
            self.rate_actions.append(self._action(
                f"Rate {score}", str(score), lambda _=False, s=score: self.rate(score=s),
                f"Give the selected output a score of {score}"))
        self.thumbs_up_action = self._action("Thumbs &Up", "+", lambda: self.rate(thumbs=1))
        self.thumbs_down_action = self._action("Thumbs &Down", "-", lambda: self.rate(thumbs=-1))
        self.note_action = self._action("&Note…", "N", self.ask_note, "Write a note on the output")
        self.tags_action = self._action("&Tags…", "T", self.ask_tags,
                                        "Tag the output with failure modes, comma-separated")
        self.compare_outputs_action = self._action(
            "&Compare Two Outputs", "Ctrl+Shift+C", self.compare_outputs,
            "Word-level differences between the two selected outputs (Ctrl+click to select)")
        self.promote_action = self._action(
            "&Promote to Example", "Ctrl+E", self.promote_to_example,
            "Add the selected output as a few-shot example of its variant")
        # Judging keys act on the results grid only, so typing in an editor is never a rating.
        for action in (*self.rate_actions, self.thumbs_up_action, self.thumbs_down_action,
                       self.note_action, self.tags_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.results_pane.view.addAction(action)
        self.reset_layout_action = self._action("Reset &Layout", None, self._reset_layout,
                                                "Put every pane back where it started")
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

    # ----------------------------------------------------------------- layout memory

    def _restore_layout(self) -> None:
        self.resizeDocks([self.variants_dock], [270], Qt.Orientation.Horizontal)
        self.resizeDocks([self.cases_dock], [250], Qt.Orientation.Vertical)
        self._default_state = self.saveState(LAYOUT_VERSION)
        geometry = self.settings.value(SETTINGS_GEOMETRY)
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1360, 860)
        state = self.settings.value(SETTINGS_STATE)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state, LAYOUT_VERSION)
        splitter = self.settings.value(SETTINGS_SPLITTER)
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            self.centre.restoreState(splitter)
        else:
            # The results grid is where A and B are compared side by side: give it the room.
            self.centre.setSizes([540, 620])

    def _reset_layout(self) -> None:
        self.restoreState(self._default_state, LAYOUT_VERSION)
        for dock in (self.variants_dock, self.cases_dock, self.history_dock):
            dock.show()
        self.cases_dock.raise_()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._estimate_timer.stop()
        self.prompt_pane.flush()
        self._finish_saves()
        self._finish_run()
        self.settings.setValue(SETTINGS_GEOMETRY, self.saveGeometry())
        self.settings.setValue(SETTINGS_STATE, self.saveState(LAYOUT_VERSION))
        self.settings.setValue(SETTINGS_SPLITTER, self.centre.saveState())
        self.settings.sync()
        self.network.close()
        super().closeEvent(event)

    # ----------------------------------------------------------------- workspace

    def _load(self) -> None:
        when_done(self.store.submit(load_workspace_snapshot), self._show_snapshot,
                  self._show_open_error)

    def _show_snapshot(self, snap: dict[str, Any]) -> None:
        self.project = snap["project"]
        path: Path | None = snap["path"]
        self.setWindowTitle(f"{self.project.name} — {APP_NAME}")
        self.workspace_label.setText(f"Workspace: {path}" if path else "Workspace: in memory")
        self.workspace_label.setToolTip(str(path))
        self._show_totals(snap["calls"], snap["cost"], snap["errors"])
        self.variants_pane.model.set_variants(self.project.variants)
        self.cases_pane.set_cases(self.project.cases)
        self._refresh_matrix()
        if self.project.variants:
            self.variants_pane.select(0)
        else:
            self._select_variant(-1)
        self.history_pane.set_choices(snap.get("filter_choices", {}))
        self.history_pane.set_model(self.history_model)
        self.last_run_id = snap.get("run_id")
        self._show_logged_results(snap.get("results", []), snap.get("ratings", {}))
        self.run_action.setEnabled(True)
        self.resume_action.setEnabled(self.last_run_id is not None)

    def _show_totals(self, calls: int, cost: float, errors: int) -> None:
        self.totals_label.setText(f"{calls:,} calls logged · ${cost:,.4f} spent")
        self.errors_label.setText(f"⚠ {errors} failed calls" if errors else "")

    def _show_open_error(self, exc: BaseException) -> None:
        self.workspace_label.setText("No workspace open")
        QMessageBox.critical(self, "Cannot open the workspace", str(exc))

    def _switch_workspace(self, path: str) -> None:

        if self.runs.running:
            QMessageBox.information(self, "A run is in progress",
                                    "Cancel the run (Ctrl+.) before opening another workspace.")
            return
        self.prompt_pane.flush()
        self._finish_saves()
        self.store.close()
        self.store = StoreThread(lambda: open_default_workspace(path))
        self.runs.set_store(self.store)
        self.history_model = HistoryTableModel(self.store)
        self.workspace_label.setText("Opening workspace…")
        self._load()

    def _new_workspace(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "New workspace", str(Path.home() / "workspace.db"),
            "Prompt Lab workspace (*.db *.sqlite)")
        if path:
            self._switch_workspace(path)

    def _open_workspace(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open workspace", str(Path.home()), "Prompt Lab workspace (*.db *.sqlite);;All files (*)")
        if path:
            self._switch_workspace(path)

    def _editor_do(self, what: str) -> None:
        widget = QApplication.focusWidget()
        if isinstance(widget, QPlainTextEdit):
            getattr(widget, what)()
