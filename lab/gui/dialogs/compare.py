"""Side-by-side comparison of two texts (two variants' prompts; later two outputs).

The spans come from lab.core.analysis.diff; this module only paints them: removed words red on the left,
added words green on the right.
"""

from __future__ import annotations

import html

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QTextBrowser,
    QWidget,
)

from lab.core.analysis.diff import Span, word_diff
from lab.core.model import Variant
from lab.gui.theme import is_dark


def spans_html(spans: list[Span]) -> str:
    dark = is_dark()
    colours = {
        "removed": ("#5c2b2b" if dark else "#ffd7d5", "#ffb4ae" if dark else "#82071e"),
        "added": ("#1f4d2b" if dark else "#ccffd8", "#aff5b4" if dark else "#055d20"),
    }
    parts = []
    for span in spans:
        text = html.escape(span.text)
        if span.kind == "equal":
            parts.append(text)
        else:
            background, foreground = colours[span.kind]
            decoration = "line-through" if span.kind == "removed" else "none"
            parts.append(f'<span style="background:{background};color:{foreground};'
                         f'text-decoration:{decoration}">{text}</span>')
    body = "".join(parts).replace("\n", "<br>")
    return f'<div style="font-family: monospace; white-space: pre-wrap">{body}</div>'


def variant_text(variant: Variant) -> str:
    """Everything about a variant that shapes its calls, as text to compare."""
    lines = [f"Model: {variant.model}"]
    for key, value in sorted(variant.params.items()):
        lines.append(f"{key}: {value}")
    lines += ["", "System prompt:", variant.system, ""]
    for number, example in enumerate(variant.examples, start=1):
        state = "" if example.enabled else " (disabled)"
        lines += [f"Example {number}{state}:", f"User: {example.input}",
                  f"Assistant: {example.output}", ""]
    return "\n".join(lines)


class VariantDiffDialog(QDialog):
    def __init__(self, variants: list[Variant], left: int = 0, right: int = 1,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Compare variants")
        self.resize(1100, 700)
        self._variants = variants
        self.left_pick, self.right_pick = QComboBox(), QComboBox()
        for pick in (self.left_pick, self.right_pick):
            pick.addItems([v.name for v in variants])
            pick.currentIndexChanged.connect(self.refresh)
        self.left_view, self.right_view = QTextBrowser(), QTextBrowser()
        self.summary = QLabel()
        self.summary.setObjectName("PaneCaption")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        grid = QGridLayout(self)
        grid.addWidget(self.left_pick, 0, 0)
        grid.addWidget(self.right_pick, 0, 1)
        grid.addWidget(self.left_view, 1, 0)
        grid.addWidget(self.right_view, 1, 1)
        grid.addWidget(self.summary, 2, 0)
        grid.addWidget(buttons, 2, 1)
        self.left_pick.setCurrentIndex(left)
        self.right_pick.setCurrentIndex(min(right, len(variants) - 1))
        self.refresh()

    def refresh(self) -> None:
        a = self._variants[self.left_pick.currentIndex()]
        b = self._variants[self.right_pick.currentIndex()]
        diff = word_diff(variant_text(a), variant_text(b))
        self.left_view.setHtml(spans_html(diff.left))
        self.right_view.setHtml(spans_html(diff.right))
        removed, added = diff.counts()
        self.summary.setText(
            f"{removed} words only in {a.name} · {added} words only in {b.name}"
            if diff.changed else "The two variants are identical.")


class OutputDiffDialog(QDialog):
    """Two outputs side by side, word by word: what the second says differently."""

    def __init__(self, left_title: str, left: str, right_title: str, right: str,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Compare outputs")
        self.resize(1000, 560)
        diff = word_diff(left, right)
        self.left_view, self.right_view = QTextBrowser(), QTextBrowser()
        self.left_view.setHtml(spans_html(diff.left))
        self.right_view.setHtml(spans_html(diff.right))
        removed, added = diff.counts()
        self.summary = QLabel(f"{removed} words only on the left · {added} words only on the right"
                              if diff.changed else "The two outputs are identical.")
        self.summary.setObjectName("PaneCaption")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        grid = QGridLayout(self)
        grid.addWidget(QLabel(left_title), 0, 0)
        grid.addWidget(QLabel(right_title), 0, 1)
        grid.addWidget(self.left_view, 1, 0)
        grid.addWidget(self.right_view, 1, 1)
        grid.addWidget(self.summary, 2, 0)
        grid.addWidget(buttons, 2, 1)
