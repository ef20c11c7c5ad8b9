"""What the panes share: a header over their content or an empty state, a table view set up the
same way everywhere, small tool buttons, and the item models' few helpers.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStackedWidget,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from lab.gui.widgets import EmptyState, PaneHeader

Index = QModelIndex | QPersistentModelIndex
DISPLAY = Qt.ItemDataRole.DisplayRole
TOOLTIP = Qt.ItemDataRole.ToolTipRole


def one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def column_layout(*widgets: QWidget) -> QVBoxLayout:
    layout = QVBoxLayout()
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    for w in widgets:
        layout.addWidget(w)
    return layout


def table_view(model) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setWordWrap(False)
    view.verticalHeader().setDefaultSectionSize(26)
    view.horizontalHeader().setHighlightSections(False)
    return view


def tool_button(text: str, tip: str, slot) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setAutoRaise(True)
    button.clicked.connect(slot)
    return button


class StackedPane(QWidget):
    """A pane that shows its content, or an empty state when there is nothing to show."""

    def __init__(self, header: PaneHeader, content: QWidget, empty: EmptyState):
        super().__init__()
        self.header, self.content, self.empty = header, content, empty
        self.stack = QStackedWidget()
        self.stack.addWidget(content)
        self.stack.addWidget(empty)
        self.setLayout(column_layout(header, self.stack))

    def show_empty(self, empty: bool) -> None:
        self.stack.setCurrentWidget(self.empty if empty else self.content)

    def docked(self) -> None:
        """Inside a dock the dock's title bar names the pane; keep only the caption and tools."""
        self.header.title.hide()
