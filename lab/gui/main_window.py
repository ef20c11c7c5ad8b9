"""The main window: the panes laid out in docks around the prompt editor, menus, status bar.

Layout: variants on the left; in the middle the prompt editor above the few-shot examples, and the
results grid beside them; test cases and history tabbed along the bottom. Dock positions and the
window geometry are remembered between sessions. All workspace access goes through the store
thread; this class only reacts to what comes back.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QEventLoop, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QInputDialog,
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
from lab.core.async_thread import AsyncLoopThread
from lab.core.judging import pairs_to_judge, tally
from lab.core.model import Example, Project, Rating, Variant
from lab.core.snippets import load_snippets
from lab.core.template import render
from lab.core.provider_settings import configured_providers, list_all_models
from lab.core.store import Store
from lab.core.store_thread import StoreThread
from lab.core.workspace import current_project_id, install_sample, open_default_workspace
from lab.core import cases_file
from lab.gui import dialogs
from lab.gui.dialogs import show_about, show_shortcuts
from lab.gui.diff_view import OutputDiffDialog, VariantDiffDialog
from lab.gui.export_dialog import ExportDialog
from lab.gui.pairwise_dialog import PairwiseDialog
from lab.gui.history_model import HistoryTableModel
from lab.gui.panes import CasesPane, ExamplesPane, HistoryPane, ResultsPane, VariantsPane
from lab.gui.prompt_pane import PromptPane
from lab.gui.providers_dialog import ProvidersDialog
from lab.gui.results import CellResult, cell_from_row
from lab.gui.run_controller import RunController
from lab.core import run_events
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


class MainWindow(QMainWindow):
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

    # ----------------------------------------------------------------- editing

    def _select_variant(self, row: int) -> None:
        self.prompt_pane.flush()
        project = self.project
        variant = project.variants[row] if project and 0 <= row < len(project.variants) else None
        self.current_variant = variant
        self.prompt_pane.show_variant(variant, project.user_template if project else "",
                                      self.model_names())
        self.examples_pane.set_examples(variant.examples if variant else [],
                                        variant.name if variant else "")

    def _save_system(self, text: str) -> None:
        variant, project = self.current_variant, self.project
        if variant is None or project is None or variant.system == text:
            return
        variant.system = text
        self._save_variant(variant)

    def _save_examples(self) -> None:
        variant, project = self.current_variant, self.project
        if variant is None or project is None:
            return
        self.variants_pane.model.refresh()
        self._save_variant(variant)

    def _save_params(self, values: dict) -> None:
        variant = self.current_variant
        if variant is None:
            return
        for name, value in values.items():
            if value is None:
                variant.params.pop(name, None)
            else:
                variant.params[name] = value
        self.variants_pane.model.refresh()
        self._save_variant(variant)

    def _save_variant(self, _variant: Variant) -> None:
        self._save_project()

    def _unique_name(self, base: str) -> str:
        names = {v.name for v in self.project.variants} if self.project else set()
        if base not in names:
            return base
        n = 2
        while f"{base} ({n})" in names:
            n += 1
        return f"{base} ({n})"

    def _insert_variant(self, variant: Variant, row: int) -> None:
        project = self.project
        if project is None:
            return
        project.variants.insert(row, variant)
        self.variants_pane.model.set_variants(project.variants)
        self.variants_pane.select(row)
        self._refresh_matrix()
        self._save_project()

    def new_variant(self) -> None:
        if self.project is None:
            return
        letter = chr(ord("A") + len(self.project.variants) % 26)
        model = self.current_variant.model if self.current_variant else "openai/gpt-4o-mini"
        self._insert_variant(Variant(name=self._unique_name(letter), model=model),
                             len(self.project.variants))
        self.prompt_pane.system.setFocus()

    def duplicate_variant(self) -> None:
        variant = self.current_variant
        if self.project is None or variant is None:
            return
        self.prompt_pane.flush()
        copy_ = copy.deepcopy(variant)
        copy_.id = None
        for example in copy_.examples:
            example.id = None
        copy_.name = self._unique_name(f"{variant.name} copy")
        self._insert_variant(copy_, self.project.variants.index(variant) + 1)

    def delete_variant(self) -> None:
        variant, project = self.current_variant, self.project
        if project is None or variant is None:
            return
        if not dialogs.confirm(self, "Delete variant",
                               f"Delete the variant “{variant.name}” with its prompt and "
                               f"{len(variant.examples)} examples? Logged calls are kept."):
            return
        row = project.variants.index(variant)
        project.variants.remove(variant)
        self.current_variant = None
        self.variants_pane.model.set_variants(project.variants)
        if project.variants:
            self.variants_pane.select(min(row, len(project.variants) - 1))
        else:
            self._select_variant(-1)
        self._refresh_matrix()
        self._save_project()

    def compare_variants(self) -> VariantDiffDialog | None:
        project = self.project
        if project is None or not project.variants:
            return None
        self.prompt_pane.flush()
        current = max(self.variants_pane.current_row(), 0)
        other = 1 if current == 0 else 0
        dialog = VariantDiffDialog(project.variants, left=other if current else 0,
                                   right=current if current else other, parent=self)
        dialog.show()
        return dialog

    def _variant_renamed(self, row: int) -> None:
        if self.project is None:
            return
        variant = self.project.variants[row]
        if variant is self.current_variant:
            self.prompt_pane.header.title.setText(f"System prompt · {variant.name}")
            self.examples_pane.header.title.setText(f"Few-shot examples · {variant.name}")
        self._refresh_matrix()
        self._save_variant(variant)

    def _cases_edited(self) -> None:
        self._refresh_matrix()
        self._save_project()

    def _finish_saves(self, timeout_s: float = 10.0) -> None:
        """On close, let the save in flight (and the one it queues) land: an edit made a moment
        before quitting must not be lost. Events keep flowing, so the window stays responsive."""


        deadline = time.monotonic() + timeout_s
        while (self._saving or self._save_again) and time.monotonic() < deadline:
            if not self._saving:
                self._save_project()
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)

    def _finish_run(self, timeout_s: float = 20.0) -> None:
        """Closing during a run cancels it and lets the runner record what it had, so quitting
        loses nothing that already came back."""


        if not self.runs.running:
            return
        self.runs.cancel()
        deadline = time.monotonic() + timeout_s
        while self.runs.running and time.monotonic() < deadline:
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)

    def _save_project(self) -> None:
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
                self._save_project()
            else:
                self.statusBar().showMessage("Saved", 1500)

        def failed(exc: BaseException) -> None:
            self._saving = False
            QMessageBox.warning(self, "Not saved", str(exc))

        when_done(self.store.submit(save), saved, failed)

    def import_cases(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Import test cases", str(Path.home()),
                "Test cases (*.csv *.tsv *.jsonl *.ndjson);;All files (*)")
        if not path:
            return
        # Reading and parsing a file is disk work: off the GUI thread.
        when_done(self.network.run_blocking(cases_file.load, path), self._add_imported,
                  lambda exc: QMessageBox.warning(self, "Cannot import", str(exc)))

    def paste_cases(self) -> None:
        text = QApplication.clipboard().text()
        self._add_imported(cases_file.parse_paste(text, self.cases_pane.model.variable_names))

    def _add_imported(self, imported: cases_file.CasesImport) -> None:
        if imported.problems and not dialogs.confirm_import(
                self, imported.source, len(imported.cases), imported.messages()):
            return
        self.cases_pane.model.add_cases(imported.cases)
        self.cases_pane.set_cases(self.cases_pane.model._cases)
        self.statusBar().showMessage(f"Added {len(imported.cases)} test cases", 4000)

    def model_names(self) -> list[str]:
        return sorted(f"{provider}/{m}" for provider, names in self.models.items() for m in names)

    def _save_model(self, model: str) -> None:
        variant, project = self.current_variant, self.project
        if variant is None or project is None or variant.model == model:
            return
        if "/" not in model:
            self.statusBar().showMessage(
                f"'{model}' needs a provider in front, like openai/{model}; not changed.", 6000)
            self.prompt_pane.model_picker.set_models(self.model_names(), variant.model)
            return
        variant.model = model
        self.variants_pane.model.refresh()
        self._refresh_matrix()
        self._save_variant(variant)

    def _models_listed(self, provider: str, models: list[str]) -> None:
        self.models[provider] = models
        if self.current_variant is not None:
            self.prompt_pane.model_picker.set_models(self.model_names(), self.current_variant.model)

    def show_providers(self) -> ProvidersDialog:
        dialog = ProvidersDialog(self.store, self.network, self)
        dialog.models_listed.connect(self._models_listed)
        dialog.show()
        return dialog

    def refresh_models(self) -> None:
        self.statusBar().showMessage("Asking providers for their models…")
        configs = self.store.submit(configured_providers)

        def ask(configs_list) -> None:
            when_done(self.network.submit(list_all_models(configs_list)), listed, failed)

        def listed(result: dict) -> None:
            problems = []
            for provider, models in result.items():
                if isinstance(models, list):
                    self._models_listed(provider, models)
                else:
                    problems.append(f"{provider}: {models}")
            found = sum(len(v) for v in result.values() if isinstance(v, list))
            self.statusBar().showMessage(
                f"{found} models listed" + (f" · {'; '.join(problems)}" if problems else "")
                if result else "No provider has a key yet: add one in Edit ▸ Providers.", 10000)

        def failed(exc: BaseException) -> None:
            self.statusBar().showMessage(f"Could not list models: {exc}", 10000)

        when_done(configs, ask, failed)

    def _save_template(self, text: str) -> None:
        project = self.project
        if project is None or project.user_template == text:
            return
        project.user_template = text
        self._save_project()

    def _refresh_matrix(self) -> None:
        if self.project is None:
            return
        samples = self.samples.value()
        self.results_pane.set_matrix(self.project.cases, self.project.variants, samples)
        calls = len(self.project.cases) * len(self.project.variants) * samples
        self.estimate_label.setText(f" {calls} calls planned ")
        self._estimate_timer.start()

    # ----------------------------------------------------------------- running

    def _request_estimate(self) -> None:
        if self.project is not None and not self.runs.running and self.isVisible():
            self.runs.estimate(self.project, self.samples.value())

    def _show_estimate(self, outcome) -> None:
        if isinstance(outcome, list):
            self.estimate_label.setText(f" ⚠ {len(outcome)} problem{'s' if len(outcome) != 1 else ''}"
                                        " to fix before running ")
            self.estimate_label.setToolTip("\n".join(outcome))
            return
        est = outcome.estimate
        calls = len(outcome.to_call)
        parts = [f"{calls} call{'s' if calls != 1 else ''} to send"]
        if est.from_cache:
            parts.append(f"{est.from_cache} from cache")
        parts.append(f"≈ {est.input_tokens:,} tokens in")
        parts.append(f"≤ {est.output_tokens:,} out")
        unpriced = est.unpriced
        parts.append(f"≈ ${est.cost_usd:.4f}" + (" + unpriced models" if unpriced else ""))
        self.estimate_label.setText(" " + " · ".join(parts) + " ")
        self.estimate_label.setToolTip(
            "Pre-flight estimate: prompt tokens counted offline, output at most max_tokens."
            + (f"\nNo price known for: {', '.join(unpriced)}" if unpriced else ""))

    def start_run(self, no_cache: bool = False) -> None:
        if self.project is None or self.runs.running:
            return
        self.prompt_pane.flush()
        self.run_action.setEnabled(False)
        self.statusBar().showMessage("Preparing the run…")
        self.runs.start(self.project, self.samples.value(), no_cache=no_cache)

    def cancel_run(self) -> None:
        self.runs.cancel()
        self.statusBar().showMessage("Cancelling: calls in flight are recorded as cancelled…")

    def resume_run(self) -> None:
        if self.last_run_id is not None and not self.runs.running:
            self.run_action.setEnabled(False)
            self.runs.resume(self.last_run_id)

    def _run_refused(self, problems: list[str]) -> None:
        self.run_action.setEnabled(True)
        self.statusBar().clearMessage()
        dialogs.show_problems(self, "The run cannot start", problems)

    def _run_started(self, prepared) -> None:
        self.cancel_action.setEnabled(True)
        self.resume_action.setEnabled(False)
        total = len(prepared.work) + len(prepared.judge_gaps)
        self._run_counts = {"done": 0, "errors": 0, "cost": 0.0, "total": total}
        if prepared.run_id is None:  # a new run: the grid starts empty
            self.results_pane.model.clear_results()
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(0)
        self.progress.show()
        self._show_progress()

    def _show_progress(self) -> None:
        c = self._run_counts
        errors = f" · {c['errors']} error{'s' if c['errors'] != 1 else ''}" if c["errors"] else ""
        self.progress_label.setText(f"{c['done']} / {c['total']} calls{errors} · ${c['cost']:.4f}")
        self.progress.setValue(c["done"])

    def _cell_position(self, cell) -> tuple[int, int | None]:
        return cell.case_index, self.results_pane.model.column_of(cell.variant)

    def _run_event(self, event) -> None:
        model = self.results_pane.model
        if isinstance(event, run_events.RunStarted):
            self.last_run_id = event.run_id
        elif isinstance(event, run_events.CallStarted) and event.judge is None:
            row, column = self._cell_position(event.cell)
            if column is not None and event.cell.sample_index == 0:
                def start(cell: CellResult) -> None:
                    cell.status, cell.text, cell.error, cell.checks = "running", "", "", {}
                    cell.model = f"{event.provider}/{event.model}"
                model.update_cell(row, column, start)
        elif isinstance(event, run_events.CallDelta) and event.cell.sample_index == 0:
            row, column = self._cell_position(event.cell)
            if column is not None:
                model.update_cell(row, column, lambda cell: setattr(cell, "text", cell.text + event.text))
        elif isinstance(event, run_events.CallFinished):
            self._call_finished(event)
        elif isinstance(event, run_events.JudgeFinished):
            row, column = self._cell_position(event.cell)
            if column is not None and event.result is not None and event.cell.sample_index == 0:
                def judged(cell: CellResult) -> None:
                    cell.checks[event.check_name] = event.result.passed
                    cell.reasons[event.check_name] = event.result.reason
                model.update_cell(row, column, judged)

    def _call_finished(self, event) -> None:
        call = event.call
        counts = self._run_counts
        counts["done"] += 1
        counts["errors"] += call.status == "error"
        counts["cost"] += call.cost_usd or 0.0
        self._show_progress()
        row, column = self._cell_position(event.cell)
        if column is None:
            return

        def finish(cell: CellResult) -> None:
            cell.samples_done += 1
            if event.cell.sample_index != 0:
                return
            cell.status, cell.text = call.status, call.response_text
            cell.call_id, cell.cached = call.id, event.cached
            cell.latency_ms, cell.ttft_ms, cell.cost_usd = call.latency_ms, call.ttft_ms, call.cost_usd
            cell.input_tokens = call.usage.input_tokens
            cell.output_tokens = call.usage.output_tokens
            cell.error = call.error_message or ""
            cell.request, cell.model = call.request, f"{call.provider}/{call.model}"
            cell.call, cell.thumbs, cell.score, cell.note, cell.tags = call, None, None, "", []
            cell.checks = {r.check_name: r.passed for r in event.checks}
            cell.reasons = {r.check_name: r.reason for r in event.checks if r.reason}

        self.results_pane.model.update_cell(row, column, finish)

    def _run_finished(self, outcome) -> None:
        self.progress.hide()
        self.cancel_action.setEnabled(False)
        self.run_action.setEnabled(True)
        self.resume_action.setEnabled(self.last_run_id is not None)
        if isinstance(outcome, BaseException):
            self.progress_label.setText("")
            QMessageBox.warning(self, "The run stopped", str(outcome))
        else:
            words = {"done": "Run finished", "cancelled": "Run cancelled",
                     "budget": "Budget reached", "failed": "Run failed"}
            c = self._run_counts
            self.progress_label.setText(
                f"{words.get(outcome.status, outcome.status)}: {outcome.calls} calls, "
                f"{outcome.errors} errors, ${outcome.spent_usd:.4f}" + (
                    f" · {outcome.message}" if outcome.message else ""))
            c["done"] = c["total"]
        self.history_model.refresh()
        self.results_pane.apply_view_options()  # filter and order take in the finished results
        when_done(self.store.submit(lambda store: store.call_filter_choices()),
                  self.history_pane.set_choices, lambda _exc: None)
        self._refresh_totals()
        self._estimate_timer.start()

    def _refresh_totals(self) -> None:
        def totals(store: Store) -> tuple[int, float, int]:
            row = store.db.execute(
                "SELECT count(*), coalesce(sum(cost_usd), 0), coalesce(sum(status = 'error'), 0)"
                " FROM calls").fetchone()
            return tuple(row)

        when_done(self.store.submit(totals), lambda t: self._show_totals(*t), lambda _e: None)

    def _show_logged_results(self, rows: list[dict[str, Any]], ratings: dict | None = None) -> None:
        ratings = ratings or {}
        model = self.results_pane.model
        for row in rows:
            if row.get("case_index") is None or row.get("judged_call_id") is not None:
                continue
            column = model.column_of(row.get("variant_name") or "")
            if column is None:
                continue
            if row.get("sample_index", 0) == 0:
                loaded = cell_from_row(row)
                rating = ratings.get(row["id"])
                if rating is not None:
                    loaded.thumbs, loaded.score = rating.thumbs, rating.score
                    loaded.note, loaded.tags = rating.note, list(rating.tags)
                model.update_cell(row["case_index"], column,
                                  lambda cell, loaded=loaded: cell.__dict__.update(loaded.__dict__))

    # ----------------------------------------------------------------- judging

    def _current_cell(self) -> tuple[int, int, CellResult | None]:
        current = self.results_pane.current_source()
        if current is None:
            return -1, -1, None
        row, column = current
        return row, column, self.results_pane.model.cell(row, column)

    def rate(self, thumbs: int | None = None, score: int | None = None,
             note: str | None = None, tags: list[str] | None = None) -> None:
        row, column, cell = self._current_cell()
        if cell is None or cell.status != "ok" or cell.logged_id is None:
            self.statusBar().showMessage("Select a finished output to judge it.", 3000)
            return

        def change(c: CellResult) -> None:
            if thumbs is not None:
                c.thumbs = None if c.thumbs == thumbs else thumbs  # pressing again clears it
            if score is not None:
                c.score = None if c.score == score else score
            if note is not None:
                c.note = note
            if tags is not None:
                c.tags = tags

        self.results_pane.model.update_cell(row, column, change)
        rating = Rating(call_id=cell.logged_id, thumbs=cell.thumbs, score=cell.score,
                        note=cell.note, tags=list(cell.tags))
        when_done(self.store.submit(lambda store: store.set_rating(rating)),
                  lambda _r: self.statusBar().showMessage("Judgement saved", 1500),
                  lambda exc: QMessageBox.warning(self, "Not saved", str(exc)))

    def ask_note(self) -> None:

        _row, _column, cell = self._current_cell()
        if cell is None:
            return
        text, ok = QInputDialog.getMultiLineText(self, "Note", "Why is this output good or bad?",
                                                 cell.note)
        if ok:
            self.rate(note=text)

    def ask_tags(self) -> None:

        _row, _column, cell = self._current_cell()
        if cell is None:
            return
        text, ok = QInputDialog.getText(self, "Tags", "Failure modes or labels, comma-separated:",
                                        text=", ".join(cell.tags))
        if ok:
            self.rate(tags=[t.strip() for t in text.split(",") if t.strip()])

    def show_export(self):

        self.export_dialog = ExportDialog(self.store, self.network,
                                          Path.home() / "prompt-lab-exports", self)
        self.export_dialog.show()
        return self.export_dialog

    def compare_outputs(self):

        model = self.results_pane.model
        cells = self.results_pane.selected_sources()
        if len(cells) != 2:
            self.statusBar().showMessage("Select exactly two outputs (Ctrl+click) to compare.", 4000)
            return None
        titles, texts = [], []
        for row, column in cells:
            cell = model.cell(row, column)
            titles.append(f"{model.headerData(column, Qt.Orientation.Horizontal).splitlines()[0]}"
                          f" · {model.headerData(row, Qt.Orientation.Vertical)}")
            texts.append(cell.text if cell else "")
        self.output_diff = OutputDiffDialog(titles[0], texts[0], titles[1], texts[1], self)
        self.output_diff.show()
        return self.output_diff

    def promote_to_example(self) -> None:
        """The selected output becomes a few-shot example of its variant (input = the case)."""

        row, column, cell = self._current_cell()
        project = self.project
        if cell is None or cell.status != "ok" or project is None:
            self.statusBar().showMessage("Select a finished output to promote it.", 3000)
            return
        variant = project.variants[column]
        case = project.cases[row]
        try:
            user = render(project.user_template, case.vars)
        except Exception as exc:  # noqa: BLE001 - shown to the user, who can fix the template
            QMessageBox.warning(self, "Cannot promote", str(exc))
            return
        variant.examples.append(Example(input=user, output=cell.text,
                                        note=f"promoted from {case.label or f'case {row + 1}'}"))
        if variant is self.current_variant:
            self.examples_pane.set_examples(variant.examples, variant.name)
        self.variants_pane.model.refresh()
        self._save_project()
        self.statusBar().showMessage(f"Added as example {len(variant.examples)} of {variant.name}",
                                     4000)

    def judge_pairs(self) -> None:

        run_id, project = self.last_run_id, self.project
        if run_id is None or project is None:
            self.statusBar().showMessage("Run at least two variants first.", 3000)
            return
        labels = {i: c.label or f"Case {i + 1}" for i, c in enumerate(project.cases)}

        def load(store: Store):
            rows = store.calls_for_run(run_id)
            judged = store.list_pairwise()
            return rows, judged

        def open_dialog(result) -> None:
            rows, judged = result
            variant_of = {r["id"]: r["variant_name"] for r in rows}
            ids = set(variant_of)
            judged = [j for j in judged if j.left_call_id in ids and j.right_call_id in ids]
            pairs = pairs_to_judge(rows, judged, labels, seed=run_id * 1000 + len(judged))

            def record(judgement) -> None:
                judged.append(judgement)
                when_done(self.store.submit(lambda store: store.record_pairwise(judgement)),
                          lambda _r: None,
                          lambda exc: QMessageBox.warning(self, "Not saved", str(exc)))

            def verdict() -> str:
                lines = [f"{m.first} vs {m.second}: {m.second} won {m.summary.wins}, "
                         f"{m.first} won {m.summary.losses}, {m.summary.ties} ties. "
                         f"{m.summary.verdict}" for m in tally(judged, variant_of)]
                return "\n".join(lines) or "No judgements yet."

            self.pairwise_dialog = PairwiseDialog(pairs, record, verdict, self)
            self.pairwise_dialog.show()

        when_done(self.store.submit(load), open_dialog,
                  lambda exc: QMessageBox.warning(self, "Cannot judge", str(exc)))

    def _editor_do(self, what: str) -> None:
        widget = QApplication.focusWidget()
        if isinstance(widget, QPlainTextEdit):
            getattr(widget, what)()
