"""A cell's samples side by side: when a run asks each variant several times per test case, how
the answers differ, each with its checks. Answers that agree (the same text, ignoring case and
spacing) are marked with the sample they repeat.
"""

from __future__ import annotations

import html

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


class SamplesDialog(QDialog):
    def __init__(self, title: str, marker: str, samples: list, parent: QWidget | None = None):
        """`samples`: the cell's SampleOutputs, in sample order."""
        super().__init__(parent)
        self.setWindowTitle(f"Samples · {title}")
        self.resize(min(360 * max(len(samples), 2), 1500), 600)
        summary = QLabel(f"{title} — {marker}")
        summary.setObjectName("PaneCaption")
        row = QWidget()
        columns = QHBoxLayout(row)
        columns.setContentsMargins(0, 0, 0, 0)
        self.views: list[QTextBrowser] = []
        self.headings: list[QLabel] = []
        first_of: dict[object, int] = {}
        for sample in samples:
            key = normalise_text(sample.text)
            repeats = first_of.setdefault(key, sample.index) if sample.status == "ok" else None
            passed = sum(sample.checks.values())
            checks = (f" · {'✓' if passed == len(sample.checks) else '✗'} "
                      f"{passed}/{len(sample.checks)}" if sample.checks else "")
            same = f" · same as sample {repeats + 1}" if repeats not in (None, sample.index) else ""
            heading = QLabel(f"<b>Sample {sample.index + 1}</b>{checks}{same}"
                             + ("" if sample.status == "ok" else f" · <i>{sample.status}</i>"))
            view = QTextBrowser()
            view.setHtml("<div style='white-space: pre-wrap'>" + html.escape(sample.text)
                         + "</div>")
            column = QVBoxLayout()
            column.addWidget(heading)
            column.addWidget(view, 1)
            columns.addLayout(column)
            self.views.append(view)
            self.headings.append(heading)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
