"""Qt item models: thin adapters over the core's plain lists (variants, examples, test cases).

They hold no logic of their own; they present core dataclasses to views. The history model that
pages through the log lives in history_model.py.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from lab.core.model import Example, TestCase, Variant

Index = QModelIndex | QPersistentModelIndex
DISPLAY = Qt.ItemDataRole.DisplayRole
TOOLTIP = Qt.ItemDataRole.ToolTipRole


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class VariantListModel(QAbstractListModel):
    """The variants of the open project: name on the first line, model on the second.

    Renaming in place edits the name only (the caption line is drawn by the delegate).
    """

    renamed = Signal(int)

    def __init__(self, variants: list[Variant] | None = None):
        super().__init__()
        self._variants = variants or []

    def set_variants(self, variants: list[Variant]) -> None:
        self.beginResetModel()
        self._variants = variants
        self.endResetModel()

    def variant(self, row: int) -> Variant:
        return self._variants[row]

    def refresh(self) -> None:
        """A variant changed in place (model, example count): repaint without losing selection."""
        if self._variants:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._variants) - 1, 0))

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._variants)

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid():
            return None
        v = self._variants[index.row()]
        if role == DISPLAY:
            temp = v.params.get("temperature")
            extra = f" · T={temp}" if temp is not None else ""
            return f"{v.name}\n{v.model}{extra} · {len(v.enabled_examples())} examples"
        if role == Qt.ItemDataRole.EditRole:
            return v.name
        if role == TOOLTIP:
            return f"{v.name}\nModel: {v.model}\nParameters: {v.params or 'defaults'}"
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        name = str(value).strip()
        if not index.isValid() or role != Qt.ItemDataRole.EditRole or not name:
            return False
        if any(v.name == name for i, v in enumerate(self._variants) if i != index.row()):
            return False  # names identify variants in results and exports: keep them unique
        if self._variants[index.row()].name == name:
            return False
        self._variants[index.row()].name = name
        self.dataChanged.emit(index, index)
        self.renamed.emit(index.row())
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        return super().flags(index) | Qt.ItemFlag.ItemIsEditable


class ExamplesTableModel(QAbstractTableModel):
    """Few-shot examples of one variant: on/off, input, output, note. Editable; rows reorder by drag.

    Every change is announced with `edited`, after which the list it wraps (the variant's own
    `examples`) already holds the new state; the window saves it.
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
            return _one_line(text)
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


class CasesTableModel(QAbstractTableModel):
    """Test cases as an editable table: the case label, then one column per template variable."""

    edited = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._cases: list[TestCase] = []
        self._columns: list[str] = []

    def set_cases(self, cases: list[TestCase]) -> None:
        self.beginResetModel()
        self._cases = cases
        self._columns = self._collect_columns(cases, [])
        self.endResetModel()

    @staticmethod
    def _collect_columns(cases: list[TestCase], columns: list[str]) -> list[str]:
        columns = list(columns)
        for case in cases:
            for key in case.vars:
                if key not in columns:
                    columns.append(key)
        return columns

    @property
    def variable_names(self) -> list[str]:
        return list(self._columns)

    def case(self, row: int) -> TestCase:
        return self._cases[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._cases)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns) + 1

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        if role != DISPLAY:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return "Case" if section == 0 else "{{" + self._columns[section - 1] + "}}"
        return str(section + 1)

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid() or role not in (DISPLAY, TOOLTIP, Qt.ItemDataRole.EditRole):
            return None
        case = self._cases[index.row()]
        if index.column() == 0:
            if role == Qt.ItemDataRole.EditRole:
                return case.label
            return case.label or f"Case {index.row() + 1}"
        value = case.vars.get(self._columns[index.column() - 1], "")
        return _one_line(value) if role == DISPLAY else value

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        case = self._cases[index.row()]
        text = str(value)
        if index.column() == 0:
            if case.label == text:
                return False
            case.label = text
        else:
            name = self._columns[index.column() - 1]
            if case.vars.get(name) == text:
                return False
            case.vars[name] = text
        self.dataChanged.emit(index, index)
        self.edited.emit()
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        return super().flags(index) | Qt.ItemFlag.ItemIsEditable

    def add_cases(self, cases: list[TestCase]) -> None:
        """Append rows; columns they bring become new variables for every row."""
        if not cases:
            return
        self.beginResetModel()
        self._cases.extend(cases)
        self._columns = self._collect_columns(cases, self._columns)
        for case in self._cases:
            for name in self._columns:
                case.vars.setdefault(name, "")
        self.endResetModel()
        self.edited.emit()

    def add_variable(self, name: str) -> None:
        if name in self._columns:
            return
        self.beginResetModel()
        self._columns.append(name)
        for case in self._cases:
            case.vars.setdefault(name, "")
        self.endResetModel()
        self.edited.emit()

    def remove_rows(self, rows: list[int]) -> None:
        for row in sorted(set(rows), reverse=True):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._cases[row]
            self.endRemoveRows()
        if rows:
            self.edited.emit()
