"""The Analysis view's charts, drawn with QtCharts: bars with 95% whiskers, box plots, stacked
win/tie/loss bars. Every bar (or box) carries the `Link` to the outputs behind it; clicking it
emits `link_activated`, which the view passes on (its outputs get selected in the Results grid).

Bars run horizontally: variant names, which are often long ("B · empathetic steps"), are read
along the category axis without overlapping, first category at the top (the axis counts from the
bottom, so categories are drawn in reverse; `values` and `link_of` take the given order).

A chart whose categories and measures stay the same is refilled in place when the analysis
updates (bar values and whisker points replaced; no series, axis or widget rebuilt), so a run
streaming in costs the GUI thread well under a millisecond per chart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSet,
    QBoxPlotSeries,
    QBoxSet,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QHorizontalStackedBarSeries,
    QLineSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy

from lab.core.analysis.links import Link
from lab.gui.theme import is_dark

# One colour per measure, readable on light and dark backgrounds.
PALETTE = ("#4a72a8", "#d08c34", "#3b7d4f", "#8a5fb0", "#b5533c", "#5aa2ae", "#9c8a3c")
WIN, TIE, LOSS = "#3b7d4f", "#a8a8a8", "#b5533c"
ROW_HEIGHT = 26  # pixels per category row of a horizontal chart
BAR_WIDTH = 0.75  # of a category's row, shared by its measures


@dataclass
class Bars:
    """One measure across the categories: its values, optional 95% interval and links."""

    name: str
    values: list[float | None]
    lows: list[float | None] | None = None
    highs: list[float | None] | None = None
    links: list[Link | None] = field(default_factory=list)
    colour: str | None = None


class FigureChart(QChartView):
    """A chart of the analysis whose bars and boxes link to their outputs."""

    link_activated = Signal(object)  # the Link of the bar or box clicked

    def __init__(self, title: str, subtitle: str = ""):
        chart = QChart()
        chart.setTitle(title)
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.setBackgroundRoundness(0)
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        super().__init__(chart)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(280)
        self.subtitle = subtitle
        self._links: dict[int, list[Link | None]] = {}  # id(bar set) -> link per category
        self._box_links: dict[int, Link | None] = {}
        self._keep: list[object] = []  # the sets, so Python keeps them as long as the chart
        self.categories: list[str] = []
        # what is drawn, to refill it in place when only the numbers changed
        self._key: tuple | None = None
        self._sets: list[QBarSet] = []
        self._lines: dict[tuple[int, int], QLineSeries] = {}
        self._value_axis: QValueAxis | None = None
        self.apply_theme()

    # ---- look

    def apply_theme(self) -> None:
        chart = self.chart()
        dark = is_dark()
        chart.setTheme(QChart.ChartTheme.ChartThemeDark if dark else
                       QChart.ChartTheme.ChartThemeLight)
        chart.setBackgroundBrush(QColor("#1e1f22" if dark else "#ffffff"))
        title = QFont(self.font())
        title.setBold(True)
        chart.setTitleFont(title)
        chart.legend().setFont(self.font())

    def _fit_height(self, rows: int, legend: bool) -> None:
        self.setFixedHeight(int(max(150, 80 + rows * ROW_HEIGHT + (24 if legend else 0))))

    # ---- filling

    def clear(self) -> None:
        chart = self.chart()
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        self._links.clear()
        self._box_links.clear()
        self._keep.clear()
        self.categories = []
        self._key, self._sets, self._lines, self._value_axis = None, [], {}, None

    def _range(self, low: float, high: float, nice: bool) -> None:
        axis = self._value_axis
        if axis is not None and (axis.min(), axis.max()) != (low, high):
            axis.setRange(low, high)
            if nice:
                axis.applyNiceNumbers()

    def _refill(self, measures: Sequence[Bars], scale: float) -> None:
        """New numbers into the bars and whiskers drawn (same categories and measures)."""
        for bar_set, m in zip(self._sets, measures):
            for i, v in enumerate(m.values):
                x = 0.0 if v is None else v * scale
                if bar_set.at(i) != x:
                    bar_set.replace(i, x)
            self._links[id(bar_set)] = list(m.links)
        for (k, i), line in self._lines.items():
            m = measures[k]
            points = self._whisker_points(m.lows[i], m.highs[i], k, i, len(measures), scale)
            if [(p.x(), p.y()) for p in line.points()] != [(p.x(), p.y()) for p in points]:
                line.replace(points)

    def _axes(self, categories: Sequence[str], low: float, high: float, label: str,
              ticks: int = 6, nice: bool = False) -> tuple[QBarCategoryAxis, QValueAxis]:
        chart = self.chart()
        names = QBarCategoryAxis()
        names.append(list(categories))
        values = QValueAxis()
        values.setRange(low, high)
        values.setTickCount(ticks)
        if nice:
            values.applyNiceNumbers()
        values.setLabelFormat(label)
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.9))
        names.setLabelsFont(self.font())
        values.setLabelsFont(small)
        chart.addAxis(values, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(names, Qt.AlignmentFlag.AlignLeft)
        return names, values

    def bars(self, categories: Sequence[str], measures: Sequence[Bars], *, low: float,
             high: float, label: str = "%.0f", scale: float = 1.0, nice: bool = False) -> None:
        """Horizontal bars, one group per category, one bar per measure, with whiskers from
        each measure's lows to highs. ``scale`` multiplies every value (1 → 100: percent);
        ``nice``: round the axis to readable ticks."""
        given = list(categories)
        categories, measures = _top_down(categories, measures)
        key = ("bars", tuple(categories), tuple((m.name, m.colour) for m in measures),
               tuple(tuple(lo is not None and hi is not None for lo, hi in zip(m.lows, m.highs))
                     if m.lows is not None and m.highs is not None else () for m in measures),
               label, scale, nice)
        if key == self._key:  # a live update: the same chart with new numbers
            self._refill(measures, scale)
            self._range(low, high, nice)
            return
        self.clear()
        self._key = key
        chart = self.chart()
        self.categories = given
        series = QHorizontalBarSeries()
        series.setBarWidth(BAR_WIDTH)
        for k, m in enumerate(measures):
            bar_set = QBarSet(m.name)
            bar_set.append([0.0 if v is None else v * scale for v in m.values])
            bar_set.setColor(QColor(m.colour or PALETTE[k % len(PALETTE)]))
            bar_set.setBorderColor(QColor(m.colour or PALETTE[k % len(PALETTE)]))
            series.append(bar_set)
            self._links[id(bar_set)] = list(m.links)
            self._keep.append(bar_set)
            self._sets.append(bar_set)
        series.clicked.connect(self._bar_clicked)
        chart.addSeries(series)
        names, values = self._axes(categories, low, high, label, nice=nice)
        self._value_axis = values
        series.attachAxis(names)
        series.attachAxis(values)
        self._whiskers(categories, measures, scale, names, values)
        chart.legend().setVisible(len(measures) > 1)
        for marker in chart.legend().markers():
            if marker.series() is not series:
                marker.setVisible(False)
        self._fit_height(len(categories) * max(1, len(measures)) * 0.8 + 1,
                         len(measures) > 1)

    @staticmethod
    def _whisker_points(lo: float, hi: float, k: int, i: int, slots: int, scale: float
                        ) -> list[QPointF]:
        """|—| from lo to hi at category i, measure k of ``slots`` (QHorizontalBarSeries puts
        a group's sets bottom-up, set 0 lowest, in its bar width)."""
        y = i - BAR_WIDTH / 2 + (k + 0.5) * BAR_WIDTH / slots
        cap = min(0.12, BAR_WIDTH / slots / 3)
        return [QPointF(x * scale, yy) for x, yy in (
            (lo, y - cap), (lo, y + cap), (lo, y), (hi, y), (hi, y - cap), (hi, y + cap))]

    def _whiskers(self, categories: Sequence[str], measures: Sequence[Bars], scale: float,
                  names: QBarCategoryAxis, values: QValueAxis) -> None:
        """An |—| over each bar's interval: one line series per whisker, on the bars' axes."""
        chart = self.chart()
        pen = QPen(QColor("#e6e6e6" if is_dark() else "#202020"))
        pen.setWidthF(1.4)
        for k, m in enumerate(measures):
            if m.lows is None or m.highs is None:
                continue
            for i, (lo, hi) in enumerate(zip(m.lows, m.highs)):
                if lo is None or hi is None or i >= len(categories):
                    continue
                line = QLineSeries()
                line.setPen(pen)
                line.append(self._whisker_points(lo, hi, k, i, len(measures), scale))
                chart.addSeries(line)
                line.attachAxis(names)
                line.attachAxis(values)
                self._keep.append(line)
                self._lines[(k, i)] = line

    def stacked(self, categories: Sequence[str], measures: Sequence[Bars], *, label: str = "%.0f"
                ) -> None:
        """Horizontal stacked bars (e.g. wins, ties, losses per pair)."""
        given = list(categories)
        categories, measures = _top_down(categories, measures)
        totals = [sum(m.values[i] or 0.0 for m in measures) for i in range(len(categories))]
        key = ("stacked", tuple(categories), tuple((m.name, m.colour) for m in measures), label)
        if key == self._key:
            self._refill(measures, 1.0)
            self._range(0, max(1.0, max(totals, default=0.0)), False)
            return
        self.clear()
        self._key = key
        chart = self.chart()
        self.categories = given
        series = QHorizontalStackedBarSeries()
        series.setBarWidth(0.6)
        for k, m in enumerate(measures):
            bar_set = QBarSet(m.name)
            bar_set.append([v or 0.0 for v in m.values])
            bar_set.setColor(QColor(m.colour or PALETTE[k % len(PALETTE)]))
            bar_set.setLabelColor(QColor("#ffffff"))
            series.append(bar_set)
            self._links[id(bar_set)] = list(m.links)
            self._keep.append(bar_set)
            self._sets.append(bar_set)
        top = max(totals, default=0.0)
        series.setLabelsVisible(True)
        series.setLabelsFormat("@value")
        series.clicked.connect(self._bar_clicked)
        chart.addSeries(series)
        names, values = self._axes(categories, 0, max(1.0, top), label,
                                   ticks=min(6, int(max(1.0, top)) + 1))
        self._value_axis = values
        series.attachAxis(names)
        series.attachAxis(values)
        chart.legend().setVisible(True)
        self._fit_height(len(categories) + 1, True)

    def boxes(self, categories: Sequence[str], boxes: Sequence[tuple[float, ...] | None],
              links: Sequence[Link | None], *, high: float, label: str = "%.0f") -> None:
        """One box per category from five values (p5, p25, p50, p75, p95), vertically: the
        box plot series has no horizontal form."""
        key = ("boxes", tuple(categories), tuple(b is not None for b in boxes), label)
        if key == self._key:
            for box, values, link in zip(
                    [s for s in self._keep if isinstance(s, QBoxSet)], boxes, links):
                for i, v in enumerate(values or ()):
                    if box.at(i) != v:
                        box.setValue(i, v)
                self._box_links[id(box)] = link
            self._range(0, max(1.0, high), True)
            return
        self.clear()
        self._key = key
        chart = self.chart()
        self.categories = list(categories)
        series = QBoxPlotSeries()
        series.setName("p5 · p25 · median · p75 · p95")
        series.setBoxWidth(0.45)
        colour = QColor(PALETTE[0])
        colour.setAlpha(150)
        series.setBrush(colour)
        for name, values, link in zip(categories, boxes, links):
            box = QBoxSet(name)
            if values is not None:
                box.append(list(values))
            series.append(box)
            self._box_links[id(box)] = link
            self._keep.append(box)
        series.clicked.connect(self._box_clicked)
        chart.addSeries(series)
        names = QBarCategoryAxis()
        names.append(list(categories))
        values_axis = QValueAxis()
        values_axis.setRange(0, max(1.0, high))
        values_axis.setTickCount(5)
        values_axis.applyNiceNumbers()
        values_axis.setLabelFormat(label)
        self._value_axis = values_axis
        chart.addAxis(names, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(values_axis, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(names)
        series.attachAxis(values_axis)
        chart.legend().setVisible(True)
        names.setLabelsAngle(-20 if max((len(c) for c in categories), default=0) * len(
            categories) > 60 else 0)
        self.setFixedHeight(300)

    # ---- reading back (tests, tooltips)

    def bar_sets(self) -> list[QBarSet]:
        return [s for s in self._keep if isinstance(s, QBarSet)]

    def values(self, name: str) -> list[float]:
        """The values of the measure ``name`` as drawn, category by category (given order)."""
        bar_set = next(s for s in self.bar_sets() if s.label() == name)
        return [bar_set.at(i) for i in reversed(range(bar_set.count()))]

    def box_values(self) -> list[list[float]]:
        return [[s.at(i) for i in range(5)] for s in self._keep if isinstance(s, QBoxSet)]

    def link_of(self, name: str, index: int) -> Link | None:
        bar_set = next(s for s in self.bar_sets() if s.label() == name)
        links = self._links.get(id(bar_set), [])
        drawn = len(self.categories) - 1 - index
        return links[drawn] if 0 <= drawn < len(links) else None

    def click_bar(self, name: str, index: int) -> None:
        """What a click on the bar of category ``index`` does (keyboard users have tables)."""
        bar_set = next(s for s in self.bar_sets() if s.label() == name)
        self._bar_clicked(len(self.categories) - 1 - index, bar_set)

    def bar_position(self, name: str, index: int):
        """Where the bar of category ``index`` is drawn (its middle), in viewport coordinates,
        for a real mouse click."""
        index = len(self.categories) - 1 - index
        bar_set = next(s for s in self.bar_sets() if s.label() == name)
        series = next(s for s in self.chart().series() if isinstance(s, (
            QHorizontalBarSeries, QHorizontalStackedBarSeries)))
        sets = series.barSets()
        k = next(i for i, s in enumerate(sets) if s is bar_set)
        width = series.barWidth()
        offset = 0.0 if isinstance(series, QHorizontalStackedBarSeries) else \
            -width / 2 + (k + 0.5) * width / len(sets)
        start = sum(s.at(index) for s in sets[:k]) if isinstance(
            series, QHorizontalStackedBarSeries) else 0.0
        point = self.chart().mapToPosition(QPointF(start + bar_set.at(index) / 2,
                                                   index + offset), series)
        return self.mapFromScene(self.chart().mapToScene(point))

    # ---- clicks

    def _bar_clicked(self, index: int, bar_set: QBarSet) -> None:
        links = self._links.get(id(bar_set), [])
        if 0 <= index < len(links) and links[index] is not None:
            self.link_activated.emit(links[index])

    def _box_clicked(self, box: QBoxSet) -> None:
        link = self._box_links.get(id(box))
        if link is not None:
            self.link_activated.emit(link)


def _top_down(categories: Sequence[str], measures: Sequence[Bars]
              ) -> tuple[list[str], list[Bars]]:
    """Categories and each measure's values in the order a horizontal chart draws them: the
    last category lowest, so the first one reads at the top."""
    def rev(xs: Sequence | None) -> list | None:
        return None if xs is None else list(reversed(xs))

    return list(reversed(categories)), [
        Bars(m.name, rev(m.values), rev(m.lows), rev(m.highs), rev(m.links) or [], m.colour)
        for m in measures]


def connect_all(charts: Sequence[FigureChart], slot: Callable[[Link], None]) -> None:
    for chart in charts:
        chart.link_activated.connect(slot)
