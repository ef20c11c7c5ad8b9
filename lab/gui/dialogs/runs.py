"""The project's runs, newest first: when, status, variants, test cases, calls, cost and each
variant's pass rate; runs made with `lab run` on the project's file are among them. Open one to
see its results in the grid as they were; select two to compare them side by side.

The list loads a page at a time from the store thread as it scrolls (`fetch`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from lab.gui.table_model import RowsTableModel
from lab.gui.tasks import when_done

PAGE = 50
Fetch = Callable[[int | None], "Future[list[dict[str, Any]]]"]  # before id -> a page of runs


def pass_rates_text(rates: dict[str, tuple[int, int]], order: list[str]) -> str:
    parts = []
    for name in [*order, *(n for n in rates if n not in order)]:
        if name in rates and rates[name][1]:
            passed, total = rates[name]
            parts.append(f"{name} {100 * passed / total:.0f}%")
    return " · ".join(parts)


class RunsModel(RowsTableModel):
    HEADERS = ("Run", "Started", "Status", "Variants", "Cases", "Calls", "Cost", "Passed checks")

    def __init__(self, fetch: Fetch):
        super().__init__()
        self._fetch = fetch
        self.rows: list[dict[str, Any]] = []
        self._pending = False
        self._done = False
        self.loaded_once = False

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        run = self.rows[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{run['experiment']}\n{run['source'] or ''}".strip()
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        column = index.column()
        if column == 0:
            return f"#{run['id']}" + (" · lab run" if run["source"] not in ("gui", "") else "")
        if column == 1:
            return (run["started_at"] or "").replace("T", " ")[:16]
        if column == 2:
            return run["status"] + (f", {run['errors']} errors" if run.get("errors") else "")
        if column == 3:
            return ", ".join(run["variants"])
        if column == 4:
            samples = run["samples"]
            return f"{run['cases']}" + (f" × {samples} samples" if samples > 1 else "")
        if column == 5:
            return str(run["calls"])
        if column == 6:
            return "" if run["cost_usd"] is None else f"${run['cost_usd']:.4f}"
        return pass_rates_text(run["pass_rates"], run["variants"])

    def canFetchMore(self, parent: QModelIndex = QModelIndex()) -> bool:  # noqa: N802
        return not parent.isValid() and not self._done and not self._pending

    def fetchMore(self, parent: QModelIndex = QModelIndex()) -> None:  # noqa: N802
        if not self.canFetchMore(parent):
            return
        self._pending = True
        before = self.rows[-1]["id"] if self.rows else None
        when_done(self._fetch(before), self._append, lambda _exc: self._stop())

    def _append(self, rows: list[dict[str, Any]]) -> None:
        self._pending = False
        self._done = len(rows) < PAGE
        self.loaded_once = True
        if rows:
            start = len(self.rows)
            self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
            self.rows.extend(rows)
            self.endInsertRows()

    def _stop(self) -> None:
        self._pending, self._done, self.loaded_once = False, True, True


class RunsDialog(QDialog):
    open_requested = Signal(int)  # run id
    compare_requested = Signal(int, int)  # the older run, the newer

    def __init__(self, project_name: str, fetch: Fetch, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Runs · {project_name}")
        self.resize(1000, 520)
        self.model = RunsModel(fetch)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setVisible(False)
        self.view.setWordWrap(False)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.model.rowsInserted.connect(lambda *_: self._fit_columns())
        self.hint = QLabel("Open a run to see its results in the grid as they were; select two "
                           "(Ctrl+click) to compare them side by side.")
        self.hint.setObjectName("PaneCaption")
        self.open_button = QPushButton("Open in the grid")
        self.compare_button = QPushButton("Compare the two…")
        close = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addWidget(self.hint, 1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.compare_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        close.clicked.connect(self.reject)
        self.open_button.clicked.connect(self._open)
        self.compare_button.clicked.connect(self._compare)
        self.view.doubleClicked.connect(lambda _i: self._open())
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self._update_buttons()
        self.model.fetchMore()

    def _fit_columns(self) -> None:
        self.view.resizeColumnsToContents()
        header = self.view.horizontalHeader()
        header.setStretchLastSection(False)  # the pass rates take what is left, again
        header.setStretchLastSection(True)

    def selected_runs(self) -> list[int]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.rows[r]["id"] for r in rows]

    def select_runs(self, run_ids: list[int]) -> None:
        self.view.clearSelection()
        mode = self.view.selectionMode()
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row, run in enumerate(self.model.rows):
            if run["id"] in run_ids:
                self.view.selectRow(row)
        self.view.setSelectionMode(mode)

    def _update_buttons(self) -> None:
        chosen = len(self.selected_runs())
        self.open_button.setEnabled(chosen == 1)
        self.compare_button.setEnabled(chosen == 2)

    def _open(self) -> None:
        runs = self.selected_runs()
        if len(runs) == 1:
            self.open_requested.emit(runs[0])

    def _compare(self) -> None:
        runs = sorted(self.selected_runs())
        if len(runs) == 2:
            self.compare_requested.emit(runs[0], runs[1])
