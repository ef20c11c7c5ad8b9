"""The table panes around the prompt editor: variants, few-shot examples, test cases, results, history.

Each pane is a view plus a header and an empty state; the data comes from the models in models.py
and history_model.py, set by the main window.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QListView,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from lab.core.experiment.template import variables
from lab.core.model import Example, TestCase
from lab.core.workspace.history import CallFilters
from lab.gui.history_model import HistoryTableModel
from lab.gui.models import CasesTableModel, ExamplesTableModel, VariantListModel
from lab.gui.results import (
    ResultCellDelegate,
    ResultsFilterProxy,
    ResultsGridModel,
    detail_html,
)
from lab.gui.widgets import EmptyState, MultilineDelegate, PaneHeader, TwoLineDelegate


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
    """The variants: pick one to edit; add, duplicate, rename (F2), delete, compare two."""

    variant_selected = Signal(int)
    add_requested = Signal()
    duplicate_requested = Signal()
    delete_requested = Signal()
    compare_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.model = VariantListModel()
        self.view = QListView()
        self.view.setModel(self.model)
        self.view.setItemDelegate(TwoLineDelegate(self.view))
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setUniformItemSizes(True)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed
                                  | QAbstractItemView.EditTrigger.DoubleClicked)
        self.view.selectionModel().currentChanged.connect(
            lambda current, _prev: self.variant_selected.emit(current.row())
        )
        self.add_button = tool_button("New", "Add an empty variant", self.add_requested.emit)
        self.duplicate_button = tool_button(
            "Duplicate", "Copy the selected variant to change one thing (Ctrl+D)",
            self.duplicate_requested.emit)
        self.delete_button = tool_button("Delete", "Delete the selected variant",
                                         self.delete_requested.emit)
        self.compare_button = tool_button("Compare", "Show the differences between two variants",
                                          self.compare_requested.emit)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 4)
        for button in (self.add_button, self.duplicate_button, self.delete_button,
                       self.compare_button):
            bar.addWidget(button)
        bar.addStretch(1)
        layout = _column(self.view)
        layout.addLayout(bar)
        self.setLayout(layout)

    def select(self, row: int) -> None:
        self.view.setCurrentIndex(self.model.index(row, 0))

    def current_row(self) -> int:
        return self.view.currentIndex().row()

    def rename(self) -> None:
        self.view.edit(self.view.currentIndex())


def tool_button(text: str, tip: str, slot) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setAutoRaise(True)
    button.clicked.connect(slot)
    return button


class ExamplesPane(_StackedPane):
    """Few-shot examples of the selected variant: edit in place, add, delete, reorder."""

    def __init__(self) -> None:
        self.model = ExamplesTableModel()
        self.view = _table(self.model)
        self.view.setItemDelegate(MultilineDelegate(self.view))
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed
                                  | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.view.setDragEnabled(True)
        self.view.setAcceptDrops(True)
        self.view.setDropIndicatorShown(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.view.setDefaultDropAction(Qt.DropAction.MoveAction)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        empty = EmptyState(
            "No examples",
            "Examples show the model what a good answer looks like. They are sent before "
            "each test case as user/assistant turns. Add one with + or promote a good output.",
        )
        super().__init__(PaneHeader("Few-shot examples"), self.view, empty)
        self.add_button = tool_button("+", "Add an example (Ctrl+Shift+N)", lambda: self.add_example())
        self.delete_button = tool_button("−", "Delete the selected examples (Delete)",
                                         self.delete_selected)
        self.up_button = tool_button("▲", "Move up (Alt+Up)", lambda: self.move_selected(-1))
        self.down_button = tool_button("▼", "Move down (Alt+Down)", lambda: self.move_selected(1))
        for button in (self.add_button, self.delete_button, self.up_button, self.down_button):
            self.header.add_widget(button)
        for keys, slot in (("Ctrl+Shift+N", lambda: self.add_example()), ("Delete", self.delete_selected),
                           ("Alt+Up", lambda: self.move_selected(-1)),
                           ("Alt+Down", lambda: self.move_selected(1))):
            shortcut = QShortcut(QKeySequence(keys), self.view)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.model.edited.connect(self._update_caption)
        self.model.rowsInserted.connect(lambda *_: self.show_empty(False))
        self.setEnabled(False)

    def set_examples(self, examples, variant_name: str = "") -> None:
        self.model.set_examples(examples)
        self.setEnabled(bool(variant_name))
        self.header.title.setText(f"Few-shot examples · {variant_name}" if variant_name else
                                  "Few-shot examples")
        self._update_caption()

    def _update_caption(self) -> None:
        examples = self.model._examples
        enabled = sum(1 for e in examples if e.enabled)
        self.header.caption.setText(f"{enabled} of {len(examples)} sent")
        self.show_empty(not examples)

    def selected_rows(self) -> list[int]:
        return sorted({i.row() for i in self.view.selectionModel().selectedRows()})

    def add_example(self, example: Example | None = None) -> None:
        row = self.model.add_example(example or Example(input="", output=""))
        self.show_empty(False)
        index = self.model.index(row, 1)
        self.view.setCurrentIndex(index)
        if example is None:
            self.view.edit(index)

    def delete_selected(self) -> None:
        self.model.remove_rows(self.selected_rows())

    def move_selected(self, step: int) -> None:
        rows = self.selected_rows()
        if len(rows) != 1:
            return
        if self.model.move_row(rows[0], rows[0] + step):
            self.select_row(rows[0] + step)

    def select_row(self, row: int) -> None:
        # selectRow() honours held modifier keys (Ctrl toggles); a move must simply select.
        flags = (QItemSelectionModel.SelectionFlag.ClearAndSelect
                 | QItemSelectionModel.SelectionFlag.Rows)
        index = self.model.index(row, 1)
        self.view.selectionModel().select(index, flags)
        self.view.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)


class CasesPane(_StackedPane):
    """The test cases: edit in place, add and delete rows, add a variable, import, paste."""

    import_requested = Signal()
    paste_requested = Signal()

    def __init__(self) -> None:
        self.model = CasesTableModel()
        self.view = _table(self.model)
        self.view.setItemDelegate(MultilineDelegate(self.view))
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.view.horizontalHeader().setStretchLastSection(True)
        super().__init__(
            PaneHeader("Test cases"),
            self.view,
            EmptyState(
                "No test cases",
                "Each row fills the {{variables}} of the prompt for one call. "
                "Import a CSV or JSONL file, or paste rows from a spreadsheet (Ctrl+V).",
            ),
        )
        self.add_button = tool_button("+ Row", "Add a test case", self.add_row)
        self.delete_button = tool_button("− Rows", "Delete the selected test cases (Delete)",
                                         self.delete_selected)
        self.variable_button = tool_button("+ Variable", "Add a column (a new {{variable}})",
                                           self.ask_variable)
        self.import_button = tool_button("Import…", "Import test cases from a CSV or JSONL file",
                                         self.import_requested.emit)
        self.paste_button = tool_button("Paste", "Paste rows copied from a spreadsheet (Ctrl+V)",
                                        self.paste_requested.emit)
        for button in (self.add_button, self.delete_button, self.variable_button,
                       self.import_button, self.paste_button):
            self.header.add_widget(button)
        for keys, slot in ((QKeySequence.StandardKey.Paste, self.paste_requested.emit),
                           ("Delete", self.delete_selected)):
            shortcut = QShortcut(QKeySequence(keys), self.view)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.model.edited.connect(self._update_caption)
        self.model.modelReset.connect(self._update_caption)

    def set_cases(self, cases) -> None:
        self.model.set_cases(cases)
        self._update_caption()
        self._fit_columns(cases)

    def _update_caption(self) -> None:
        names = self.model.variable_names
        rows = self.model.rowCount()
        self.header.caption.setText(
            f"{rows} rows · variables: {', '.join(names)}" if names else f"{rows} rows"
        )
        self.show_empty(rows == 0 and not names)

    def add_row(self) -> None:
        self.model.add_cases([TestCase(vars={n: "" for n in self.model.variable_names})])
        row = self.model.rowCount() - 1
        index = self.model.index(row, 1 if self.model.variable_names else 0)
        self.view.setCurrentIndex(index)
        self.view.edit(index)

    def delete_selected(self) -> None:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedIndexes()})
        self.model.remove_rows(rows)

    def select_rows(self, rows: list[int]) -> None:
        selection = self.view.selectionModel()
        selection.clearSelection()
        for row in rows:
            selection.select(self.model.index(row, 0), QItemSelectionModel.SelectionFlag.Select
                             | QItemSelectionModel.SelectionFlag.Rows)

    def ask_variable(self) -> None:
        name, ok = QInputDialog.getText(self, "New variable",
                                        "Name of the column (used as {{name}} in prompts):")
        self.add_variable(name.strip() if ok else "")

    def add_variable(self, name: str) -> str | None:
        """Add a column; returns a message when the name cannot be a variable."""
        if not name:
            return None
        if variables("{{" + name + "}}") != [name]:
            return (f"'{name}' cannot be a variable name: use letters, digits and _ "
                    "(starting with a letter).")
        self.model.add_variable(name)
        self._fit_columns(self.model._cases)
        return None

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
    """The run matrix, filtered and sorted on demand, and everything about the selected cell."""

    SHOW_LABELS = ("All rows", "A check failed", "An error", "Variants disagree")
    SORT_LABELS = ("Test case order", "Checks passed", "Latency", "Cost", "Output length")

    def __init__(self) -> None:
        self.model = ResultsGridModel()
        self.proxy = ResultsFilterProxy(self.model)
        self.view = _table(self.proxy)
        self.view.setItemDelegate(ResultCellDelegate(self.view))
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        # Outputs need room to be read; past a few variants the grid scrolls sideways instead.
        self.view.horizontalHeader().setMinimumSectionSize(160)
        self.view.horizontalHeader().setMinimumHeight(44)
        self.detail = QTextBrowser()
        self.detail.setOpenLinks(False)
        self.detail.setPlaceholderText("Select a cell to see its full output, checks, usage "
                                       "and the exact request.")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        super().__init__(
            PaneHeader("Results"),
            split,
            EmptyState(
                "Nothing to compare yet",
                "Add a variant and a test case; the results grid then shows every test case "
                "against every variant.",
            ),
        )
        self.show_rows = QComboBox()
        self.show_rows.addItems(self.SHOW_LABELS)
        self.show_rows.setToolTip("Show only the rows that need a look")
        self.sort_rows = QComboBox()
        self.sort_rows.addItems(self.SORT_LABELS)
        self.sort_rows.setToolTip("Order rows by the selected variant's outputs "
                                  "(click a column header to choose the variant)")
        self.filter_text = QLineEdit()
        self.filter_text.setPlaceholderText("Filter rows…")
        self.filter_text.setClearButtonEnabled(True)
        self.filter_text.setMaximumWidth(180)
        for widget in (self.show_rows, self.sort_rows, self.filter_text):
            self.header.add_widget(widget)
        self.show_rows.currentIndexChanged.connect(self.apply_view_options)
        self.sort_rows.currentIndexChanged.connect(self.apply_view_options)
        self.filter_text.textChanged.connect(lambda _t: self.apply_view_options())
        self.view.horizontalHeader().setSectionsClickable(True)
        self.view.horizontalHeader().sectionClicked.connect(self._sort_by_column)
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() * 4 + 12)
        self.view.selectionModel().currentChanged.connect(lambda *_: self.show_detail())
        self.model.dataChanged.connect(self._changed)

    # ---- view options

    def apply_view_options(self) -> None:
        self.proxy.show_mode = ResultsFilterProxy.SHOW[self.show_rows.currentIndex()]
        self.proxy.sort_key = ResultsFilterProxy.SORT_KEYS[self.sort_rows.currentIndex()]
        self.proxy.text = self.filter_text.text().strip()
        self.proxy.refresh()
        self._update_caption()

    def _sort_by_column(self, column: int) -> None:
        if self.proxy.sort_key == "case":
            self.sort_rows.setCurrentIndex(1)  # a header click means "order by this variant"
        order = (Qt.SortOrder.DescendingOrder
                 if self.proxy.sortColumn() == column
                 and self.proxy.sortOrder() == Qt.SortOrder.AscendingOrder
                 else Qt.SortOrder.AscendingOrder)
        self.proxy.sort(column, order)

    # ---- coordinates: the view shows the proxy; cells live in the grid model

    def select_cell(self, row: int, column: int) -> None:
        index = self.proxy.mapFromSource(self.model.index(row, column))
        self.view.setCurrentIndex(index)

    def select_cells(self, cells: list[tuple[int, int]]) -> None:
        selection = self.view.selectionModel()
        selection.clearSelection()
        for row, column in cells:
            selection.select(self.proxy.mapFromSource(self.model.index(row, column)),
                             QItemSelectionModel.SelectionFlag.Select)

    def current_source(self) -> tuple[int, int] | None:
        index = self.view.currentIndex()
        if not index.isValid():
            return None
        source = self.proxy.mapToSource(index)
        return source.row(), source.column()

    def selected_sources(self) -> list[tuple[int, int]]:
        found = [self.proxy.mapToSource(i) for i in self.view.selectionModel().selectedIndexes()]
        return sorted((i.row(), i.column()) for i in found)

    # ---- content

    def set_matrix(self, cases, variants, samples: int = 1) -> None:
        self.model.set_matrix(cases, variants)
        self._samples = samples
        self.proxy.refresh()
        self._update_caption()
        self.show_empty(not cases or not variants)
        self.show_detail()

    def _update_caption(self) -> None:
        cases, variants = self.model.rowCount(), self.model.columnCount()
        samples = getattr(self, "_samples", 1)
        text = (f"{variants} variants × {cases} test cases × {samples} "
                f"sample{'s' if samples != 1 else ''} = {cases * variants * samples} calls")
        shown = self.proxy.rowCount()
        if shown != cases:
            text = f"showing {shown} of {cases} rows · " + text
        self.header.caption.setText(text)

    def _changed(self, top_left, _bottom_right, _roles=None) -> None:
        current = self.current_source()
        if current == (top_left.row(), top_left.column()):
            self.show_detail()

    def show_detail(self) -> None:
        current = self.current_source()
        if current is None:
            self.detail.clear()
            return
        row, column = current
        variant = self.model.headerData(column, Qt.Orientation.Horizontal) or ""
        case = self.model.headerData(row, Qt.Orientation.Vertical) or ""
        self.detail.setHtml(detail_html(self.model.cell(row, column),
                                        variant.split("\n")[0], case))


class HistoryPane(_StackedPane):
    """Every logged call, newest first: full-text search and filters, loaded page by page."""

    SEARCH_DELAY_MS = 250
    SINCE = (("Any time", None), ("Last hour", 1), ("Today", 24), ("Last 7 days", 24 * 7),
             ("Last 30 days", 24 * 30))

    def __init__(self) -> None:
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search prompts and outputs…")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(220)
        self.status = QComboBox()
        for label, value in (("Any status", None), ("OK", "ok"), ("Errors", "error"),
                             ("Cancelled", "cancelled")):
            self.status.addItem(label, value)
        self.variant, self.model_filter = QComboBox(), QComboBox()
        self.experiment, self.tag = QComboBox(), QComboBox()
        for combo, everything in ((self.variant, "Any variant"), (self.model_filter, "Any model"),
                                  (self.experiment, "Any experiment"), (self.tag, "Any tag")):
            combo.addItem(everything, None)
        self.rating = QComboBox()
        for label, value in (("Any rating", None), ("Thumbs up", "up"), ("Score ≥ 4", 4),
                             ("Score 5", 5)):
            self.rating.addItem(label, value)
        self.since = QComboBox()
        for label, hours in self.SINCE:
            self.since.addItem(label, hours)
        self.view = QTableView()
        header = PaneHeader("History")
        for widget in (self.status, self.variant, self.model_filter, self.experiment, self.rating,
                       self.tag, self.since, self.search):
            header.add_widget(widget)
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
        for combo in (self.status, self.variant, self.model_filter, self.experiment, self.rating,
                      self.tag, self.since):
            combo.currentIndexChanged.connect(lambda _i: self._apply_search())

    def set_choices(self, choices: dict[str, list[str]]) -> None:
        """Fill the filter menus with the values that occur in the log, keeping selections."""
        for combo, key in ((self.variant, "variants"), (self.model_filter, "models"),
                           (self.experiment, "experiments"), (self.tag, "tags")):
            current = combo.currentData()
            combo.blockSignals(True)
            while combo.count() > 1:
                combo.removeItem(1)
            for value in choices.get(key, []):
                combo.addItem(value, value)
            index = combo.findData(current)
            combo.setCurrentIndex(index if index >= 0 else 0)
            combo.blockSignals(False)

    def filters(self):
        hours = self.since.currentData()
        rating = self.rating.currentData()
        return CallFilters(
            status=self.status.currentData(), variant=self.variant.currentData(),
            model=self.model_filter.currentData(), experiment=self.experiment.currentData(),
            tag=self.tag.currentData(), thumbs_up=rating == "up",
            min_score=rating if isinstance(rating, int) else None,
            since=(datetime.now(timezone.utc) - timedelta(hours=hours)).isoformat(
                timespec="milliseconds") if hours else None,
        )

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
        model.set_search(None, self.filters())

    def _apply_search(self) -> None:
        if self.model is not None:
            self.model.set_search(self.search.text().strip() or None, self.filters())

    def _filtering(self) -> bool:
        return bool(self.search.text().strip()) or any(
            combo.currentIndex() > 0 for combo in (self.status, self.variant, self.model_filter,
                                                   self.experiment, self.rating, self.tag,
                                                   self.since))

    def _on_loaded(self, rows: int) -> None:
        filtering = self._filtering()
        self.header.caption.setText(
            f"{rows:,}{'+' if self.model and self.model.canFetchMore() else ''} "
            f"{'matching ' if filtering else ''}calls"
        )
        if filtering and rows == 0:
            self.empty.title.setText("No matches")
            self.empty.body.setText("No logged call matches the search and filters.")
        else:
            self.empty.title.setText("No calls logged yet")
            self.empty.body.setText(
                "Every call a run makes is kept here, newest first, with its exact request, "
                "output, tokens, latency and cost."
            )
        self.show_empty(rows == 0)
