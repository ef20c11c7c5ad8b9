"""A cell's samples side by side: when a run asks each variant several times per test case, how
the answers differ. Each column is one sample with its check outcomes; an answer that repeats an
earlier one (the same text, ignoring case and spacing) says so, and from the second sample on the
words that differ from the first are marked as the compare dialog marks them.

Opened from the Results grid (a cell's "N samples" footer) and from a heat-map cell of the
Analysis view's consistency tab.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Protocol

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from lab.core.analysis.consistency import normalise_text
from lab.core.analysis.diff import Span, word_diff
from lab.gui.dialogs.compare import spans_html


class Sample(Protocol):
    """What a column shows (``lab.gui.panes.result_cells.SampleOutput`` is one)."""

    index: int  # 0-based sample index
    status: str
    text: str
    checks: dict[str, bool]
    call_id: int | None


class SamplesDialog(QDialog):
    """Each sample in a column, in sample order; `summary` is the line above them."""

    def __init__(self, title: str, summary: str, samples: Sequence[Sample],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Samples · {title}")
        self.resize(min(1400, 360 * max(2, len(samples)) + 40), 620)
        row = QWidget()
        columns = QHBoxLayout(row)
        columns.setContentsMargins(0, 0, 0, 0)
        self.views: list[QTextBrowser] = []
        self.headings: list[QLabel] = []
        first = samples[0].text if samples else ""
        first_of: dict[object, int] = {}
        for position, sample in enumerate(samples):
            repeats = (first_of.setdefault(normalise_text(sample.text), sample.index)
                       if sample.status == "ok" else None)
            passed = sum(sample.checks.values())
            outcome = (f" · {'✓' if passed == len(sample.checks) else '✗'} "
                       f"{passed}/{len(sample.checks)}" if sample.checks else "")
            same = f" · same as sample {repeats + 1}" if repeats not in (None, sample.index) else ""
            status = "" if sample.status == "ok" else f" · <i>{html.escape(sample.status)}</i>"
            names = " ".join(f"{'✓' if ok else '✗'} {html.escape(name)}"
                             for name, ok in sample.checks.items())
            heading = QLabel(f"<b>Sample {sample.index + 1}</b>{outcome}{same}{status}"
                             + (f"<br><span style='font-size:small'>{names}</span>"
                                if names else ""))
            heading.setWordWrap(True)
            if sample.call_id is not None:
                heading.setToolTip(f"Call {sample.call_id} in the log")
            view = QTextBrowser()
            view.setMinimumWidth(300)
            spans = ([Span("equal", sample.text)] if position == 0
                     else word_diff(first, sample.text).right)
            view.setHtml(spans_html(spans))
            column = QVBoxLayout()
            column.addWidget(heading)
            column.addWidget(view, 1)
            columns.addLayout(column)
            self.views.append(view)
            self.headings.append(heading)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(row)
        self.summary = QLabel(summary + (". Words that differ from sample 1 are marked."
                                         if len(samples) > 1 else ""))
        self.summary.setObjectName("PaneCaption")
        self.summary.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
