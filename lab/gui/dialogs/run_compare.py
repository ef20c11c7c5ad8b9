"""Two runs side by side, case by case: a variant in the earlier run against a variant (the same
one, by default) in the later run. Each row says whether the case was fixed, broke, changed or
stayed the same (lab.core.analysis.run_compare); the selected row's two outputs are shown word by
word.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QWidget,
)

from lab.core.analysis.diff import word_diff
from lab.core.analysis.run_compare import ComparedCase, RunComparison, compare_runs
from lab.gui.dialogs.compare import spans_html
from lab.gui.table_model import RowsTableModel

VERDICT_COLOURS = {"fixed": "#2e8b57", "broke": "#c9302c", "changed": "#b8860b"}


def one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class ComparisonModel(RowsTableModel):
    HEADERS = ("Case", "Before", "After", "")

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[ComparedCase] = []

    def set_comparison(self, comparison: RunComparison) -> None:
        self.replace_rows(comparison.cases)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        case = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (case.label, one_line(case.before_text, 90), one_line(case.after_text, 90),
                    case.verdict)[column]
        if role == Qt.ItemDataRole.ForegroundRole and column == 3:
            colour = VERDICT_COLOURS.get(case.verdict)
            return QColor(colour) if colour else None
        return None


class RunCompareDialog(QDialog):
    def __init__(self, before: dict[str, Any], after: dict[str, Any],
                 parent: QWidget | None = None):
        """`before` and `after`: {"id", "variants", "rows", "labels"} of each run."""
        super().__init__(parent)
        self.setWindowTitle(f"Compare runs #{before['id']} and #{after['id']}")
        self.resize(1150, 760)
        self._before, self._after = before, after
        self.before_variant, self.after_variant = QComboBox(), QComboBox()
        self.before_variant.addItems(before["variants"])
        self.after_variant.addItems(after["variants"])
        self.model = ComparisonModel()
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.setAlternatingRowColors(True)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.left_view, self.right_view = QTextBrowser(), QTextBrowser()
        self.summary = QLabel()
        self.summary.setObjectName("PaneCaption")
        picks = QHBoxLayout()
        picks.addWidget(QLabel(f"Run #{before['id']}"))
        picks.addWidget(self.before_variant, 1)
        picks.addWidget(QLabel(f"against run #{after['id']}"))
        picks.addWidget(self.after_variant, 1)
        diff = QWidget()
        grid = QGridLayout(diff)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.left_view, 0, 0)
        grid.addWidget(self.right_view, 0, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(diff)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(close)
        layout = QGridLayout(self)
        layout.addLayout(picks, 0, 0)
        layout.addWidget(split, 1, 0)
        layout.addLayout(bottom, 2, 0)
        # The same variant in both runs to start with, where it can be.
        shared = [v for v in after["variants"] if v in before["variants"]]
        if shared:
            self.before_variant.setCurrentText(shared[0])
            self.after_variant.setCurrentText(shared[0])
        self.before_variant.currentIndexChanged.connect(lambda _i: self.refresh())
        self.after_variant.currentIndexChanged.connect(lambda _i: self.refresh())
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self.show_pair())
        self.refresh()

    def refresh(self) -> None:
        comparison = compare_runs(self._before["rows"], self._after["rows"],
                                  self.before_variant.currentText(),
                                  self.after_variant.currentText(), self._after["labels"])
        self.model.set_comparison(comparison)
        self.summary.setText(comparison.summary())
        if comparison.cases:
            self.view.selectRow(0)
        self.show_pair()

    def show_pair(self) -> None:
        row = self.view.currentIndex().row()
        if not 0 <= row < len(self.model.rows):
            self.left_view.clear()
            self.right_view.clear()
            return
        case = self.model.rows[row]
        result = word_diff(case.before_text, case.after_text)
        self.left_view.setHtml(spans_html(result.left))
        self.right_view.setHtml(spans_html(result.right))
