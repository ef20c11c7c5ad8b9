"""The test cases pane: one row per case, one column per {{variable}}; edit in place, add and
delete rows, add a variable, import a file, paste from a spreadsheet. Its model is a thin adapter
over the project's own list of test cases.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QInputDialog

from lab.core.experiment.template import variables
from lab.core.model import TestCase
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
        return one_line(value) if role == DISPLAY else value

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


class CasesPane(StackedPane):
    """The test cases: edit in place, add and delete rows, add a variable, import, paste."""

    import_requested = Signal()
    paste_requested = Signal()

    def __init__(self) -> None:
        self.model = CasesTableModel()
        self.view = table_view(self.model)
        self.view.setItemDelegate(MultilineDelegate(self.view))
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.view.horizontalHeader().setStretchLastSection(True)
        super().__init__(
            PaneHeader("Test cases"),
            self.view,
            EmptyState(
                "No test cases",
                "Each row fills the {{variables}} of the prompt for one call. "
                "Import a CSV or JSONL file, or paste rows from a spreadsheet (Ctrl+V).",
            ),
        )
        self.add_button = tool_button("+ Row", "Add a test case", self.add_row)
        self.delete_button = tool_button("− Rows", "Delete the selected test cases (Delete)",
                                         self.delete_selected)
        self.variable_button = tool_button("+ Variable", "Add a column (a new {{variable}})",
                                           self.ask_variable)
        self.import_button = tool_button("Import…", "Import test cases from a CSV or JSONL file",
                                         self.import_requested.emit)
        self.paste_button = tool_button("Paste", "Paste rows copied from a spreadsheet (Ctrl+V)",
                                        self.paste_requested.emit)
        for button in (self.add_button, self.delete_button, self.variable_button,
                       self.import_button, self.paste_button):
            self.header.add_widget(button)
        for keys, slot in ((QKeySequence.StandardKey.Paste, self.paste_requested.emit),
                           ("Delete", self.delete_selected)):
            shortcut = QShortcut(QKeySequence(keys), self.view)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.model.edited.connect(self._update_caption)
        self.model.modelReset.connect(self._update_caption)

    def set_cases(self, cases) -> None:
        self.model.set_cases(cases)
        self._update_caption()
        self._fit_columns(cases)

    def _update_caption(self) -> None:
        names = self.model.variable_names
        rows = self.model.rowCount()
        self.header.caption.setText(
            f"{rows} rows · variables: {', '.join(names)}" if names else f"{rows} rows"
        )
        self.show_empty(rows == 0 and not names)

    def add_row(self) -> None:
        self.model.add_cases([TestCase(vars={n: "" for n in self.model.variable_names})])
        row = self.model.rowCount() - 1
        index = self.model.index(row, 1 if self.model.variable_names else 0)
        self.view.setCurrentIndex(index)
        self.view.edit(index)

    def delete_selected(self) -> None:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedIndexes()})
        self.model.remove_rows(rows)

    def select_rows(self, rows: list[int]) -> None:
        selection = self.view.selectionModel()
        selection.clearSelection()
        for row in rows:
            selection.select(self.model.index(row, 0), QItemSelectionModel.SelectionFlag.Select
                             | QItemSelectionModel.SelectionFlag.Rows)

    def ask_variable(self) -> None:
        name, ok = QInputDialog.getText(self, "New variable",
                                        "Name of the column (used as {{name}} in prompts):")
        self.add_variable(name.strip() if ok else "")

    def add_variable(self, name: str) -> str | None:
        """Add a column; returns a message when the name cannot be a variable."""
        if not name:
            return None
        if variables("{{" + name + "}}") != [name]:
            return (f"'{name}' cannot be a variable name: use letters, digits and _ "
                    "(starting with a letter).")
        self.model.add_variable(name)
        self._fit_columns(self.model._cases)
        return None

    def _fit_columns(self, cases) -> None:
        """Short columns fit their content; the column with the longest text takes the rest."""
        header = self.view.horizontalHeader()
        names = self.model.variable_names
        if not names:
            return
        lengths = {n: sum(len(c.vars.get(n, "")) for c in cases) / max(len(cases), 1) for n in names}
        longest = max(names, key=lambda n: lengths[n])
        header.setStretchLastSection(False)
        for column in range(self.model.columnCount()):
            name = names[column - 1] if column else None
            if name == longest:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
            else:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
                self.view.resizeColumnToContents(column)
                header.resizeSection(column, min(max(header.sectionSize(column), 90), 260))
