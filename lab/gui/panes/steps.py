"""The steps of a chain variant, in order, as one row of the prompt pane: pick a step to edit its
prompt, model and parameters below; add, remove, move earlier or later, rename (double-click or
F2). Hidden for a single-prompt variant, whose header offers "Make it a chain" instead.

The bar only shows names and reports what the user asked for; the steps controller changes the
variant (lab/gui/controllers/steps.py).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QWidget,
)

from lab.core.model import Step
from lab.gui.panes.pane import tool_button


class StepsBar(QWidget):
    step_selected = Signal(int)  # row
    add_requested = Signal()
    remove_requested = Signal()
    move_requested = Signal(int)  # -1 earlier, +1 later
    rename_requested = Signal(int, str)  # row, the new name

    def __init__(self) -> None:
        super().__init__()
        self.list = QListWidget()
        self.list.setObjectName("StepsList")
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.list.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSpacing(2)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.setToolTip("The chain's steps, in the order they are sent; each step's output "
                             "is {{steps.NAME}} in the steps after it")
        self.list.setFixedHeight(self.fontMetrics().height() + 18)
        self.add_button = tool_button("Add step", "Add a step after the selected one",
                                      self.add_requested.emit)
        self.remove_button = tool_button("Remove", "Remove the selected step (removing the "
                                         "last one makes the variant a single prompt again)",
                                         self.remove_requested.emit)
        self.earlier_button = tool_button("◀", "Move the step earlier",
                                          lambda: self.move_requested.emit(-1))
        self.later_button = tool_button("▶", "Move the step later",
                                        lambda: self.move_requested.emit(1))
        self.rename_button = tool_button("Rename", "Rename the selected step (F2)", self.rename)
        caption = QLabel("Steps")
        caption.setObjectName("PaneCaption")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 2, 8, 2)
        layout.addWidget(caption)
        layout.addWidget(self.list, 1)
        for button in (self.add_button, self.remove_button, self.earlier_button,
                       self.later_button, self.rename_button):
            layout.addWidget(button)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._loading = False
        self.list.currentRowChanged.connect(self._selected)
        self.list.itemChanged.connect(self._renamed)

    def show_steps(self, steps: list[Step], current: int) -> None:
        self._loading = True
        try:
            self.list.clear()
            for number, step in enumerate(steps, start=1):
                item = QListWidgetItem(step.name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                item.setToolTip(f"Step {number} of {len(steps)}: its output is "
                                f"{{{{steps.{step.name}}}}} in the steps after it")
                item.setSizeHint(QSize(max(self.fontMetrics().horizontalAdvance(step.name) + 28,
                                           64), self.fontMetrics().height() + 10))
                self.list.addItem(item)
            self.list.setCurrentRow(min(max(current, 0), len(steps) - 1))
            self._update_buttons()
        finally:
            self._loading = False

    def current_row(self) -> int:
        return self.list.currentRow()

    def rename(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.list.editItem(item)

    def _selected(self, row: int) -> None:
        self._update_buttons()
        if not self._loading and row >= 0:
            self.step_selected.emit(row)

    def _renamed(self, item: QListWidgetItem) -> None:
        if not self._loading:
            self.rename_requested.emit(self.list.row(item), item.text().strip())

    def _update_buttons(self) -> None:
        row, count = self.list.currentRow(), self.list.count()
        self.earlier_button.setEnabled(row > 0)
        self.later_button.setEnabled(0 <= row < count - 1)
        self.remove_button.setEnabled(row >= 0)
        self.rename_button.setEnabled(row >= 0)
