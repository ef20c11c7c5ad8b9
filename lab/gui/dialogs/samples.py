"""The samples of one cell side by side (a heat-map cell of the Analysis view): every sample's
output, its check outcomes, and the words where it differs from the first sample, marked as the
compare dialog marks them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

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

from lab.core.analysis.diff import Span, word_diff
from lab.gui.dialogs.compare import spans_html


@dataclass
class Sample:
    call_id: int
    sample: int
    text: str
    checks: dict[str, bool] = field(default_factory=dict)


class SamplesDialog(QDialog):
    """Each sample in a column; from the second on, what differs from the first is marked."""

    def __init__(self, title: str, summary: str, samples: list[Sample],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(min(1400, 360 * max(2, len(samples)) + 40), 620)
        row = QWidget()
        columns = QHBoxLayout(row)
        columns.setContentsMargins(0, 0, 0, 0)
        self.views: list[QTextBrowser] = []
        first = samples[0].text if samples else ""
        for sample in samples:
            column = QVBoxLayout()
            checks = " ".join(f"{'✓' if ok else '✗'} {html.escape(name)}"
                              for name, ok in sample.checks.items())
            head = QLabel(f"<b>Sample {sample.sample + 1}</b> · call {sample.call_id}"
                          + (f"<br><span style='font-size:small'>{checks}</span>" if checks else ""))
            head.setWordWrap(True)
            view = QTextBrowser()
            view.setMinimumWidth(300)
            if sample is samples[0]:
                view.setHtml(spans_html([Span("equal", sample.text)]))
            else:
                view.setHtml(spans_html(word_diff(first, sample.text).right))
            column.addWidget(head)
            column.addWidget(view, 1)
            columns.addLayout(column)
            self.views.append(view)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(row)
        self.summary = QLabel(summary)
        self.summary.setObjectName("PaneCaption")
        self.summary.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
