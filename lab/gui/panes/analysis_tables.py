"""The Analysis view's tables: the consistency heat map (test cases × variants, one colour per
agreement), the A/B verdicts pair by pair, and a judge-against-human confusion table.

Each row or cell knows the `Link` to its outputs (`link_at`), so the view can select them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from lab.core.analysis.comparisons import Comparison
from lab.core.analysis.kappa import Kappa
from lab.core.analysis.links import Link
from lab.core.analysis.paired import PairedDifference
from lab.core.analysis.sample_agreement import AgreementCell, ConsistencyReport
from lab.core.analysis.significance import format_p
from lab.gui.panes.pane import Index
from lab.gui.theme import is_dark

MEASURES = (("normalised", "Text (whitespace normalised)"), ("exact", "Exact text"),
            ("checks", "Check outcomes"))
VALUE = Qt.ItemDataRole.UserRole + 1  # the agreement as a float (None: nothing to compare)


def agreement_colour(value: float | None) -> QColor:
    """Red (samples disagree) through pale yellow to green (every sample agrees)."""
    if value is None:
        return QColor("#3a3c40" if is_dark() else "#e9eaec")
    low, mid, high = (QColor("#c0392b"), QColor("#f1e3a0"), QColor("#2e7d4f"))
    a, b, t = (low, mid, value * 2) if value < 0.5 else (mid, high, (value - 0.5) * 2)
    mix = [int(x + (y - x) * t) for x, y in ((a.red(), b.red()), (a.green(), b.green()),
                                             (a.blue(), b.blue()))]
    return QColor(*mix)


class HeatMapModel(QAbstractTableModel):
    """Test cases down, variants across; each cell the chance two of its samples agree."""

    def __init__(self) -> None:
        super().__init__()
        self.measure = "normalised"
        self._cases: list[Any] = []
        self._labels: list[str] = []
        self._variants: list[str] = []
        self._cells: dict[tuple[int, int], AgreementCell] = {}

    def set_report(self, report: ConsistencyReport | None, variants: Sequence[str]) -> None:
        cases: dict[Any, str] = {}
        cells = report.cells if report else []
        for cell in cells:
            cases.setdefault(cell.case, cell.case_label)
        order = sorted(cases, key=lambda c: (not isinstance(c, int), c if isinstance(c, int)
                                             else str(c)))
        shape = (order, list(variants))
        row_of = {case: r for r, case in enumerate(order)}
        column_of = {v: c for c, v in enumerate(variants)}
        found = {(row_of[cell.case], column_of[cell.variant]): cell for cell in cells
                 if cell.variant in column_of}
        if shape == (self._cases, self._variants):  # a live update: repaint, keep the view
            self._cells = found
            if order and variants:
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(len(order) - 1, len(variants) - 1))
            return
        self.beginResetModel()
        self._cases, self._variants = order, list(variants)
        self._labels = [cases[c] for c in order]
        self._cells = found
        self.endResetModel()

    def set_measure(self, measure: str) -> None:
        self.measure = measure
        if self._cases and self._variants:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self._cases) - 1, len(self._variants) - 1))

    def cell(self, row: int, column: int) -> AgreementCell | None:
        return self._cells.get((row, column))

    def value(self, row: int, column: int) -> float | None:
        cell = self.cell(row, column)
        return None if cell is None else getattr(cell, self.measure)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._cases)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._variants)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._variants[section]
        return self._labels[section]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        cell = self.cell(index.row(), index.column())
        value = None if cell is None else getattr(cell, self.measure)
        if role == Qt.ItemDataRole.DisplayRole:
            if cell is None:
                return ""
            return "–" if value is None else f"{value:.0%}"
        if role == VALUE:
            return value
        if role == Qt.ItemDataRole.ToolTipRole and cell is not None:
            parts = [f"{cell.variant} on {cell.case_label}: {cell.samples} sample(s)"]
            for key, name in MEASURES:
                v = getattr(cell, key)
                parts.append(f"{name}: {'–' if v is None else f'{v:.0%}'}")
            return "\n".join(parts) + "\nClick to see the samples side by side."
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None


class HeatMapDelegate(QStyledItemDelegate):
    """Fills a heat-map cell with its agreement's colour and writes the percentage on it."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        value = index.data(VALUE)
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        painter.save()
        rect = QRect(option.rect.adjusted(1, 1, -1, -1))
        colour = agreement_colour(value) if text else option.palette.color(QPalette.ColorRole.Base)
        painter.fillRect(rect, colour)
        if option.state & QStyle.StateFlag.State_Selected:
            painter.setPen(option.palette.color(QPalette.ColorRole.Highlight))
            painter.drawRect(rect.adjusted(0, 0, -1, -1))
        if value is None:
            painter.setPen(option.palette.color(QPalette.ColorRole.PlaceholderText))
        else:  # dark text on the pale middle of the scale, white on its ends
            painter.setPen(QColor("#1d1d1d") if colour.lightnessF() > 0.6 else QColor("#ffffff"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


def _difference(d: PairedDifference | None) -> tuple[str, str, str]:
    """(difference, interval, p) in words, B − A."""
    if d is None or d.difference is None:
        return "", "", ""
    points = d.measure == "pass rate"

    def fmt(x: float | None) -> str:
        if x is None:
            return "?"
        return f"{x * 100:+.0f} pts" if points else f"{x:+.2f}"

    interval = "" if d.low is None or d.high is None else f"{fmt(d.low)} to {fmt(d.high)}"
    return fmt(d.difference), interval, format_p(d.p_value)


class VerdictModel(QAbstractTableModel):
    """Every pair's verdicts, one row per measure: B − A, the 95% interval, p and the verdict."""

    HEADERS = ("Pair", "Measure", "Cases", "B − A", "95% interval", "p")

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[tuple[Comparison, str, Any]] = []

    def set_comparisons(self, comparisons: Sequence[Comparison]) -> None:
        self.beginResetModel()
        self._rows = []
        for c in comparisons:
            for name, d in (("pass rate", c.pass_rate), ("judge score", c.judge_score),
                            ("human score", c.human_score)):
                if d is not None:
                    self._rows.append((c, name, d))
            if c.blind is not None:
                self._rows.append((c, "blind judgements", c.blind))
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def row_text(self, row: int) -> list[str]:
        c, name, d = self._rows[row]
        pair = f"{c.a} → {c.b}"
        if name == "blind judgements":
            s = d.summary
            rate = "" if s.win_rate is None else f"{c.b} wins {s.win_rate:.0%}"
            return [pair, name, f"{s.wins + s.ties + s.losses} judged",
                    f"{s.wins}–{s.ties}–{s.losses}", rate, format_p(s.p_value)]
        diff, interval, p = _difference(d)
        return [pair, name, str(d.cases), diff, interval, p]

    def verdict(self, row: int) -> str:
        _c, name, d = self._rows[row]
        return d.summary.verdict if name == "blind judgements" else d.verdict

    def link_at(self, row: int, selection: dict[str, Any] | None = None) -> Link:
        c, name, d = self._rows[row]
        if name == "blind judgements":
            return d.link
        return Link.select(f"outputs of {c.a} and {c.b}", **(selection or {}),
                           variants=[c.a, c.b])

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.row_text(index.row())[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.verdict(index.row())
        if role == Qt.ItemDataRole.ForegroundRole and index.column() >= 3:
            _c, name, d = self._rows[index.row()]
            significant = d.significant if name != "blind judgements" else \
                d.summary.more_needed is None and d.summary.p_value < 0.05
            if significant:
                return QColor("#5fb37a" if is_dark() else "#2e7d32")
        return None


def confusion_html(kappa: Kappa, rows_label: str, columns_label: str) -> str:
    """A confusion table (rows: the judge, columns: the human) as HTML, the diagonal shaded."""
    def name(c: Any) -> str:
        if isinstance(c, bool):  # (1 == True: a score of 1 is no pass)
            return "pass / good" if c else "fail / not good"
        return str(c)

    shade = "#2f4a36" if is_dark() else "#e3f1e6"
    head = "".join(f"<th style='padding:2px 10px'>{name(c)}</th>" for c in kappa.categories)
    body = []
    for i, (category, row) in enumerate(zip(kappa.categories, kappa.table)):
        cells = "".join(
            f"<td align='center' style='padding:2px 10px;"
            f"{f'background:{shade};' if i == j else ''}'>{n}</td>" for j, n in enumerate(row))
        body.append(f"<tr><th align='left' style='padding:2px 10px'>{name(category)}</th>"
                    f"{cells}</tr>")
    return (f"<table cellspacing='0' border='1' style='margin:4px 0 10px 0;border-color:#c8c8c8'>"
            f"<tr><th align='left' style='padding:2px 10px'>{rows_label} ↓ · {columns_label} →"
            f"</th>{head}</tr>{''.join(body)}</table>")
