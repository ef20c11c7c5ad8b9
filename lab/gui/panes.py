"""The table panes around the prompt editor: variants, few-shot examples, test cases, results, history.

Each pane is a view plus a header and an empty state; the data comes from the models in models.py
and history_model.py, set by the main window.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QListView,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from lab.gui.history_model import HistoryTableModel
from lab.gui.models import CasesTableModel, ExamplesTableModel, ResultsGridModel, VariantListModel
from lab.gui.widgets import EmptyState, PaneHeader, TwoLineDelegate


def _column(*widgets: QWidget) -> QVBoxLayout:
    layout = QVBoxLayout()
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    for w in widgets:
        layout.addWidget(w)
    return layout


def _table(model) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setWordWrap(False)
    view.verticalHeader().setDefaultSectionSize(26)
    view.horizontalHeader().setHighlightSections(False)
    return view


class _StackedPane(QWidget):
    """A pane that shows its content, or an empty state when there is nothing to show."""

    def __init__(self, header: PaneHeader, content: QWidget, empty: EmptyState):
        super().__init__()
        self.header, self.content, self.empty = header, content, empty
        self.stack = QStackedWidget()
        self.stack.addWidget(content)
        self.stack.addWidget(empty)
        self.setLayout(_column(header, self.stack))

    def show_empty(self, empty: bool) -> None:
        self.stack.setCurrentWidget(self.empty if empty else self.content)

    def docked(self) -> None:
        """Inside a dock the dock's title bar names the pane; keep only the caption and tools."""
        self.header.title.hide()


class VariantsPane(QWidget):
    variant_selected = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.model = VariantListModel()
        self.view = QListView()
        self.view.setModel(self.model)
        self.view.setItemDelegate(TwoLineDelegate(self.view))
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setUniformItemSizes(True)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.selectionModel().currentChanged.connect(
            lambda current, _prev: self.variant_selected.emit(current.row())
        )
        self.setLayout(_column(self.view))

    def select(self, row: int) -> None:
        self.view.setCurrentIndex(self.model.index(row, 0))


class ExamplesPane(_StackedPane):
    def __init__(self) -> None:
        self.model = ExamplesTableModel()
        self.view = _table(self.model)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        super().__init__(
            PaneHeader("Few-shot examples"),
            self.view,
            EmptyState(
                "No examples",
                "Examples show the model what a good answer looks like. They are sent before "
                "each test case as user/assistant turns.",
            ),
        )

    def set_examples(self, examples, variant_name: str = "") -> None:
        self.model.set_examples(examples)
        enabled = sum(1 for e in examples if e.enabled)
        self.header.title.setText(f"Few-shot examples · {variant_name}" if variant_name else
                                  "Few-shot examples")
        self.header.caption.setText(f"{enabled} of {len(examples)} sent")
        self.show_empty(not examples)


class CasesPane(_StackedPane):
    def __init__(self) -> None:
        self.model = CasesTableModel()
        self.view = _table(self.model)
        self.view.horizontalHeader().setStretchLastSection(True)
        super().__init__(
            PaneHeader("Test cases"),
            self.view,
            EmptyState(
                "No test cases",
                "Each row fills the {{variables}} of the prompt for one call. "
                "Import a CSV or JSONL file, or paste rows from a spreadsheet.",
            ),
        )

    def set_cases(self, cases) -> None:
        self.model.set_cases(cases)
        names = self.model.variable_names
        self.header.caption.setText(
            f"{len(cases)} rows · variables: {', '.join(names)}" if names else f"{len(cases)} rows"
        )
        self.show_empty(not cases)
        self._fit_columns(cases)

    def _fit_columns(self, cases) -> None:
        """Short columns fit their content; the column with the longest text takes the rest."""
        header = self.view.horizontalHeader()
        names = self.model.variable_names
        if not names:
            return
        lengths = {n: sum(len(c.vars.get(n, "")) for c in cases) / max(len(cases), 1) for n in names}
        longest = max(names, key=lambda n: lengths[n])
        header.setStretchLastSection(False)
        for column in range(self.model.columnCount()):
            name = names[column - 1] if column else None
            if name == longest:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
            else:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
                self.view.resizeColumnToContents(column)
                header.resizeSection(column, min(max(header.sectionSize(column), 90), 260))


class ResultsPane(_StackedPane):
    def __init__(self) -> None:
        self.model = ResultsGridModel()
        self.view = _table(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        # Outputs need room to be read; past a few variants the grid scrolls sideways instead.
        self.view.horizontalHeader().setMinimumSectionSize(160)
        self.view.horizontalHeader().setMinimumHeight(44)
        self.view.verticalHeader().setDefaultSectionSize(30)
        super().__init__(
            PaneHeader("Results"),
            self.view,
            EmptyState(
                "Nothing to compare yet",
                "Add a variant and a test case; the results grid then shows every test case "
                "against every variant.",
            ),
        )

    def set_matrix(self, cases, variants, samples: int = 1) -> None:
        self.model.set_matrix(cases, variants)
        calls = len(cases) * len(variants) * samples
        self.header.caption.setText(
            f"{len(variants)} variants × {len(cases)} test cases × {samples} "
            f"sample{'s' if samples != 1 else ''} = {calls} calls"
        )
        self.show_empty(not cases or not variants)


class HistoryPane(_StackedPane):
    SEARCH_DELAY_MS = 250

    def __init__(self) -> None:
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search prompts and outputs…")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(260)
        self.view = QTableView()
        header = PaneHeader("History")
        header.add_widget(self.search)
        super().__init__(
            header,
            self.view,
            EmptyState(
                "No calls logged yet",
                "Every call a run makes is kept here, newest first, with its exact request, "
                "output, tokens, latency and cost.",
            ),
        )
        self.model: HistoryTableModel | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(self.SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._apply_search)
        self.search.textChanged.connect(lambda _t: self._timer.start())

    def set_model(self, model: HistoryTableModel) -> None:
        self.model = model
        self.view.setModel(model)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setWordWrap(False)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.horizontalHeader().setStretchLastSection(True)
        model.loaded.connect(self._on_loaded)
        model.set_search(None)

    def _apply_search(self) -> None:
        if self.model is not None:
            self.model.set_search(self.search.text().strip() or None)

    def _on_loaded(self, rows: int) -> None:
        searching = bool(self.search.text().strip())
        self.header.caption.setText(
            f"{rows:,}{'+' if self.model and self.model.canFetchMore() else ''} "
            f"{'matching ' if searching else ''}calls"
        )
        if searching and rows == 0:
            self.empty.title.setText("No matches")
            self.empty.body.setText("No logged prompt or output contains those words.")
        else:
            self.empty.title.setText("No calls logged yet")
            self.empty.body.setText(
                "Every call a run makes is kept here, newest first, with its exact request, "
                "output, tokens, latency and cost."
            )
        self.show_empty(rows == 0)
