"""Blind pairwise judging: two outputs for the same input, variant names hidden, sides shuffled.

Keys: ← or 1 left is better, → or 2 right is better, ↓ or T tie, S skip, Esc close. Each answer
is saved at once (on the store thread), so closing loses nothing; the verdict so far is shown
under the outputs.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QWidget,
)

from lab.core.analysis.pairwise import PairToJudge
from lab.core.model import PairwiseJudgement, PairwiseWinner


class PairwiseDialog(QDialog):
    judged = Signal(object)  # PairwiseJudgement, after it was handed to `record`

    def __init__(self, pairs: list[PairToJudge], record: Callable[[PairwiseJudgement], None],
                 verdict: Callable[[], str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Blind pairwise judging")
        self.resize(1100, 680)
        self._pairs, self._record, self._verdict = pairs, record, verdict
        self.position = 0
        self.progress = QLabel()
        self.progress.setObjectName("PaneCaption")
        self.input = QTextBrowser()
        self.input.setMaximumHeight(96)
        self.left, self.right = QTextBrowser(), QTextBrowser()
        self.left_button = QPushButton("← Left is better (1)")
        self.tie_button = QPushButton("Tie (T)")
        self.right_button = QPushButton("Right is better (2) →")
        self.skip_button = QPushButton("Skip (S)")
        self.verdict_label = QLabel()
        self.verdict_label.setWordWrap(True)
        grid = QGridLayout(self)
        grid.addWidget(self.progress, 0, 0, 1, 2)
        self.input_label = QLabel("Input (the same for both answers)")
        grid.addWidget(self.input_label, 1, 0, 1, 2)
        grid.addWidget(self.input, 2, 0, 1, 2)
        grid.addWidget(QLabel("Left"), 3, 0)
        grid.addWidget(QLabel("Right"), 3, 1)
        grid.addWidget(self.left, 4, 0)
        grid.addWidget(self.right, 4, 1)
        grid.addWidget(self.left_button, 5, 0)
        grid.addWidget(self.right_button, 5, 1)
        grid.addWidget(self.tie_button, 6, 0)
        grid.addWidget(self.skip_button, 6, 1)
        grid.addWidget(self.verdict_label, 7, 0, 1, 2)
        grid.setRowStretch(4, 1)
        self.left_button.clicked.connect(lambda: self.answer("left"))
        self.right_button.clicked.connect(lambda: self.answer("right"))
        self.tie_button.clicked.connect(lambda: self.answer("tie"))
        self.skip_button.clicked.connect(self.skip)
        for keys, slot in (("Left", lambda: self.answer("left")), ("1", lambda: self.answer("left")),
                           ("Right", lambda: self.answer("right")), ("2", lambda: self.answer("right")),
                           ("Down", lambda: self.answer("tie")), ("T", lambda: self.answer("tie")),
                           ("S", self.skip)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
        self.show_pair()

    @property
    def current(self) -> PairToJudge | None:
        return self._pairs[self.position] if self.position < len(self._pairs) else None

    def show_pair(self) -> None:
        pair = self.current
        self.verdict_label.setText(self._verdict())
        enabled = pair is not None
        for button in (self.left_button, self.right_button, self.tie_button, self.skip_button):
            button.setEnabled(enabled)
        if pair is None:
            self.progress.setText(f"All {len(self._pairs)} pairs judged." if self._pairs
                                  else "No pairs left to judge: run two or more variants first.")
            for view in (self.input, self.left, self.right):
                view.clear()
            return
        self.progress.setText(f"Pair {self.position + 1} of {len(self._pairs)} · {pair.case_label}"
                              " · which answer is better? (names hidden, sides shuffled)")
        self.input.setPlainText(pair.input_text)
        self.left.setPlainText(pair.left_text)
        self.right.setPlainText(pair.right_text)

    def answer(self, winner: PairwiseWinner) -> None:
        pair = self.current
        if pair is None:
            return
        judgement = PairwiseJudgement(left_call_id=pair.left_call_id,
                                      right_call_id=pair.right_call_id, winner=winner)
        self._record(judgement)
        self.judged.emit(judgement)
        self.position += 1
        self.show_pair()

    def skip(self) -> None:
        if self.current is not None:
            self.position += 1
            self.show_pair()

    def refresh_verdict(self) -> None:
        self.verdict_label.setText(self._verdict())
