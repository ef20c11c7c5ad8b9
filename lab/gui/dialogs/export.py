"""The Export dialog: pick outputs and a format, see exactly what will be written, then write it.

Planning (selection, prompt handling, dedup, split, validation) runs on the store thread and
fills the preview and the validation report; writing runs off the GUI thread with a progress
bar and Cancel. Everything here is a view over lab.core.export.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)

from lab.core import export as ex
from lab.core.export import datasets as store_datasets
from lab.core.model import Dataset
from lab.core.runtime.async_thread import AsyncLoopThread
from lab.core.workspace.thread import StoreThread
from lab.gui.tasks import when_done


class _Progress(QObject):
    """Carries progress from the writing thread to the GUI thread (queued signal)."""

    moved = Signal(int, int)


class ExportDialog(QDialog):
    planned = Signal(object)  # ExportPlan, or an exception
    written = Signal(object)  # ExportResult, or an exception

    def __init__(self, store: StoreThread, worker: AsyncLoopThread, out_dir: Path,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export fine-tuning data")
        self.resize(1100, 720)
        self._store, self._worker = store, worker
        self.plan: ex.ExportPlan | None = None
        self.result: ex.ExportResult | None = None
        self._cancel = threading.Event()
        self._generation = 0

        # --- what to export
        self.dataset = QComboBox()
        self.dataset.addItem("The selection below", "")
        self.save_button = QPushButton("Save as dataset…")
        self.save_button.setToolTip("Keep this selection in the workspace under a name; it is "
                                    "re-evaluated whenever new judgements arrive")
        self.min_score = QSpinBox()
        self.min_score.setRange(0, 5)
        self.min_score.setSpecialValueText("any")
        self.thumbs_up = QCheckBox("Thumbs up only")
        self.checks_passed = QCheckBox("Every check passed")
        self.variant = QComboBox()
        self.variant.addItem("Any variant", "")
        # The variants that have outputs in the log, whichever project they came from.
        when_done(store.submit(lambda st: st.logged_variant_names()), self._fill_variants,
                  lambda _exc: None)
        # A prompt chain's step: its own prompt and output instead of the chain's final one.
        self.step = QComboBox()
        self.step.addItem("The final output", "")
        self.step.setToolTip("For variants that are prompt chains: export one step's own prompt "
                             "and output, for the chains selected by their final output")
        when_done(store.submit(store_datasets.chain_steps), self._fill_steps, lambda _exc: None)
        self.tags = QLineEdit()
        self.tags.setPlaceholderText("tags it must carry, comma-separated")
        self.exclude_tags = QLineEdit()
        self.exclude_tags.setPlaceholderText("failure modes to leave out, comma-separated")
        self.search = QLineEdit()
        self.search.setPlaceholderText("words in the prompt or output")
        pick = QFormLayout()
        dataset_row = QHBoxLayout()
        dataset_row.addWidget(self.dataset, 1)
        dataset_row.addWidget(self.save_button)
        pick.addRow("Dataset", dataset_row)
        pick.addRow("Score at least", self.min_score)
        pick.addRow("", self.thumbs_up)
        pick.addRow("", self.checks_passed)
        pick.addRow("Variant", self.variant)
        pick.addRow("Chain step", self.step)
        self._step_row = pick.rowCount() - 1
        pick.setRowVisible(self._step_row, False)  # shown once the log has chain steps
        self._pick = pick
        pick.addRow("Tags", self.tags)
        pick.addRow("Leave out", self.exclude_tags)
        pick.addRow("Search", self.search)
        pick_box = QGroupBox("Outputs")
        pick_box.setLayout(pick)

        # --- how to write it
        self.format = QComboBox()
        for name, text in ex.describe_formats().items():
            self.format.addItem(f"{name} — {text}", name)
        self.kind = QComboBox()
        self.kind.addItem("Supervised examples", "sft")
        self.kind.addItem("Preference pairs (from blind judgements)", "preference")
        self.system = QComboBox()
        self.system.addItem("Keep the full system prompt", "keep")
        self.system.addItem("Drop it (the tuned model learns the behaviour)", "drop")
        self.system.addItem("Replace it with a short one", "replace")
        self.short_system = QLineEdit()
        self.short_system.setPlaceholderText("the short system prompt, when replacing")
        self.examples = QComboBox()
        for label, value in (("Best the format allows", "auto"), ("As masked turns", "turns"),
                             ("Folded into the system prompt", "fold"), ("Dropped", "drop")):
            self.examples.addItem(label, value)
        self.split = QDoubleSpinBox()
        self.split.setRange(0.5, 1.0)
        self.split.setSingleStep(0.05)
        self.split.setValue(0.9)
        self.seed = QSpinBox()
        self.seed.setRange(0, 1_000_000)
        self.licence = QLineEdit()
        self.licence.setPlaceholderText("e.g. CC-BY-4.0 (goes into the dataset card)")
        shape = QFormLayout()
        shape.addRow("Format", self.format)
        shape.addRow("Data", self.kind)
        shape.addRow("System prompt", self.system)
        shape.addRow("", self.short_system)
        shape.addRow("Few-shot examples", self.examples)
        shape.addRow("Train share", self.split)
        shape.addRow("Split seed", self.seed)
        shape.addRow("Licence", self.licence)
        shape_box = QGroupBox("Format")
        shape_box.setLayout(shape)

        # --- preview, report, writing
        self.summary = QLabel("Planning…")
        self.summary.setWordWrap(True)
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        self.report.setMaximumHeight(130)
        self.out_dir = QLineEdit(str(out_dir))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_folder)
        self.force = QCheckBox("Write even if the target's rules are broken")
        self.progress = QProgressBar()
        self.progress.hide()
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.open_button = QPushButton("Open folder")
        self.open_button.hide()
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        folder_row = QHBoxLayout()
        folder_row.addWidget(QLabel("Folder"))
        folder_row.addWidget(self.out_dir, 1)
        folder_row.addWidget(browse)
        buttons = QHBoxLayout()
        buttons.addWidget(self.force)
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(close)

        grid = QGridLayout(self)
        grid.addWidget(pick_box, 0, 0)
        grid.addWidget(shape_box, 0, 1)
        grid.addWidget(self.summary, 1, 0, 1, 2)
        grid.addWidget(QLabel("Preview: the first examples exactly as they will be written"), 2, 0, 1, 2)
        grid.addWidget(self.preview, 3, 0, 1, 2)
        grid.addWidget(QLabel("Validation report"), 4, 0, 1, 2)
        grid.addWidget(self.report, 5, 0, 1, 2)
        grid.addLayout(folder_row, 6, 0, 1, 2)
        grid.addLayout(buttons, 7, 0, 1, 2)
        grid.setRowStretch(3, 1)

        self._replan_timer = QTimer(self)
        self._replan_timer.setSingleShot(True)
        self._replan_timer.setInterval(300)
        self._replan_timer.timeout.connect(self.replan)
        for widget in (self.min_score, self.seed):
            widget.valueChanged.connect(lambda *_: self._replan_timer.start())
        self.split.valueChanged.connect(lambda *_: self._replan_timer.start())
        for box in (self.thumbs_up, self.checks_passed):
            box.toggled.connect(lambda *_: self._replan_timer.start())
        for combo in (self.dataset, self.variant, self.step, self.format, self.kind, self.system,
                      self.examples):
            combo.currentIndexChanged.connect(lambda *_: self._replan_timer.start())
        for line in (self.tags, self.exclude_tags, self.search, self.short_system, self.licence):
            line.textChanged.connect(lambda *_: self._replan_timer.start())
        self.export_button.clicked.connect(self.export)
        self.save_button.clicked.connect(self.ask_dataset_name)
        self._load_datasets()
        self.cancel_button.clicked.connect(self._cancel.set)
        self.open_button.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(self.out_dir.text())))
        self._progress = _Progress()
        self._progress.moved.connect(self._moved, Qt.ConnectionType.QueuedConnection)
        self.cancel_button.setEnabled(False)
        self.replan()

    def _load_datasets(self, select: str = "") -> None:
        def fill(datasets: list[Dataset]) -> None:
            self.dataset.blockSignals(True)
            while self.dataset.count() > 1:
                self.dataset.removeItem(1)
            for dataset in datasets:
                self.dataset.addItem(f"{dataset.name} (saved)", dataset.name)
            if select:
                self.dataset.setCurrentIndex(self.dataset.findData(select))
            self.dataset.blockSignals(False)

        when_done(self._store.submit(store_datasets.list_datasets), fill, lambda _exc: None)

    def ask_dataset_name(self) -> None:
        name, ok = QInputDialog.getText(self, "Save as dataset", "Name of the dataset:")
        if ok and name.strip():
            self.save_dataset(name.strip())

    def save_dataset(self, name: str) -> None:
        dataset = Dataset(name=name, selection=self.selection().to_dict(),
                          licence=self.licence.text().strip())

        def saved(_result: Any) -> None:
            self.summary.setText(f"Saved the selection as dataset “{name}”.")
            self._load_datasets(select=name)

        when_done(self._store.submit(lambda store: store_datasets.save_dataset(store, dataset)),
                  saved, lambda exc: self.summary.setText(str(exc)))

    def _fill_steps(self, names: list[str]) -> None:
        self.step.blockSignals(True)
        for name in names:
            self.step.addItem(f"Step “{name}”", name)
        self.step.blockSignals(False)
        self._pick.setRowVisible(self._step_row, bool(names))

    def _fill_variants(self, names: list[str]) -> None:
        self.variant.blockSignals(True)
        for name in names:
            self.variant.addItem(name, name)
        self.variant.blockSignals(False)

    # ---------------------------------------------------------------- planning

    def selection(self) -> ex.Selection:
        def words(line: QLineEdit) -> list[str]:
            return [w.strip() for w in line.text().split(",") if w.strip()]

        return ex.Selection(
            min_score=self.min_score.value() or None, thumbs_up=self.thumbs_up.isChecked(),
            checks_passed=self.checks_passed.isChecked(),
            variants=[self.variant.currentData()] if self.variant.currentData() else [],
            tags=words(self.tags), exclude_tags=words(self.exclude_tags),
            search=self.search.text().strip(), step=self.step.currentData() or "")

    def options(self) -> ex.ExportOptions:
        system = self.system.currentData()
        short = self.short_system.text().strip()
        return ex.ExportOptions(
            kind=self.kind.currentData(),
            prompt=ex.PromptHandling(system=system if system != "replace" or short else "keep",
                                     short_system=short, examples=self.examples.currentData()),
            train_fraction=round(self.split.value(), 2), seed=self.seed.value(),
            licence=self.licence.text().strip(), force=True)

    def replan(self) -> None:
        """Plan with force=True so the preview shows even when rules are broken; the
        report says what is wrong, and Export refuses unless 'write anyway' is ticked."""
        self._generation += 1
        generation = self._generation
        # A saved dataset is planned by name, so its hand picks and saved rules apply.
        selection = self.dataset.currentData() or self.selection()
        fmt = self.format.currentData()
        try:
            options = self.options()
        except ValueError as exc:
            self._show_plan(exc, generation)
            return
        self.summary.setText("Planning…")
        when_done(self._store.submit(lambda store: ex.plan_export(store, selection, fmt, options)),
                  lambda plan: self._show_plan(plan, generation),
                  lambda exc: self._show_plan(exc, generation))

    def _show_plan(self, outcome: Any, generation: int) -> None:
        if generation != self._generation:
            return
        self.open_button.hide()
        if isinstance(outcome, BaseException):
            self.plan = None
            self.summary.setText(str(outcome).splitlines()[0])
            self.preview.clear()
            self.report.clear()
            self.export_button.setEnabled(False)
            self.planned.emit(outcome)
            return
        plan = self.plan = outcome
        counts = ", ".join(f"{n} {split}" for split, n in plan.counts().items() if n)
        tokens = plan.token_summary()
        saved = tokens["prompt_tokens_removed_per_example"]
        self.summary.setText(
            f"{plan.selected} outputs selected → {len(plan.examples)} examples ({counts})"
            + (f"; {len(plan.duplicates)} duplicates removed" if plan.duplicates else "")
            + (f"; {saved} prompt tokens fewer per example than the calls sent" if saved else ""))
        self.preview.setPlainText("\n".join(plan.preview_lines()))
        self.report.setPlainText(plan.report.text() or "No problems: the files follow the "
                                 "target's published rules.")
        self.export_button.setEnabled(True)
        self.planned.emit(plan)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to", self.out_dir.text())
        if folder:
            self.out_dir.setText(folder)

    # ---------------------------------------------------------------- writing

    def export(self) -> None:
        plan = self.plan
        if plan is None:
            return
        if plan.report.has_errors and not self.force.isChecked():
            self.summary.setText(f"The export breaks {plan.target.name}'s rules "
                                 f"({plan.report.errors} error(s)); see the report. Fix them, "
                                 "or tick “Write even if the target's rules are broken”.")
            return
        out = Path(self.out_dir.text()).expanduser()
        self._cancel.clear()
        self.progress.setRange(0, max(len(plan.examples), 1))
        self.progress.setValue(0)
        self.progress.show()
        self.export_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        progress = self._progress.moved.emit
        future = self._worker.run_blocking(
            lambda: ex.write_export(plan, out, progress=progress, cancel=self._cancel))
        when_done(future, self._written, self._written)

    def _moved(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _written(self, outcome: Any) -> None:
        self.progress.hide()
        self.cancel_button.setEnabled(False)
        self.export_button.setEnabled(True)
        if isinstance(outcome, BaseException):
            self.summary.setText(str(outcome).splitlines()[0])
        else:
            self.result = outcome
            files = ", ".join(Path(p).name for p in outcome.files.values())
            self.summary.setText(f"Written to {outcome.out_dir}: {files}")
            self.open_button.show()
        self.written.emit(outcome)
