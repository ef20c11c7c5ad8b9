"""Prompt history of a variant: every prompt it was run with (system text, user message and
examples, frozen by the runs), when it was first and last used and by which runs, under the
name the user gave it. Select one version to see how it differs from the prompt in the editor,
or two to compare them, word by word; restore one as the current prompt; name one.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QWidget,
)

from lab.core.analysis.diff import prompt_text, word_diff
from lab.core.model import PromptVersion
from lab.gui.dialogs.compare import spans_html
from lab.gui.table_model import RowsTableModel

CURRENT = "Current (in the editor)"


def words(n: int) -> str:
    return f"{n} word{'s' if n != 1 else ''}"


def when(stamp: str | None) -> str:
    return (stamp or "").replace("T", " ")[:16]


class VersionsModel(RowsTableModel):
    """Row 0 is the prompt in the editor; then the versions, newest first."""

    HEADERS = ("Version", "First used", "Last used", "Runs", "Calls")

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []

    def set_rows(self, current: PromptVersion, versions: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self.rows = [{"id": None, "name": CURRENT, "version": current, "runs": [], "calls": None,
                      "first_used": None, "last_used": None}, *versions]
        self.endResetModel()

    def title(self, row: int) -> str:
        item = self.rows[row]
        if item["id"] is None:
            return CURRENT
        number = len(self.rows) - row  # the oldest is version 1
        return f"v{number} “{item['name']}”" if item["name"] else f"v{number}"

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole,
                                               Qt.ItemDataRole.ToolTipRole):
            return None
        item = self.rows[index.row()]
        column = index.column()
        if column == 0:
            return self.title(index.row())
        if column in (1, 2):
            return when(item["first_used" if column == 1 else "last_used"])
        if column == 3:
            runs = item["runs"]
            shown = ", ".join(f"#{r}" for r in runs[:4]) + (" …" if len(runs) > 4 else "")
            return shown if role == Qt.ItemDataRole.DisplayRole else ", ".join(
                f"#{r}" for r in runs)
        return "" if item["calls"] is None else str(item["calls"])


class PromptHistoryDialog(QDialog):
    restore_requested = Signal(object)  # the PromptVersion to make the current prompt
    name_requested = Signal(int, str)  # version id, its new name

    def __init__(self, variant_name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Prompt history · {variant_name}")
        self.resize(1100, 720)
        self.model = VersionsModel()
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.setAlternatingRowColors(True)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.left_title, self.right_title = QLabel(), QLabel()
        self.left_view, self.right_view = QTextBrowser(), QTextBrowser()
        self.summary = QLabel("Select a version to see what changed since; select two to "
                              "compare them.")
        self.summary.setObjectName("PaneCaption")
        self.restore_button = QPushButton("Restore as current prompt")
        self.restore_button.setToolTip("The variant's system prompt and examples become this "
                                       "version's (Edit ▸ Undo takes it back)")
        self.name_button = QPushButton("Name…")
        close = QPushButton("Close")
        diff = QWidget()
        grid = QGridLayout(diff)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.left_title, 0, 0)
        grid.addWidget(self.right_title, 0, 1)
        grid.addWidget(self.left_view, 1, 0)
        grid.addWidget(self.right_view, 1, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(diff)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 3)
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.name_button)
        buttons.addWidget(self.restore_button)
        buttons.addWidget(close)
        layout = QGridLayout(self)
        layout.addWidget(split, 0, 0)
        layout.addLayout(buttons, 1, 0)
        close.clicked.connect(self.reject)
        self.restore_button.clicked.connect(self._restore)
        self.name_button.clicked.connect(self._name)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self.refresh())

    def set_versions(self, current: PromptVersion, versions: list[dict[str, Any]],
                     select: int | None = 1) -> None:
        self.model.set_rows(current, versions)
        if select is not None and select < self.model.rowCount():
            self.view.selectRow(select)
        self.refresh()

    def selected_rows(self) -> list[int]:
        return sorted({i.row() for i in self.view.selectionModel().selectedRows()})

    def select_rows(self, rows: list[int]) -> None:
        self.view.clearSelection()
        mode = self.view.selectionMode()
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row in rows:
            self.view.selectRow(row)
        self.view.setSelectionMode(mode)

    def refresh(self) -> None:
        rows = self.selected_rows()
        one = len(rows) == 1 and self.model.rows[rows[0]]["id"] is not None
        self.restore_button.setEnabled(one)
        self.name_button.setEnabled(one)
        if not rows or len(rows) > 2:
            self.left_view.clear()
            self.right_view.clear()
            return
        # Older on the left, newer on the right: one version against the editor's prompt.
        older, newer = (rows[0], 0) if len(rows) == 1 else (rows[1], rows[0])
        a, b = self.model.rows[older]["version"], self.model.rows[newer]["version"]
        result = word_diff(prompt_text(a.system, a.user_template, a.examples),
                           prompt_text(b.system, b.user_template, b.examples))
        self.left_title.setText(self.model.title(older))
        self.right_title.setText(self.model.title(newer))
        self.left_view.setHtml(spans_html(result.left))
        self.right_view.setHtml(spans_html(result.right))
        removed, added = result.counts()
        self.summary.setText(f"{words(removed)} only in {self.model.title(older)} · "
                             f"{words(added)} only in {self.model.title(newer)}"
                             if result.changed else "The two are the same prompt.")

    def _restore(self) -> None:
        rows = self.selected_rows()
        if len(rows) == 1:
            self.restore_requested.emit(self.model.rows[rows[0]]["version"])

    def _name(self) -> None:
        rows = self.selected_rows()
        if len(rows) != 1 or self.model.rows[rows[0]]["id"] is None:
            return
        item = self.model.rows[rows[0]]
        name, ok = QInputDialog.getText(self, "Name this version",
                                        "A name you will recognise it by:", text=item["name"])
        if ok:
            self.name_requested.emit(item["id"], name)
