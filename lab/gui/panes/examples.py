"""The few-shot examples pane: the selected variant's examples, edited in place, added, deleted
and reordered (buttons, keys and drag), over a table model of the variant's own list.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import QAbstractItemView, QApplication, QHeaderView

from lab.core.model import Example
from lab.gui.panes.pane import (
    DISPLAY,
    TOOLTIP,
    Index,
    StackedPane,
    one_line,
    table_view,
    tool_button,
)
from lab.gui.widgets import EmptyState, MultilineDelegate, PaneHeader


class ExamplesTableModel(QAbstractTableModel):
    """Few-shot examples of one variant: on/off, input, output, note. Editable; rows reorder by drag.

    Every change is announced with `edited`, after which the list it wraps (the variant's own
    `examples`) already holds the new state; the editing controller saves it.
    """

    HEADERS = ("On", "Input", "Output", "Note")
    MIME = "application/x-prompt-lab-example-row"
    edited = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._examples: list[Example] = []

    def set_examples(self, examples: list[Example]) -> None:
        self.beginResetModel()
        self._examples = examples
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._examples)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        if role != DISPLAY:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return str(section + 1)

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid():
            return None
        ex = self._examples[index.row()]
        col = index.column()
        if col == 0:
            if role == Qt.ItemDataRole.CheckStateRole:
                return Qt.CheckState.Checked if ex.enabled else Qt.CheckState.Unchecked
            if role == TOOLTIP:
                return "Sent with every call" if ex.enabled else "Not sent (disabled)"
            return None
        text = (ex.input, ex.output, ex.note)[col - 1]
        if role == DISPLAY:
            return one_line(text)
        if role == Qt.ItemDataRole.EditRole:
            return text
        if role == TOOLTIP:
            return text
        if role == Qt.ItemDataRole.ForegroundRole and not ex.enabled:
            return QApplication.palette().color(QPalette.ColorGroup.Disabled,
                                                QPalette.ColorRole.Text)
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid():
            return False
        ex = self._examples[index.row()]
        col = index.column()
        if col == 0 and role == Qt.ItemDataRole.CheckStateRole:
            ex.enabled = Qt.CheckState(value) == Qt.CheckState.Checked
            # The whole row greys out or back in.
            self.dataChanged.emit(self.index(index.row(), 0), self.index(index.row(), 3))
        elif col > 0 and role == Qt.ItemDataRole.EditRole:
            field = ("input", "output", "note")[col - 1]
            if getattr(ex, field) == value:
                return False
            setattr(ex, field, str(value))
            self.dataChanged.emit(index, index)
        else:
            return False
        self.edited.emit()
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index) | Qt.ItemFlag.ItemIsDragEnabled
        if not index.isValid():
            return base | Qt.ItemFlag.ItemIsDropEnabled
        if index.column() == 0:
            return base | Qt.ItemFlag.ItemIsUserCheckable
        return base | Qt.ItemFlag.ItemIsEditable

    # ---- adding, removing, moving

    def add_example(self, example: Example, row: int | None = None) -> int:
        row = len(self._examples) if row is None else row
        self.beginInsertRows(QModelIndex(), row, row)
        self._examples.insert(row, example)
        self.endInsertRows()
        self.edited.emit()
        return row

    def remove_rows(self, rows: list[int]) -> None:
        for row in sorted(set(rows), reverse=True):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._examples[row]
            self.endRemoveRows()
        if rows:
            self.edited.emit()

    def move_row(self, source: int, target: int) -> bool:
        """Move one example so it ends up at index `target` (0 <= target < rows)."""
        rows = len(self._examples)
        if not (0 <= source < rows and 0 <= target < rows) or source == target:
            return False
        # Qt's destination is "insert before this row" in the list as it was.
        destination = target + 1 if target > source else target
        self.beginMoveRows(QModelIndex(), source, source, QModelIndex(), destination)
        self._examples.insert(target, self._examples.pop(source))
        self.endMoveRows()
        self.edited.emit()
        return True

    # ---- drag and drop reordering

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [self.MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        data = QMimeData()
        rows = sorted({i.row() for i in indexes if i.isValid()})
        data.setData(self.MIME, QByteArray(str(rows[0] if rows else -1).encode()))
        return data

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                     parent: Index) -> bool:
        if action != Qt.DropAction.MoveAction or not data.hasFormat(self.MIME):
            return False
        source = int(bytes(data.data(self.MIME)).decode() or -1)
        target = parent.row() if parent.isValid() else (row if row >= 0 else len(self._examples))
        target = min(target, len(self._examples) - 1)
        self.move_row(source, target)
        # We moved the row ourselves; returning False stops the view removing the "dragged" row.
        return False


class ExamplesPane(StackedPane):
    """Few-shot examples of the selected variant: edit in place, add, delete, reorder."""

    def __init__(self) -> None:
        self.model = ExamplesTableModel()
        self.view = table_view(self.model)
        self.view.setItemDelegate(MultilineDelegate(self.view))
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed
                                  | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.view.setDragEnabled(True)
        self.view.setAcceptDrops(True)
        self.view.setDropIndicatorShown(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.view.setDefaultDropAction(Qt.DropAction.MoveAction)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        empty = EmptyState(
            "No examples",
            "Examples show the model what a good answer looks like. They are sent before "
            "each test case as user/assistant turns. Add one with + or promote a good output.",
        )
        super().__init__(PaneHeader("Few-shot examples"), self.view, empty)
        self.add_button = tool_button("+", "Add an example (Ctrl+Shift+N)", lambda: self.add_example())
        self.delete_button = tool_button("−", "Delete the selected examples (Delete)",
                                         self.delete_selected)
        self.up_button = tool_button("▲", "Move up (Alt+Up)", lambda: self.move_selected(-1))
        self.down_button = tool_button("▼", "Move down (Alt+Down)", lambda: self.move_selected(1))
        for button in (self.add_button, self.delete_button, self.up_button, self.down_button):
            self.header.add_widget(button)
        for keys, slot in (("Ctrl+Shift+N", lambda: self.add_example()), ("Delete", self.delete_selected),
                           ("Alt+Up", lambda: self.move_selected(-1)),
                           ("Alt+Down", lambda: self.move_selected(1))):
            shortcut = QShortcut(QKeySequence(keys), self.view)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.model.edited.connect(self._update_caption)
        self.model.rowsInserted.connect(lambda *_: self.show_empty(False))
        self.setEnabled(False)

    def set_examples(self, examples, variant_name: str = "", chain: bool = False) -> None:
        self.model.set_examples(examples)
        self.setEnabled(bool(variant_name))
        self.header.title.setText(f"Few-shot examples · {variant_name}" if variant_name else
                                  "Few-shot examples")
        self.show_chain(chain)

    def show_chain(self, chain: bool) -> None:
        """A chain's steps are calls of their own: its examples are kept but not sent."""
        self._chain = chain
        self._update_caption()

    def _update_caption(self) -> None:
        examples = self.model._examples
        enabled = sum(1 for e in examples if e.enabled)
        self.header.caption.setText("not sent: a chain's steps are calls of their own"
                                    if getattr(self, "_chain", False)
                                    else f"{enabled} of {len(examples)} sent")
        self.show_empty(not examples)

    def selected_rows(self) -> list[int]:
        return sorted({i.row() for i in self.view.selectionModel().selectedRows()})

    def add_example(self, example: Example | None = None) -> None:
        row = self.model.add_example(example or Example(input="", output=""))
        self.show_empty(False)
        index = self.model.index(row, 1)
        self.view.setCurrentIndex(index)
        if example is None:
            self.view.edit(index)

    def delete_selected(self) -> None:
        self.model.remove_rows(self.selected_rows())

    def move_selected(self, step: int) -> None:
        rows = self.selected_rows()
        if len(rows) != 1:
            return
        if self.model.move_row(rows[0], rows[0] + step):
            self.select_row(rows[0] + step)

    def select_row(self, row: int) -> None:
        # selectRow() honours held modifier keys (Ctrl toggles); a move must simply select.
        flags = (QItemSelectionModel.SelectionFlag.ClearAndSelect
                 | QItemSelectionModel.SelectionFlag.Rows)
        index = self.model.index(row, 1)
        self.view.selectionModel().select(index, flags)
        self.view.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
