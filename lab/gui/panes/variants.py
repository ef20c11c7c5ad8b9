"""The variants pane: the project's variants as a list (name over model), pick one to edit; add,
duplicate, rename in place (F2), delete, compare two. Its model is a thin adapter over the
project's own list of variants.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QListView, QWidget

from lab.core.model import Variant
from lab.gui.panes.pane import DISPLAY, TOOLTIP, Index, column_layout, tool_button
from lab.gui.widgets import TwoLineDelegate


class VariantListModel(QAbstractListModel):
    """The variants of the open project: name on the first line, model on the second.

    Renaming in place edits the name only (the caption line is drawn by the delegate).
    """

    renamed = Signal(int, str)  # row, the old name

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
            shape = (f"chain of {len(v.steps)} step{'' if len(v.steps) == 1 else 's'}"
                     if v.steps else f"{len(v.enabled_examples())} examples")
            retrieval = (f" · {v.retrieval.mode} k={v.retrieval.k}"
                         if v.retrieval is not None and v.retrieval.on else "")
            return f"{v.name}\n{v.model}{extra} · {shape}{retrieval}"
        if role == Qt.ItemDataRole.EditRole:
            return v.name
        if role == TOOLTIP:
            tip = f"{v.name}\nModel: {v.model}\nParameters: {v.params or 'defaults'}"
            if v.steps:
                tip += "\nSteps: " + " → ".join(s.name for s in v.steps)
            if v.retrieval is not None and v.retrieval.on:
                tip += (f"\nRetrieval: {v.retrieval.mode}, {v.retrieval.k} passages for "
                        f"{v.retrieval.query or 'the user message'}")
            return tip
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        name = str(value).strip()
        if not index.isValid() or role != Qt.ItemDataRole.EditRole or not name:
            return False
        if any(v.name == name for i, v in enumerate(self._variants) if i != index.row()):
            return False  # names identify variants in results and exports: keep them unique
        old = self._variants[index.row()].name
        if old == name:
            return False
        self._variants[index.row()].name = name
        self.dataChanged.emit(index, index)
        self.renamed.emit(index.row(), old)
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        return super().flags(index) | Qt.ItemFlag.ItemIsEditable


class VariantsPane(QWidget):
    """The variants: pick one to edit; add, duplicate, rename (F2), delete, compare two."""

    variant_selected = Signal(int)
    add_requested = Signal()
    duplicate_requested = Signal()
    delete_requested = Signal()
    compare_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.model = VariantListModel()
        self.view = QListView()
        self.view.setModel(self.model)
        self.view.setItemDelegate(TwoLineDelegate(self.view))
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setUniformItemSizes(True)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed
                                  | QAbstractItemView.EditTrigger.DoubleClicked)
        self.view.selectionModel().currentChanged.connect(
            lambda current, _prev: self.variant_selected.emit(current.row())
        )
        self.add_button = tool_button("New", "Add an empty variant", self.add_requested.emit)
        self.duplicate_button = tool_button(
            "Duplicate", "Copy the selected variant to change one thing (Ctrl+D)",
            self.duplicate_requested.emit)
        self.delete_button = tool_button("Delete", "Delete the selected variant",
                                         self.delete_requested.emit)
        self.compare_button = tool_button("Compare", "Show the differences between two variants",
                                          self.compare_requested.emit)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 4)
        for button in (self.add_button, self.duplicate_button, self.delete_button,
                       self.compare_button):
            bar.addWidget(button)
        bar.addStretch(1)
        layout = column_layout(self.view)
        layout.addLayout(bar)
        self.setLayout(layout)

    def select(self, row: int) -> None:
        self.view.setCurrentIndex(self.model.index(row, 0))

    def current_row(self) -> int:
        return self.view.currentIndex().row()

    def rename(self) -> None:
        self.view.edit(self.view.currentIndex())
