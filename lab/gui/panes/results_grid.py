"""The results grid: test cases down, variants across; each cell fills as its output streams.

A cell shows the output's first lines and, underneath, the checks passed, latency and cost, so a
row compares A and B at a glance. Selecting a cell shows everything about the call in the detail
panel (call_detail.py): the full output, checks with reasons, usage, the passages it was given,
a chain's steps, the exact request, the error.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from lab.core.model import TestCase, Variant
from lab.gui.panes.call_detail import detail_html
from lab.gui.panes.pane import Index
from lab.gui.panes.result_cells import CellResult, cell_from_row

__all__ = ["CellResult", "cell_from_row", "ResultsGridModel", "ResultCellDelegate",
           "ResultsFilterProxy", "detail_html"]


class ResultsGridModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self._cases: list[TestCase] = []
        self._variants: list[Variant] = []
        self._cells: dict[tuple[int, int], CellResult] = {}

    def set_matrix(self, cases: list[TestCase], variants: list[Variant], keep: bool = True) -> None:
        """Show this matrix; results already shown stay where the same case and variant are."""
        old = {(self._case_key(r), self._variants[c].name): cell
               for (r, c), cell in self._cells.items()
               if r < len(self._cases) and c < len(self._variants)} if keep else {}
        self.beginResetModel()
        self._cases, self._variants = cases, variants
        self._cells = {}
        for r in range(len(cases)):
            for c, variant in enumerate(variants):
                cell = old.get((self._case_key(r), variant.name))
                if cell is not None:
                    self._cells[(r, c)] = cell
        self.endResetModel()

    def _case_key(self, row: int) -> Any:
        case = self._cases[row]
        return case.id if case.id is not None else id(case)

    def clear_results(self) -> None:
        self.beginResetModel()
        self._cells = {}
        self.endResetModel()

    def column_of(self, variant_name: str) -> int | None:
        for c, variant in enumerate(self._variants):
            if variant.name == variant_name:
                return c
        return None

    def variant_at(self, column: int) -> Variant | None:
        return self._variants[column] if 0 <= column < len(self._variants) else None

    def case_at(self, row: int) -> TestCase | None:
        return self._cases[row] if 0 <= row < len(self._cases) else None

    def cell(self, row: int, column: int) -> CellResult | None:
        return self._cells.get((row, column))

    def update_cell(self, row: int, column: int, change) -> None:
        """Apply `change(cell)` to a cell (creating it) and repaint just that cell."""
        if not (0 <= row < len(self._cases) and 0 <= column < len(self._variants)):
            return
        cell = self._cells.setdefault((row, column), CellResult())
        change(cell)
        index = self.index(row, column)
        self.dataChanged.emit(index, index)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._cases)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._variants)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        if orientation == Qt.Orientation.Horizontal:
            v = self._variants[section]
            return f"{v.name}\n{v.model}" if role == Qt.ItemDataRole.DisplayRole else v.system
        case = self._cases[section]
        return case.label or f"Case {section + 1}"

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        cell = self._cells.get((index.row(), index.column()))
        if role == Qt.ItemDataRole.DisplayRole:
            if cell is None:
                return "Not run yet"
            if cell.status == "error":
                return cell.error or "Error"
            if cell.status == "waiting":
                return f"Waiting in a batch at {cell.model}"
            return cell.text or ("…" if cell.status == "running" else "")
        if role == Qt.ItemDataRole.ToolTipRole and cell is not None:
            return cell.text or cell.error
        return None


class ResultCellDelegate(QStyledItemDelegate):
    """Paints a cell: output text (wrapped, elided) over a small status footer. A click on the
    footer of a cell with several samples asks for them side by side (`samples_clicked`)."""

    PAD = 6
    samples_clicked = Signal(QModelIndex)  # a view index

    def editorEvent(self, event, model, option: QStyleOptionViewItem, index: Index) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.MouseButtonRelease:
            rect = option.rect.adjusted(self.PAD, self.PAD - 2, -self.PAD, -self.PAD + 2)
            line = option.fontMetrics.height()
            footer = QRect(rect.left(), rect.bottom() - line, rect.width(), line + self.PAD)
            source, grid = index, model
            if isinstance(grid, QSortFilterProxyModel):
                source, grid = grid.mapToSource(index), grid.sourceModel()
            cell = grid.cell(source.row(), source.column())
            if cell is not None and len(cell.samples) > 1 and footer.contains(event.position().toPoint()):
                self.samples_clicked.emit(QModelIndex(index))
        return super().editorEvent(event, model, option, index)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(160, option.fontMetrics.height() * 4 + self.PAD * 2)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        # Asked of the grid directly (through the filter proxy, if any): a Python object through
        # QVariant is a needless round trip.
        model = index.model()
        if isinstance(model, QSortFilterProxyModel):
            index = model.mapToSource(index)
            model = model.sourceModel()
        cell: CellResult | None = model.cell(index.row(), index.column())
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        text_colour = palette.color(QPalette.ColorRole.HighlightedText if selected
                                    else QPalette.ColorRole.Text)
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        rect = option.rect.adjusted(self.PAD, self.PAD - 2, -self.PAD, -self.PAD + 2)
        line = option.fontMetrics.height()
        footer_rect = QRect(rect.left(), rect.bottom() - line, rect.width(), line)
        body_rect = QRect(rect.left(), rect.top(), rect.width(), rect.height() - line - 2)
        painter.save()
        if cell is None:
            painter.setPen(muted if not selected else text_colour)
            painter.drawText(body_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                             "Not run yet")
            painter.restore()
            return
        body = index.data(Qt.ItemDataRole.DisplayRole) or ""
        colour = QColor("#d9534f") if cell.status == "error" and not selected else text_colour
        if cell.status == "waiting" and not selected:
            colour = muted
        painter.setPen(colour)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        painter.setClipRect(body_rect)
        painter.drawText(body_rect, flags, " ".join(body.split()))
        painter.setClipping(False)
        footer = cell.footer() if cell.status not in ("running", "pending") else "streaming…"
        if cell.status == "cancelled":
            footer = "cancelled"
        elif cell.status == "waiting":
            footer = "in a batch: results within 24 hours"
        painter.setPen(muted if not selected else text_colour)
        if cell.checks and not selected:
            ok = all(cell.checks.values())
            painter.setPen(QColor("#2e8b57") if ok else QColor("#c9302c"))
        painter.drawText(footer_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         footer)
        painter.restore()


class ResultsFilterProxy(QSortFilterProxyModel):
    """Which rows of the grid to show, and in what order.

    Show: every row, rows where a check failed, rows with an error, or rows where the variants'
    check outcomes differ (where A and B disagree is where a decision is made). Text matches the
    case name or any output. Sorting orders rows by the sorted column's variant: checks passed,
    latency, cost or output length. Rows do not re-sort while a run streams in; `refresh()`
    applies filter and order again.
    """

    SHOW = ("all", "failed", "errors", "disagree")
    SORT_KEYS = ("case", "checks", "latency", "cost", "length")

    def __init__(self, source: ResultsGridModel):
        super().__init__()
        self.setSourceModel(source)
        self.setDynamicSortFilter(False)
        self.show_mode = "all"
        self.text = ""
        self.sort_key = "case"

    def grid(self) -> ResultsGridModel:
        return self.sourceModel()  # type: ignore[return-value]

    def refresh(self) -> None:
        self.invalidate()
        if self.sort_key == "case":
            self.sort(-1)
        else:
            column = max(self.sortColumn(), 0)
            self.sort(column, self.sortOrder())

    def filterAcceptsRow(self, row: int, parent: Index) -> bool:  # noqa: N802 - Qt naming
        grid = self.grid()
        cells = [grid.cell(row, c) for c in range(grid.columnCount())]
        if self.text:
            needle = self.text.lower()
            label = str(grid.headerData(row, Qt.Orientation.Vertical) or "").lower()
            if needle not in label and not any(c and needle in c.text.lower() for c in cells):
                return False
        if self.show_mode == "failed":
            return any(c and c.checks and not all(c.checks.values()) for c in cells)
        if self.show_mode == "errors":
            return any(c and c.status == "error" for c in cells)
        if self.show_mode == "disagree":
            outcomes = {tuple(sorted(c.checks.items())) for c in cells if c and c.checks}
            return len(outcomes) > 1
        return True

    def lessThan(self, left: Index, right: Index) -> bool:  # noqa: N802 - Qt naming
        grid = self.grid()
        a, b = grid.cell(left.row(), left.column()), grid.cell(right.row(), right.column())
        return self._key(a, left.row()) < self._key(b, right.row())

    def _key(self, cell: CellResult | None, row: int) -> tuple:
        # Cells not run (or failed) sort after those with a value, in case order.
        if self.sort_key == "case" or cell is None:
            return (1, row)
        if self.sort_key == "checks":
            value = sum(cell.checks.values()) if cell.checks else -1
        elif self.sort_key == "latency":
            value = cell.latency_ms if cell.latency_ms is not None else float("inf")
        elif self.sort_key == "cost":
            value = cell.cost_usd if cell.cost_usd is not None else float("inf")
        else:
            value = len(cell.text)
        return (0, value, row)
