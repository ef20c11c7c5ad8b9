"""The checks pane: what "good" means for the project. The checks as a list (add, remove,
reorder), the selected one in a form (check_form.py), and a "try it" box that grades an output
at once: the selected result cell or pasted text. An LLM judge is tried with a button, because
it costs a model call.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from lab.core.checks.config import check_names, runs_code
from lab.core.checks.form import TYPE_LABELS, describe
from lab.core.model import Check
from lab.gui.panes.check_form import CheckForm
from lab.gui.panes.pane import DISPLAY, TOOLTIP, Index, StackedPane, tool_button
from lab.gui.widgets import EmptyState, PaneHeader, TwoLineDelegate

EDIT_DELAY_MS = 350


class ChecksListModel(QAbstractListModel):
    """The project's checks: name over what it requires; a python check that will not run (its
    file is not trusted) is marked."""

    def __init__(self) -> None:
        super().__init__()
        self._checks: list[Check] = []
        self.untrusted = False  # the project's code checks may not run

    def set_checks(self, checks: list[Check], untrusted: bool = False) -> None:
        self.beginResetModel()
        self._checks, self.untrusted = checks, untrusted
        self.endResetModel()

    def refresh(self) -> None:
        if self._checks:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._checks) - 1, 0))

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._checks)

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid():
            return None
        check = self._checks[index.row()]
        name = check_names(self._checks)[index.row()]
        blocked = self.untrusted and runs_code(check)
        if role == DISPLAY:
            return f"{'⚠ ' if blocked else ''}{name}\n{describe(check)}"
        if role == TOOLTIP:
            return (f"{TYPE_LABELS.get(check.type, check.type)}: {describe(check)}"
                    + ("\nNot run: python from a file you have not trusted." if blocked else ""))
        return None


class ChecksPane(StackedPane):
    check_selected = Signal(int)  # row, or -1
    check_edited = Signal()  # the form changed (after a pause in typing)
    add_requested = Signal(str)  # check type
    remove_requested = Signal()
    move_requested = Signal(int)  # -1 up, +1 down
    try_requested = Signal()  # grade the try-it text now
    judge_requested = Signal()  # ask the judge model (a model call)
    use_result_requested = Signal()  # put the selected result cell in the try-it box
    try_text_typed = Signal()  # the try-it text was typed or pasted: no test case behind it

    def __init__(self) -> None:
        self.model = ChecksListModel()
        self.view = QListView()
        self.view.setModel(self.model)
        self.view.setItemDelegate(TwoLineDelegate(self.view))
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setMinimumWidth(200)
        self.form = CheckForm()

        self.try_text = QPlainTextEdit()
        self.try_text.setObjectName("TryOutput")
        self.try_text.setPlaceholderText("Paste an output to grade, or use the selected result")
        self.try_source = QLabel("Pasted text")
        self.try_source.setObjectName("PaneCaption")
        self.use_result_button = QPushButton("Use selected result")
        self.use_result_button.setToolTip("Grade the output of the cell selected in the results "
                                          "grid, with its test case's variables")
        self.judge_button = QPushButton("Ask the judge")
        self.judge_button.setToolTip("An LLM judge needs a model call: one call, logged")
        self.try_result = QLabel()
        self.try_result.setObjectName("TryResult")
        self.try_result.setWordWrap(True)
        try_box = QGroupBox("Try it")
        try_layout = QVBoxLayout(try_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.try_source, 1)
        buttons.addWidget(self.use_result_button)
        buttons.addWidget(self.judge_button)
        try_layout.addLayout(buttons)
        try_layout.addWidget(self.try_text, 1)
        try_layout.addWidget(self.try_result)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(self.form)
        split.addWidget(try_box)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 4)
        split.setStretchFactor(2, 3)
        split.setChildrenCollapsible(False)
        super().__init__(PaneHeader("Checks"), split, EmptyState(
            "No checks yet",
            "Checks say what a good output is: it contains a word, matches a pattern or a JSON "
            "schema, stays short, passes a python expression, or an LLM judge grades it with "
            "a rubric. Add one with “+ Check”."))
        self.add_button = QToolButton()
        self.add_button.setText("+ Check")
        self.add_button.setToolTip("Add a check of a type")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.add_button)
        for kind, label in TYPE_LABELS.items():
            menu.addAction(label, lambda k=kind: self.add_requested.emit(k))
        self.add_button.setMenu(menu)
        self.add_button.setAutoRaise(True)
        self.remove_button = tool_button("−", "Remove the selected check", self.remove_requested.emit)
        self.up_button = tool_button("▲", "Move up", lambda: self.move_requested.emit(-1))
        self.down_button = tool_button("▼", "Move down", lambda: self.move_requested.emit(1))
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            self.header.add_widget(button)
        self.empty.layout().addWidget(self._empty_add_button(), 0, Qt.AlignmentFlag.AlignHCenter)

        self._edit_timer = QTimer(self)
        self._edit_timer.setSingleShot(True)
        self._edit_timer.setInterval(EDIT_DELAY_MS)
        self._edit_timer.timeout.connect(self.check_edited.emit)
        self._try_timer = QTimer(self)
        self._try_timer.setSingleShot(True)
        self._try_timer.setInterval(200)
        self._try_timer.timeout.connect(self.try_requested.emit)
        self.form.edited.connect(self._edit_timer.start)
        self.form.edited.connect(self._try_timer.start)
        self.try_text.textChanged.connect(self._try_text_changed)
        self.use_result_button.clicked.connect(self.use_result_requested.emit)
        self.judge_button.clicked.connect(self.judge_requested.emit)
        self.view.selectionModel().currentChanged.connect(
            lambda current, _prev: self.check_selected.emit(current.row()))
        self.model.modelReset.connect(lambda: self._update_caption())

    def _empty_add_button(self) -> QWidget:
        button = QPushButton("+ Check")
        button.setMenu(self.add_button.menu())
        return button

    def flush(self) -> None:
        """Deliver a pending edit now (before switching check, saving or closing)."""
        if self._edit_timer.isActive():
            self._edit_timer.stop()
            self.check_edited.emit()

    def select(self, row: int) -> None:
        self.view.setCurrentIndex(self.model.index(row, 0))

    def current_row(self) -> int:
        return self.view.currentIndex().row()

    def show_checks(self, checks: list[Check], untrusted: bool, select: int = 0) -> None:
        self.model.set_checks(checks, untrusted)
        self.show_empty(not checks)
        if checks:
            self.select(min(max(select, 0), len(checks) - 1))
        else:
            self.form.show_check(None)
            self.check_selected.emit(-1)

    def _update_caption(self) -> None:
        checks = self.model.rowCount()
        self.header.caption.setText(f"{checks} check{'s' if checks != 1 else ''} grade every "
                                    "output")

    def _try_text_changed(self) -> None:
        self.try_source.setText("Pasted text")
        self.try_text_typed.emit()
        self._try_timer.start()

    def set_try_text(self, text: str, source: str) -> None:
        self.try_text.blockSignals(True)
        self.try_text.setPlainText(text)
        self.try_text.blockSignals(False)
        self.try_source.setText(source)
        self.try_requested.emit()

    def show_try_result(self, passed: bool | None, text: str) -> None:
        """The verdict on the try-it text (`passed` None: could not grade)."""
        mark = {True: "✓ Passes", False: "✗ Fails", None: "⚠"}[passed]
        colour = {True: "#2e8b57", False: "#c9302c", None: "#b8860b"}[passed]
        self.try_result.setStyleSheet(f"color: {colour};")
        self.try_result.setText(f"{mark}: {text}" if text else mark)

    def stop_pending_try(self) -> None:
        """The text as it is now is being graded another way (the judge): no auto-try after."""
        self._try_timer.stop()

    def show_grading(self) -> None:
        self.try_result.setStyleSheet("")
        self.try_result.setText("Grading…")

    def grading(self) -> bool:
        """A grade is on its way (or about to be asked for)."""
        return self._try_timer.isActive() or self.try_result.text() == "Grading…"

    def show_judge_mode(self, judge: bool) -> None:
        """A judge check is tried with its button (a model call), not as you type."""
        self.judge_button.setVisible(judge)
