"""The Batches dialog (Run ▸ Batches…): the batches of batch runs — provider, model, the
provider's batch id, status, counts (done, failed, pending), age and when each may end — with
Follow, Stop Following and Cancel Batches for the selected run, and the requests of its batches
that did not succeed (errored, expired, cancelled), which can be sent again in a new batch or
one by one. A view: the batches controller fills it and acts on its signals.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lab.core.run.batch_status import standing

OPEN = ("submitted", "in_progress", "cancelling", "ended")
STATUS_WORDS = {"preparing": "being sent", "submitted": "sent", "in_progress": "in progress",
                "cancelling": "cancelling", "ended": "ended", "collected": "collected",
                "not_submitted": "refused", "abandoned": "not sent"}


def status_words(batch: dict[str, Any], followed: bool) -> str:
    words = STATUS_WORDS.get(batch["status"], batch["status"])
    if batch["status"] == "collected" and batch.get("outcome") not in (None, "completed"):
        words += f" ({batch['outcome']})"
    if batch["status"] in OPEN:
        words += " · following" if followed else " · not followed"
    return words


def _table(headers: tuple[str, ...], name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _item(text: str, tip: str = "", right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if tip:
        item.setToolTip(tip)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class BatchesDialog(QDialog):
    follow_requested = Signal(int)  # a run id
    stop_requested = Signal(int)
    cancel_requested = Signal(int)
    resend_requested = Signal(int, bool)  # run id, in a new batch (else one by one)

    HEADERS = ("Run", "Provider", "Model", "Batch", "Status", "Done", "Failed", "Pending", "Age",
               "Ends")
    FAILURE_HEADERS = ("Request", "Variant", "Case", "Sample", "Outcome", "Why")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("BatchesDialog")
        self.setWindowTitle("Batches")
        self.resize(980, 560)
        self.note = QLabel()
        self.note.setObjectName("BatchesNote")
        self.note.setWordWrap(True)
        self.table = _table(self.HEADERS, "BatchesTable")
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.empty = QLabel("No batch runs in this workspace yet. Check Run ▸ Run as Batch, then "
                            "Run: the calls go through the providers' batch APIs at the batch "
                            "price, and come back within 24 hours.")
        self.empty.setWordWrap(True)
        self.follow_button = QPushButton("Follow")
        self.follow_button.setToolTip("Poll the run's batches in the background and log their "
                                      "results as they end")
        self.stop_button = QPushButton("Stop Following")
        self.stop_button.setToolTip("Stop polling; the batches keep running at the provider and "
                                    "are followed again when the workspace next opens")
        self.cancel_button = QPushButton("Cancel Batches…")
        self.cancel_button.setToolTip("Cancel the run's batches at the provider: what has not run "
                                      "is not billed; what finished is kept")
        self.follow_button.clicked.connect(lambda: self._emit(self.follow_requested))
        self.stop_button.clicked.connect(lambda: self._emit(self.stop_requested))
        self.cancel_button.clicked.connect(lambda: self._emit(self.cancel_requested))
        self.failures_label = QLabel()
        self.failures_label.setWordWrap(True)
        self.failures = _table(self.FAILURE_HEADERS, "BatchFailures")
        self.resend_batch = QPushButton("Send Again in a New Batch")
        self.resend_direct = QPushButton("Send Again One by One")
        for button, batch in ((self.resend_batch, True), (self.resend_direct, False)):
            button.setToolTip("Resume the run: every cell it still lacks is sent again "
                              + ("in a new batch, at the batch price" if batch else
                                 "one call at a time, at the ordinary price (results at once)"))
            button.clicked.connect(lambda _=False, b=batch: self._resend(b))
        close = QPushButton("Close")
        close.clicked.connect(self.close)

        run_buttons = QHBoxLayout()
        for button in (self.follow_button, self.stop_button, self.cancel_button):
            run_buttons.addWidget(button)
        run_buttons.addStretch(1)
        resend_buttons = QHBoxLayout()
        for button in (self.resend_batch, self.resend_direct):
            resend_buttons.addWidget(button)
        resend_buttons.addStretch(1)
        resend_buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.empty)
        layout.addLayout(run_buttons)
        layout.addWidget(self.failures_label)
        layout.addWidget(self.failures, 2)
        layout.addLayout(resend_buttons)
        self._overview: dict[str, Any] = {"batches": {}, "failures": {}, "followed": set()}
        self._row_runs: list[int] = []
        self.selected_run: int | None = None
        self._busy = False

    # ---- filling

    def show_overview(self, overview: dict[str, Any], note: str, busy: bool) -> None:
        """`overview`: {"batches": run id -> batch rows, "failures": run id -> request rows,
        "followed": run ids}; `busy`: a run is being sent (nothing can be re-sent now)."""
        self._overview, self._busy = overview, busy
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self.refresh()

    def refresh(self) -> None:
        """Draw the rows again (ages and estimates move with the clock)."""
        batches, followed = self._overview["batches"], self._overview["followed"]
        rows = [(run_id, b) for run_id in sorted(batches, reverse=True) for b in batches[run_id]]
        keep = self.selected_run
        table = self.table
        table.blockSignals(True)
        table.setRowCount(len(rows))
        self._row_runs = [run_id for run_id, _b in rows]
        for r, (run_id, b) in enumerate(rows):
            s = standing(b)
            where = b["provider"] + (f" ({b['kind']})" if b["kind"] != b["provider"] else "")
            status_tip = "\n".join(x for x in (
                f"The provider says: {b['provider_status']}" if b.get("provider_status") else "",
                b.get("error") or "") if x)
            values = [_item(f"#{run_id}"), _item(where), _item(b["model"]),
                      _item(b.get("provider_batch_id") or "—"),
                      _item(status_words(b, run_id in followed), status_tip),
                      _item(f"{s.done:,}", right=True), _item(f"{s.failed:,}", right=True),
                      _item(f"{s.pending:,}", right=True), _item(s.age, right=True),
                      _item(s.ends, s.ends_detail)]
            for c, item in enumerate(values):
                table.setItem(r, c, item)
        table.blockSignals(False)
        self.empty.setVisible(not rows)
        table.setVisible(bool(rows))
        runs = sorted(batches, reverse=True)
        self.select_run(keep if keep in batches else (runs[0] if runs else None))

    def select_run(self, run_id: int | None) -> None:
        self.selected_run = run_id
        if run_id in self._row_runs and (
                not self.table.selectedItems()
                or self._row_runs[self.table.currentRow()] != run_id):
            self.table.blockSignals(True)
            self.table.selectRow(self._row_runs.index(run_id))
            self.table.blockSignals(False)
        self._show_run()

    def _selection_changed(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self._row_runs):
            self.selected_run = self._row_runs[row]
            self._show_run()

    def _show_run(self) -> None:
        run_id = self.selected_run
        batches = self._overview["batches"].get(run_id, [])
        is_open = any(b["status"] in OPEN for b in batches)
        followed = run_id in self._overview["followed"]
        self.follow_button.setEnabled(is_open and not followed)
        self.stop_button.setEnabled(followed)
        self.cancel_button.setEnabled(is_open and any(
            b["status"] in ("submitted", "in_progress") for b in batches))
        failures = self._overview["failures"].get(run_id, [])
        self.failures.setRowCount(len(failures))
        for r, f in enumerate(failures):
            values = [f["custom_id"], f["variant_name"], str(f["case_index"] + 1),
                      str(f["sample_index"] + 1), f["outcome"], f.get("error_message") or ""]
            for c, text in enumerate(values):
                self.failures.setItem(r, c, _item(text, text if c == 5 else ""))
        if run_id is None:
            self.failures_label.setText("")
        elif failures:
            self.failures_label.setText(
                f"<b>{len(failures)} request{'s' if len(failures) != 1 else ''} of run #{run_id}'s "
                "batches did not succeed</b> (not billed). Send them again — with any other cell "
                "the run still lacks:")
        else:
            self.failures_label.setText(f"Every request of run #{run_id}'s batches that has come "
                                        "back succeeded.")
        self.failures.setVisible(bool(failures))
        for button in (self.resend_batch, self.resend_direct):
            button.setVisible(bool(failures))
            button.setEnabled(bool(failures) and not self._busy)

    def _emit(self, signal: Any) -> None:
        if self.selected_run is not None:
            signal.emit(self.selected_run)

    def _resend(self, batch: bool) -> None:
        if self.selected_run is not None:
            self.resend_requested.emit(self.selected_run, batch)
