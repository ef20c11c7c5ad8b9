"""The decision panel: the five questions with their numbers, then the one recommendation with
its reasons. Every number and reason is a link to the outputs behind it (`Link`); the panel
emits `link_activated` when one is clicked. Above them, what the decision depends on that only
the user knows: the calls expected a month, and what counts as a good example.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from lab.core.analysis.analyse import Analysis
from lab.core.analysis.decision import Decision
from lab.core.analysis.economics import DEFAULT_CALLS_PER_MONTH
from lab.core.analysis.links import Link
from lab.gui.theme import is_dark

RECOMMENDATIONS = {
    "keep_prompting": ("Keep prompting", "#3b6fd8"),
    "add_retrieval": ("Add retrieval", "#8a5fb0"),
    "collect_examples": ("Collect examples", "#d08c34"),
    "fine_tune": ("Fine-tune", "#3b7d4f"),
}
GOOD_CHOICES = (("rating", "Good = rated ≥ 4 or thumbs up"),
                ("checks", "Good = every check passed"))


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def _usd(x: float | None) -> str:
    if x is None:
        return "unknown"
    return f"${x:,.2f}" if x >= 1 else f"${x:.4f}"


class DecisionHtml:
    """Builds the panel's HTML; every linked figure gets an anchor `link:N`."""

    def __init__(self) -> None:
        self.links: list[Link] = []

    def a(self, text: str, link: Link | None, quiet: bool = False) -> str:
        """``text`` linked to ``link``; ``quiet``: a whole sentence, in the text's colour
        (underlined figures are what stands out)."""
        if link is None:
            return html.escape(text)
        self.links.append(link)
        style = f" style='color:{'#d8dadf' if is_dark() else '#1d2a44'};text-decoration:none'" \
            if quiet else ""
        return f"<a href='link:{len(self.links) - 1}'{style}>{html.escape(text)}</a>"

    def build(self, analysis: Analysis) -> str:
        d: Decision = analysis.decision
        e = d.evidence
        title, colour = RECOMMENDATIONS.get(d.recommendation, (d.recommendation, "#3b6fd8"))
        muted = "#9a9da3" if is_dark() else "#5f6368"
        headline = d.headline
        if headline.casefold().startswith(title.casefold()):  # "Keep prompting: untried ..."
            headline = headline[len(title):].lstrip(" :")
            headline = headline[:1].upper() + headline[1:]
        out = [(f"<p style='margin:0'><span style='font-size:large;font-weight:600;"
                f"color:{colour}'>{html.escape(title)}</span></p>"),
               f"<p style='margin-top:4px'>{html.escape(headline)}</p>",
               (f"<p style='color:{muted};margin-top:0'>{html.escape(analysis.scope)} · "
                f"{analysis.calls:,} outputs analysed; every underlined figure opens the outputs "
                "behind it.</p>"),
               "<h4 style='margin-bottom:2px'>The five questions</h4><ol style='margin-top:0'>"]
        out.append("<li><b>Has prompting been exhausted?</b><br>" + self._prompting(e) + "</li>")
        out.append("<li><b>What is the failure mode?</b><br>" + self._failures(e) + "</li>")
        out.append("<li><b>Is there enough data?</b><br>" + self._data(e) + "</li>")
        out.append("<li><b>Would a fine-tune pay?</b><br>" + self._money(e) + "</li>")
        out.append("<li><b>How consistent is the best variant?</b><br>" + self._consistency(e)
                   + "</li></ol>")
        out.append(f"<h4 style='margin-bottom:2px'>Recommendation: {html.escape(title)}</h4>"
                   f"<p style='color:{muted};margin:0'>Why (click a reason to see the outputs "
                   "behind it):</p>")
        out.append("<ul style='margin-top:0'>" + "".join(
            f"<li>{self.a(r.text, r.link, quiet=True)}</li>" for r in d.reasons) + "</ul>")
        return "".join(out)

    def _prompting(self, e: Any) -> str:
        parts = []
        for t in e.techniques:
            if not t.available and not t.tried:
                continue
            state = f"tried by {', '.join(t.variants)}" if t.tried else "<i>not tried</i>"
            parts.append(f"{html.escape(t.name)}: {state}")
        lines = ["; ".join(parts) + "." if parts else ""]
        lines.append(self.a(f"{e.variants} variant(s) over {e.cases} test case(s)", e.scope_link)
                     + ".")
        d = e.best_vs_runner_up
        if d is not None and d.difference is not None and e.best is not None:
            lines.append(f"Best {html.escape(d.b)} against runner-up {html.escape(d.a)}: "
                         + self.a(d.verdict, e.best.link) + ".")
        elif e.best is not None:
            lines.append("Best so far: " + self.a(e.best.name, e.best.link) + ".")
        return "<br>".join(x for x in lines if x)

    def _failures(self, e: Any) -> str:
        f = e.failures
        if f is None or not f.modes:
            return "No failure tagged or check failed for the best variant yet."
        knowledge = [m for m in f.modes if m.kind == "knowledge"]
        behaviour = [m for m in f.modes if m.kind == "behaviour"]

        def joined(modes: list) -> Link:
            return Link.calls((i for m in modes for i in m.link.call_ids),
                              f"{f.variant}'s {modes[0].kind if modes else ''} failures")

        k, b = sum(m.count for m in knowledge), sum(m.count for m in behaviour)
        top = ", ".join(self.a(f"{m.name} ({m.count}, {m.kind})", m.link) for m in f.modes[:5])
        return (f"{html.escape(f.variant)}: {self.a(f'{k} knowledge-type', joined(knowledge))} "
                f"against {self.a(f'{b} behaviour-type', joined(behaviour))}; most frequent: "
                f"{top}.")

    def _data(self, e: Any) -> str:
        d = e.data
        what = "rated ≥ 4 or thumbs up" if d.good_by == "rating" else "every check passed"
        text = self.a(f"{d.examples} good example(s)", d.link)
        more = f"; {d.more_for_first_useful} more make a first useful tune (50)" \
            if d.more_for_first_useful else ""
        return (f"{text} ({what}, {d.duplicates} duplicate(s) removed): {html.escape(d.stage)}"
                f"{more}.")

    def _money(self, e: Any) -> str:
        m = e.economics
        if m is None:
            return "Nothing to price yet."
        link = e.best.link if e.best else None
        parts = [f"every call of {html.escape(m.variant)} repeats "
                 + self.a(f"{m.repeated_tokens:,} prompt tokens", link)]
        if m.repeated_cost_per_month is not None:
            parts.append(f"at {m.calls_per_month:,} calls a month that is "
                         + self.a(_usd(m.repeated_cost_per_month) + " a month", link))
        else:
            parts.append(f"at {m.calls_per_month:,} calls a month its cost is unknown")
        if m.training_cost is not None:
            parts.append(f"training a tune costs about {_usd(m.training_cost)}")
        if m.break_even_calls is not None and m.payback_months is not None:
            parts.append(f"it pays back after {m.break_even_calls:,.0f} calls "
                         f"({m.payback_months:.1f} months at your volume)")
        elif m.saving_per_call is not None and m.saving_per_call <= 0:
            parts.append("a call to the tuned model would cost more than one now")
        text = "; ".join(parts) + "."
        if m.unknown:
            text += f" Unknown: {html.escape('; '.join(m.unknown))}."
        return text[0].upper() + text[1:]

    def _consistency(self, e: Any) -> str:
        c = e.consistency
        if c is None or not c.cases:
            return "One sample per case: run with more samples to see it."
        link = e.best.link if e.best else None
        n = c.normalised
        interval = "" if n.low is None else f" (95% CI {_pct(n.low)}–{_pct(n.high)})"
        text = (f"{html.escape(c.variant)}'s samples agree "
                + self.a(f"{_pct(n.mean)}{interval}", link)
                + f" of the time (text, whitespace normalised); every sample agreed on "
                f"{_pct(n.fully_consistent)} of {c.cases} cases")
        if c.checks and c.checks.mean is not None:
            text += f"; check outcomes agree {_pct(c.checks.mean)}"
        return text + "."


class DecisionPanel(QWidget):
    link_activated = Signal(object)  # a Link
    options_changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.calls_per_month = QSpinBox()
        self.calls_per_month.setRange(0, 2_000_000_000)
        self.calls_per_month.setSingleStep(10_000)
        self.calls_per_month.setGroupSeparatorShown(True)
        self.calls_per_month.setValue(DEFAULT_CALLS_PER_MONTH)
        self.calls_per_month.setToolTip("How many calls a month the prompt will serve: what a "
                                        "repeated prompt costs, and whether a tune pays back")
        self.good_by = QComboBox()
        for key, label in GOOD_CHOICES:
            self.good_by.addItem(label, key)
        self.good_by.setToolTip("What counts as a good example for fine-tuning")
        controls = QHBoxLayout()
        controls.setContentsMargins(8, 6, 8, 2)
        controls.addWidget(QLabel("Expected calls a month"))
        controls.addWidget(self.calls_per_month)
        controls.addSpacing(12)
        controls.addWidget(self.good_by)
        controls.addStretch(1)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.setOpenExternalLinks(False)
        self.browser.anchorClicked.connect(self._anchor)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.browser, 1)
        self.links: list[Link] = []
        self.calls_per_month.editingFinished.connect(self.options_changed.emit)
        self.good_by.currentIndexChanged.connect(lambda _i: self.options_changed.emit())

    def options(self) -> tuple[int, str]:
        return self.calls_per_month.value(), self.good_by.currentData()

    def show_analysis(self, analysis: Analysis) -> None:
        builder = DecisionHtml()
        text = builder.build(analysis)
        self.links = builder.links
        bar = self.browser.verticalScrollBar()
        at = bar.value()
        self.browser.setHtml(text)
        bar.setValue(at)

    def anchors(self) -> list[tuple[str, Link]]:
        """(the text shown, its link) for every link on the panel, in order."""
        return [(link.note, link) for link in self.links]

    def activate(self, number: int) -> None:
        self._anchor(QUrl(f"link:{number}"))

    def _anchor(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("link:") and text[5:].isdigit() and int(text[5:]) < len(self.links):
            self.link_activated.emit(self.links[int(text[5:])])
