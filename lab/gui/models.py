"""Qt item models: thin adapters over the core's plain lists (variants, examples, test cases).

They hold no logic of their own; they present core dataclasses to views. The history model that
pages through the log lives in history_model.py.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from lab.core.model import Example, TestCase, Variant

Index = QModelIndex | QPersistentModelIndex
DISPLAY = Qt.ItemDataRole.DisplayRole
TOOLTIP = Qt.ItemDataRole.ToolTipRole


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class VariantListModel(QAbstractListModel):
    """The variants of the open project: name on the first line, model on the second."""

    def __init__(self, variants: list[Variant] | None = None):
        super().__init__()
        self._variants = variants or []

    def set_variants(self, variants: list[Variant]) -> None:
        self.beginResetModel()
        self._variants = variants
        self.endResetModel()

    def variant(self, row: int) -> Variant:
        return self._variants[row]

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
        if role == TOOLTIP:
            return f"{v.name}\nModel: {v.model}\nParameters: {v.params or 'defaults'}"
        return None


class ExamplesTableModel(QAbstractTableModel):
    """Few-shot examples of one variant: on/off, input, output, note."""

    HEADERS = ("On", "Input", "Output", "Note")

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
        if role == TOOLTIP:
            return text
        if role == Qt.ItemDataRole.ForegroundRole and not ex.enabled:
            from PySide6.QtGui import QPalette
            from PySide6.QtWidgets import QApplication

            return QApplication.palette().color(QPalette.ColorGroup.Disabled,
                                                QPalette.ColorRole.Text)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.column() == 0:
            return base | Qt.ItemFlag.ItemIsUserCheckable
        return base


class CasesTableModel(QAbstractTableModel):
    """Test cases as a table: one column per template variable, plus the case label."""

    def __init__(self) -> None:
        super().__init__()
        self._cases: list[TestCase] = []
        self._columns: list[str] = []

    def set_cases(self, cases: list[TestCase]) -> None:
        self.beginResetModel()
        self._cases = cases
        columns: list[str] = []
        for case in cases:
            for key in case.vars:
                if key not in columns:
                    columns.append(key)
        self._columns = columns
        self.endResetModel()

    @property
    def variable_names(self) -> list[str]:
        return list(self._columns)

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
        if not index.isValid() or role not in (DISPLAY, TOOLTIP):
            return None
        case = self._cases[index.row()]
        if index.column() == 0:
            return case.label or f"Case {index.row() + 1}"
        value = case.vars.get(self._columns[index.column() - 1], "")
        return _one_line(value) if role == DISPLAY else value


class ResultsGridModel(QAbstractTableModel):
    """The run matrix: test cases as rows, variants as columns. Cells hold outputs once run."""

    def __init__(self) -> None:
        super().__init__()
        self._cases: list[TestCase] = []
        self._variants: list[Variant] = []
        self._cells: dict[tuple[int, int], str] = {}

    def set_matrix(self, cases: list[TestCase], variants: list[Variant]) -> None:
        self.beginResetModel()
        self._cases, self._variants, self._cells = cases, variants, {}
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._cases)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._variants)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        if role not in (DISPLAY, TOOLTIP):
            return None
        if orientation == Qt.Orientation.Horizontal:
            v = self._variants[section]
            return f"{v.name}\n{v.model}" if role == DISPLAY else v.system
        case = self._cases[section]
        return case.label or f"Case {section + 1}"

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid():
            return None
        text = self._cells.get((index.row(), index.column()))
        if role == DISPLAY:
            return text if text is not None else "Not run yet"
        if role == Qt.ItemDataRole.ForegroundRole and text is None:
            from PySide6.QtGui import QPalette
            from PySide6.QtWidgets import QApplication

            return QApplication.palette().color(QPalette.ColorRole.PlaceholderText)
        return None
