"""The Analysis view: what a run means, beside the results. Tabs for the decision, quality per
variant, the A/B verdicts, cost and speed, consistency across samples, the LLM judge against
people, and failure modes; every bar, cell and figure links to the outputs behind it.

The view only draws an `Analysis` it is given (`show_analysis`); the `AnalysisController`
computes it on the store thread and decides when. Only the tab in sight is drawn; the others
are drawn when they are opened, so a live update costs one tab's redraw.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from datetime import datetime

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from lab.core.analysis.analyse import Analysis
from lab.core.analysis.kappa import describe
from lab.core.analysis.links import Link
from lab.gui.panes.analysis_charts import LOSS, TIE, WIN, Bars, FigureChart
from lab.gui.panes.analysis_decision import DecisionPanel
from lab.gui.panes.analysis_tables import (
    MEASURES,
    HeatMapDelegate,
    HeatMapModel,
    VerdictModel,
    confusion_html,
)
from lab.gui.panes.pane import StackedPane
from lab.gui.theme import is_dark
from lab.gui.widgets import EmptyState, PaneHeader

TABS = ("Decision", "Quality", "A/B", "Cost", "Consistency", "Judge", "Failures")
TAB_TIPS = (("The five questions and the recommendation: keep prompting, add retrieval, collect "
             "examples or fine-tune"), "Pass rates and scores per variant, with 95% intervals",
            "The A/B verdict for every pair of variants, and blind judgements",
            "Latency, time to first token, cost and tokens per variant",
            "How often repeated samples of a case agree", "Does the LLM judge agree with you?",
            "What goes wrong, per variant: tags and failed checks")
MAX_FAILURE_MODES = 12
MAX_VERDICTS = 8  # pairs told in words; the table has them all


def _note(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setObjectName("PaneCaption")
    label.setWordWrap(True)
    label.setContentsMargins(6, 2, 6, 2)
    return label


def _page(*widgets: QWidget) -> tuple[QScrollArea, QVBoxLayout]:
    body = QWidget()
    layout = QVBoxLayout(body)
    layout.setContentsMargins(6, 6, 6, 6)
    layout.setSpacing(8)
    for w in widgets:
        layout.addWidget(w)
    layout.addStretch(1)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(body)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    return scroll, layout


def _browser() -> QTextBrowser:
    browser = QTextBrowser()
    browser.setOpenLinks(False)
    return browser


class AnalysisPane(StackedPane):
    """Charts and verdicts of the run in the Results grid; links select their outputs."""

    link_activated = Signal(object)  # a Link: show these outputs
    samples_requested = Signal(object)  # an AgreementCell: show its samples side by side
    options_changed = Signal()  # calls a month or the meaning of "good" changed

    def __init__(self) -> None:
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.setUsesScrollButtons(True)
        super().__init__(
            PaneHeader("Analysis"),
            self.tabs,
            EmptyState("Nothing to analyse yet",
                       "Run the variants: pass rates with their intervals, the A/B verdict, "
                       "consistency across samples, the LLM judge against your ratings and the "
                       "prompt / retrieve / fine-tune decision appear here and follow the run "
                       "as it streams in."),
        )
        self.analysis: Analysis | None = None
        self._drawn: set[int] = set()
        self._steps: dict[int, Iterator[None]] = {}  # tabs still being drawn

        # Decision
        self.decision = DecisionPanel()
        self.decision.link_activated.connect(self.link_activated.emit)
        self.decision.options_changed.connect(self.options_changed.emit)
        self.tabs.addTab(self.decision, TABS[0])

        # Quality
        self.pass_chart = FigureChart("Pass rate (every check passed), 95% interval")
        self.checks_chart = FigureChart("Pass rate per check")
        self.scores_chart = FigureChart("Mean score 1–5: LLM judge and people, 95% interval")
        self.approval_chart = FigureChart("Rated good by people (≥ 4 or thumbs up), 95% interval")
        self.quality_note = _note()
        page, _ = _page(self.quality_note, self.pass_chart, self.checks_chart, self.scores_chart,
                        self.approval_chart)
        self.tabs.addTab(page, TABS[1])

        # A/B
        self.verdicts_text = QLabel()
        self.verdicts_text.setWordWrap(True)
        self.verdicts_text.setTextFormat(Qt.TextFormat.RichText)
        self.verdicts_text.setContentsMargins(6, 2, 6, 2)
        self.verdict_model = VerdictModel()
        self.verdict_table = QTableView()
        self.verdict_table.setModel(self.verdict_model)
        self.verdict_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verdict_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verdict_table.verticalHeader().setVisible(False)
        self.verdict_table.horizontalHeader().setStretchLastSection(True)
        self.verdict_table.setWordWrap(False)
        self.verdict_table.setSizeAdjustPolicy(QTableView.SizeAdjustPolicy.AdjustToContents)
        self.verdict_table.horizontalHeader().setResizeContentsPrecision(30)  # rows measured
        self.verdict_table.clicked.connect(self._verdict_clicked)
        self.blind_chart = FigureChart("Blind judgements: wins, ties and losses of the second")
        page, _ = _page(self.verdicts_text, self.verdict_table, self.blind_chart)
        self.tabs.addTab(page, TABS[2])

        # Cost & speed
        self.latency_chart = FigureChart("Latency of successful calls (ms)")
        self.latency_note = _note()
        self.cost_note = _note()
        self.ttft_chart = FigureChart("Time to first token, median (ms)")
        self.cost_chart = FigureChart("Cost per 1,000 outputs (USD)")
        self.tokens_chart = FigureChart("Tokens per output (input + output)")
        page, _ = _page(self.latency_chart, self.latency_note, self.ttft_chart, self.cost_note,
                        self.cost_chart, self.tokens_chart)
        self.tabs.addTab(page, TABS[3])

        # Consistency
        self.consistency_note = _note()
        self.agreement_chart = FigureChart("How often two samples of a case agree, 95% interval")
        self.json_text = _note()
        self.heat_measure = QComboBox()
        for key, label in MEASURES:
            self.heat_measure.addItem(label, key)
        self.heat_model = HeatMapModel()
        self.heat_map = QTableView()
        self.heat_map.setModel(self.heat_model)
        self.heat_map.setItemDelegate(HeatMapDelegate(self.heat_map))
        self.heat_map.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.heat_map.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.heat_map.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.heat_map.horizontalHeader().setMinimumSectionSize(70)
        self.heat_map.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.heat_map.verticalHeader().setMaximumWidth(260)
        self.heat_map.setMinimumHeight(260)
        self.heat_map.clicked.connect(self._heat_clicked)
        self.heat_measure.currentIndexChanged.connect(
            lambda _i: self.heat_model.set_measure(self.heat_measure.currentData()))
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(QLabel("Heat map of cases × variants: samples agree on"))
        row_layout.addWidget(self.heat_measure)
        row_layout.addStretch(1)
        page, layout = _page(self.consistency_note, self.agreement_chart, self.json_text, row)
        layout.takeAt(layout.count() - 1)  # the heat map takes the rest of the page
        layout.addWidget(self.heat_map, 1)
        self.tabs.addTab(page, TABS[4])

        # Judge vs human
        self.judge_text = _browser()
        self.judge_text.anchorClicked.connect(self._judge_anchor)
        self._judge_links: list[Link] = []
        self.tabs.addTab(self.judge_text, TABS[5])

        # Failure modes
        self.failures_note = _note()
        self.failures_chart = FigureChart("Failure modes per variant (outputs)")
        page, _ = _page(self.failures_note, self.failures_chart)
        self.tabs.addTab(page, TABS[6])

        for index, tip in enumerate(TAB_TIPS):
            self.tabs.setTabToolTip(index, tip)
        for chart in self.charts():
            chart.link_activated.connect(self.link_activated.emit)
        self.tabs.currentChanged.connect(lambda _i: self._draw_current())
        self.show_empty(True)

    # ---- what the controller calls

    def charts(self) -> list[FigureChart]:
        return [self.pass_chart, self.checks_chart, self.scores_chart, self.approval_chart,
                self.blind_chart, self.latency_chart, self.ttft_chart, self.cost_chart,
                self.tokens_chart, self.agreement_chart, self.failures_chart]

    def options(self) -> tuple[int, str]:
        return self.decision.options()

    def show_message(self, title: str, body: str) -> None:
        self.analysis = None
        self.empty.title.setText(title)
        self.empty.body.setText(body)
        self.header.caption.setText("")
        self.show_empty(True)

    def show_analysis(self, analysis: Analysis, live: bool = False) -> None:
        """Draw this analysis (the tab in sight now, the others when opened)."""
        self.analysis = analysis
        self._drawn.clear()
        when = datetime.now().strftime("%H:%M:%S")
        self.header.caption.setText(
            f"{analysis.scope} · {analysis.calls:,} outputs · "
            f"{'updating as the run streams · ' if live else ''}{when}")
        if self.stack.currentWidget() is not self.content:
            self.show_empty(False)  # the tabs appear now, their content a moment later
            QTimer.singleShot(0, self._draw_current)
        else:
            self._draw_current()

    def draw_all(self) -> None:
        """Draw every tab now, all at once (tests and screenshots)."""
        for index in range(self.tabs.count()):
            self._draw(index, at_once=True)

    # ---- drawing

    def _draw_current(self) -> None:
        self._draw(self.tabs.currentIndex())

    def _draw(self, index: int, at_once: bool = False) -> None:
        """Draw a tab. A tab of several charts draws one chart per turn of the event loop
        (each drawing function yields between its charts), so building them the first time
        never holds the GUI thread for long."""
        if self.analysis is None or index in self._drawn:
            return
        self._drawn.add(index)
        draw: list[Callable[[Analysis], Iterator[None] | None]] = [
            self.decision.show_analysis, self._draw_quality, self._draw_ab, self._draw_cost,
            self._draw_consistency, self._draw_judges, self._draw_failures]
        steps = draw[index](self.analysis)
        if steps is not None:
            self._steps[index] = steps
            self._next_step(index, steps, at_once)

    def _next_step(self, index: int, steps: Iterator[None], at_once: bool = False) -> None:
        while self._steps.get(index) is steps:  # a newer analysis replaces these steps
            try:
                next(steps)
            except StopIteration:
                del self._steps[index]
                return
            if not at_once:
                QTimer.singleShot(0, lambda: self._next_step(index, steps))
                return

    def _draw_quality(self, a: Analysis) -> Iterator[None]:
        names = [v.name for v in a.variants]
        links = [v.link for v in a.variants]
        passing = [v.pass_rate for v in a.variants]
        shown = any(passing)
        self.pass_chart.setVisible(shown)
        if shown:
            self.pass_chart.bars(names, [Bars(
                "pass rate", [p.value if p else None for p in passing],
                [p.low if p else None for p in passing], [p.high if p else None for p in passing],
                links)], low=0, high=100, label="%.0f%%", scale=100)
        yield
        checks = sorted({c for v in a.variants for c in v.checks})
        self.checks_chart.setVisible(len(checks) > 1)
        if len(checks) > 1:
            self.checks_chart.bars(names, [Bars(
                check, [v.checks[check].value if check in v.checks else None for v in a.variants],
                links=links) for check in checks], low=0, high=100, label="%.0f%%", scale=100)
        yield
        judge = [v.judge_score for v in a.variants]
        human = [v.human_score for v in a.variants]
        measures = [Bars(name, [m.mean if m else None for m in ms],
                         [m.low if m else None for m in ms], [m.high if m else None for m in ms],
                         links, colour)
                    for name, ms, colour in (("LLM judge", judge, "#d08c34"),
                                             ("people", human, "#3b7d4f")) if any(ms)]
        self.scores_chart.setVisible(bool(measures))
        if measures:
            self.scores_chart.bars(names, measures, low=0, high=5, label="%.1f")
        yield
        approval = [v.approval for v in a.variants]
        self.approval_chart.setVisible(any(approval))
        if any(approval):
            self.approval_chart.bars(names, [Bars(
                "rated good", [p.value if p else None for p in approval],
                [p.low if p else None for p in approval],
                [p.high if p else None for p in approval], links, "#3b7d4f")],
                low=0, high=100, label="%.0f%%", scale=100)
        cases = max((v.cases for v in a.variants), default=0)
        samples = max((v.max_samples for v in a.variants), default=0)
        self.quality_note.setText(
            f"{len(names)} variant(s) over {cases} test case(s), up to {samples} sample(s) each. "
            "Every rate is the mean of each case's share and every interval counts cases, not "
            "outputs. Click a bar to select its outputs in the Results grid (Ctrl+click: in "
            "History).")

    def _draw_ab(self, a: Analysis) -> Iterator[None]:
        def decisive(c) -> float:  # the most telling pairs first: the lowest p of their verdicts
            found = [d.p_value for d in (c.pass_rate, c.judge_score, c.human_score) if d]
            if c.blind is not None:
                found.append(c.blind.summary.p_value)
            return min(found, default=1.0)

        lines = []
        ranked = sorted(a.comparisons, key=decisive)
        for c in ranked[:MAX_VERDICTS]:
            verdicts = [f"<i>{d.measure}</i>: {html.escape(d.verdict)}"
                        for d in (c.pass_rate, c.judge_score, c.human_score) if d is not None]
            if c.blind is not None:
                verdicts.append(f"<i>blind judgements</i>: {html.escape(c.blind.summary.verdict)}")
            if verdicts:
                lines.append(f"<p style='margin:2px 0 6px 0'><b>{html.escape(c.a)} → "
                             f"{html.escape(c.b)}</b><br>{'<br>'.join(verdicts)}</p>")
        if len(ranked) > MAX_VERDICTS:
            lines.append(f"<p style='margin:0'>… and {len(ranked) - MAX_VERDICTS} more pairs, "
                         "in the table below.</p>")
        self.verdicts_text.setText("".join(lines) or "Two variants are needed for a verdict.")
        yield
        rows = self.verdict_model.rowCount()
        self.verdict_model.set_comparisons(a.comparisons)
        if self.verdict_model.rowCount() != rows:  # sized once, not at every live update
            self.verdict_table.resizeColumnsToContents()
        yield
        blind = [c for c in a.comparisons if c.blind is not None]
        self.blind_chart.setVisible(bool(blind))
        if blind:
            pairs = [f"{c.b} vs {c.a}" for c in blind]
            links = [c.blind.link for c in blind]
            self.blind_chart.stacked(pairs, [
                Bars("won", [c.blind.summary.wins for c in blind], links=links, colour=WIN),
                Bars("tie", [c.blind.summary.ties for c in blind], links=links, colour=TIE),
                Bars("lost", [c.blind.summary.losses for c in blind], links=links,
                     colour=LOSS)])

    def _draw_cost(self, a: Analysis) -> Iterator[None]:
        names = [v.name for v in a.variants]
        links = [v.link for v in a.variants]
        boxes = [tuple(v.latency_ms[p] for p in (5, 25, 50, 75, 95))
                 if all(p in v.latency_ms for p in (5, 25, 50, 75, 95)) else None
                 for v in a.variants]
        top = max((b[-1] for b in boxes if b), default=0.0)
        self.latency_chart.setVisible(any(boxes))
        if any(boxes):
            self.latency_chart.boxes(names, boxes, links, high=top * 1.08)
        self.latency_note.setText(" · ".join(
            f"{v.name}: median {b[2]:,.0f} ms, p95 {b[4]:,.0f} ms"
            for v, b in zip(a.variants, boxes) if b) if any(boxes) else "No successful call has a latency yet.")
        yield
        ttft = [v.ttft_p50_ms for v in a.variants]
        self.ttft_chart.setVisible(any(t is not None for t in ttft))
        if any(t is not None for t in ttft):
            self.ttft_chart.bars(names, [Bars("median TTFT", ttft, links=links)], low=0,
                                 high=max(t or 0 for t in ttft) * 1.1 or 1, nice=True)
        yield
        per_1000 = [v.cost_usd / v.calls * 1000 if v.cost_usd is not None and v.calls else None
                    for v in a.variants]
        priced = any(c for c in per_1000)
        self.cost_chart.setVisible(priced)
        self.cost_note.setText("" if priced else "No cost to show: the calls were free (local "
                               "models or answers from the cache) or their model has no price.")
        self.cost_note.setVisible(not priced)
        if priced:
            self.cost_chart.bars(names, [Bars("USD per 1,000 outputs", per_1000, links=links,
                                              colour="#8a5fb0")], low=0,
                                 high=max(c or 0 for c in per_1000) * 1.1 or 1, label="%.3f",
                                 nice=True)
        yield
        tokens = [v.tokens / v.calls if v.calls else None for v in a.variants]
        self.tokens_chart.setVisible(any(t for t in tokens))
        if any(t for t in tokens):
            self.tokens_chart.bars(names, [Bars("tokens per output", tokens, links=links,
                                                colour="#5aa2ae")], low=0,
                                   high=max(t or 0 for t in tokens) * 1.1 or 1, nice=True)

    def _draw_consistency(self, a: Analysis) -> Iterator[None]:
        report = a.consistency
        names = [v.name for v in a.variants]
        links = {v.name: v.link for v in a.variants}
        if report is None:
            self.consistency_note.setText(
                "Every case has one sample. Set Samples per cell above 1 in the toolbar and run "
                "again to see how consistent each variant is across samples of the same case.")
            self.agreement_chart.hide()
            self.heat_map.hide()
            self.json_text.setText("")
            self.heat_model.set_report(None, [])
            return
        self.consistency_note.setText(
            "The chance two samples of a case agree, averaged over cases with two or more "
            "samples. Click a heat-map cell to read its samples side by side.")
        self.agreement_chart.show()
        self.heat_map.show()
        order = [c.variant for c in report.variants]
        by = {c.variant: c for c in report.variants}
        measures = []
        for key, label in (("exact", "exact text"), ("normalised", "normalised text"),
                           ("checks", "check outcomes")):
            values = [getattr(by[n], key) for n in order]
            if not any(v is not None and v.mean is not None for v in values):
                continue
            measures.append(Bars(label, [v.mean if v else None for v in values],
                                 [v.low if v else None for v in values],
                                 [v.high if v else None for v in values],
                                 [links.get(n) for n in order]))
        self.agreement_chart.bars(order, measures, low=0, high=100, label="%.0f%%", scale=100)
        yield
        fields = []
        for c in report.variants:
            if c.json_fields:
                shown = ", ".join(f"{name} {f.mean:.0%}" for name, f in c.json_fields.items()
                                  if f.mean is not None)
                fields.append(f"{c.variant} (JSON in {c.json_share:.0%} of outputs): {shown}")
        self.json_text.setText("JSON fields agree — " + "; ".join(fields) if fields else "")
        self.json_text.setVisible(bool(fields))
        self.heat_model.set_report(report, names)

    def _draw_judges(self, a: Analysis) -> None:
        self._judge_links = []

        def anchor(text: str, link: Link) -> str:
            self._judge_links.append(link)
            return f"<a href='link:{len(self._judge_links) - 1}'>{html.escape(text)}</a>"

        warn = "#e0a050" if is_dark() else "#9a5b00"
        if not a.judge_agreement:
            self.judge_text.setHtml(
                "<p>No output has both an LLM-judge verdict and a rating of yours yet. Add a "
                "judge check to the project, run, and rate some outputs (keys 1–5, + and −): "
                "this tab then says whether the judge can stand in for you.</p>")
            return
        parts = []
        for j in a.judge_agreement:
            parts.append(f"<h3 style='margin-bottom:2px'>{html.escape(j.check)}</h3>")
            for label, k, rows, cols in (
                    ("Score 1–5 against your 1–5 rating (quadratic-weighted kappa)", j.scores,
                     "judge", "you"),
                    ("Pass against your good (≥ 4 or thumbs up), Cohen's kappa", j.pass_fail,
                     "judge", "you")):
                if k is None:
                    continue
                value = "undefined" if k.value is None else f"{k.value:.2f}"
                interval = "" if k.low is None else f" (95% CI {k.low:.2f} to {k.high:.2f})"
                parts.append(f"<p style='margin:4px 0'><b>{label}</b>: κ = {value}{interval}, "
                             f"n = {k.n} — {describe(k.value)} agreement.</p>")
                for w in k.warnings:
                    parts.append(f"<p style='margin:2px 0;color:{warn}'>⚠ {html.escape(w)}</p>")
                parts.append(confusion_html(k, rows, cols))
            parts.append("<p style='margin:2px 0'>"
                         + anchor(f"{len(j.link.call_ids)} outputs rated by both", j.link)
                         + " · " + anchor(f"{len(j.disagreements.call_ids)} where they "
                                          "disagree on pass/good", j.disagreements) + "</p>")
        self.judge_text.setHtml("".join(parts))

    def _draw_failures(self, a: Analysis) -> None:
        totals: dict[tuple[str, str], int] = {}
        kinds: dict[tuple[str, str], str] = {}
        for f in a.failure_modes:
            for m in f.modes:
                key = (m.source, m.name)
                totals[key] = totals.get(key, 0) + m.count
                kinds[key] = m.kind
        top = sorted(totals, key=lambda k: (-totals[k], k))[:MAX_FAILURE_MODES]
        if not top:
            self.failures_note.setText(
                "No failures yet: no check failed, and no output you rated below 4 carries a "
                "tag. Tag outputs with what went wrong (key T) to see failure modes here.")
            self.failures_chart.hide()
            return
        self.failures_chart.show()
        labels = [f"{'tag' if s == 'tag' else 'check'}: {n} · {kinds[(s, n)]}" for s, n in top]
        measures = []
        for f in a.failure_modes:
            modes = {(m.source, m.name): m for m in f.modes}
            if not modes:
                continue
            measures.append(Bars(f.variant, [modes[k].count if k in modes else None for k in top],
                                 links=[modes[k].link if k in modes else None for k in top]))
        self.failures_chart.bars(labels, measures, low=0,
                                 high=max(totals[k] for k in top) * 1.1, label="%.0f", nice=True)
        self.failures_note.setText(
            "Tags you put on outputs you did not rate good, and the checks outputs failed. "
            "Knowledge-type failures (made-up or missing facts) call for retrieval; "
            "behaviour-type ones (format, tone, length) for prompting and, failing that, a tune.")

    # ---- clicks

    def _verdict_clicked(self, index: QModelIndex) -> None:
        if self.analysis is not None and index.isValid():
            rules = {"runs": self.analysis.runs}
            self.link_activated.emit(self.verdict_model.link_at(index.row(), rules))

    def _heat_clicked(self, index: QModelIndex) -> None:
        cell = self.heat_model.cell(index.row(), index.column())
        if cell is not None:
            self.samples_requested.emit(cell)

    def _judge_anchor(self, url) -> None:
        text = url.toString()
        if text.startswith("link:") and text[5:].isdigit() and int(text[5:]) < len(
                self._judge_links):
            self.link_activated.emit(self._judge_links[int(text[5:])])


def tab_index(name: str) -> int:
    return TABS.index(name)


