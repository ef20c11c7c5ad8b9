"""The results pane: the grid of test cases × variants (results_grid.py), filtered and ordered on
demand, over the detail panel of the selected cell (call_detail.py).
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from lab.gui.panes.call_detail import CallDetail
from lab.gui.panes.pane import StackedPane, table_view
from lab.gui.panes.results_grid import (
    ResultCellDelegate,
    ResultsFilterProxy,
    ResultsGridModel,
)
from lab.gui.widgets import EmptyState, PaneHeader


class ResultsPane(StackedPane):
    """The run matrix, filtered and sorted on demand, and everything about the selected cell."""

    back_requested = Signal()  # leave an earlier run shown as it was
    samples_requested = Signal(int, int)  # row, column: show the cell's samples side by side
    parts_needed = Signal(int)  # a logged call shown: its passages and chain steps, please

    SHOW_LABELS = ("All rows", "A check failed", "An error", "Variants disagree")
    SORT_LABELS = ("Test case order", "Checks passed", "Latency", "Cost", "Output length")

    def __init__(self) -> None:
        self.model = ResultsGridModel()
        self.proxy = ResultsFilterProxy(self.model)
        self.view = table_view(self.proxy)
        self.delegate = ResultCellDelegate(self.view)
        self.view.setItemDelegate(self.delegate)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        # Outputs need room to be read; past a few variants the grid scrolls sideways instead.
        self.view.horizontalHeader().setMinimumSectionSize(160)
        self.view.horizontalHeader().setMinimumHeight(44)
        self.detail = CallDetail()
        self.detail.setPlaceholderText("Select a cell to see its full output, checks, usage "
                                       "and the exact request.")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        # Shown while an earlier run is open in the grid, as it was.
        self.viewing = QLabel()
        self.viewing.setObjectName("ViewingRun")
        self.back_button = QPushButton("Back to the latest run")
        self.banner = QFrame()
        self.banner.setObjectName("RunBanner")
        self.banner.setStyleSheet("#RunBanner { background: palette(alternate-base); }")
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(10, 4, 8, 4)
        banner_layout.addWidget(self.viewing, 1)
        banner_layout.addWidget(self.back_button)
        self.banner.hide()
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.setSpacing(0)
        content_layout.addWidget(self.banner)
        content_layout.addWidget(split, 1)
        super().__init__(
            PaneHeader("Results"),
            content,
            EmptyState(
                "Nothing to compare yet",
                "Add a variant and a test case; the results grid then shows every test case "
                "against every variant.",
            ),
        )
        self.back_button.clicked.connect(self.back_requested.emit)
        self.delegate.samples_clicked.connect(self._samples_clicked)
        self.detail.link_clicked.connect(self._detail_link)
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

    def _samples_clicked(self, index) -> None:
        source = self.proxy.mapToSource(index)
        self.samples_requested.emit(source.row(), source.column())

    def _detail_link(self, link: str) -> None:
        current = self.current_source()
        if link == "samples" and current is not None:
            self.samples_requested.emit(*current)

    def show_viewing(self, text: str | None) -> None:
        """An earlier run is shown as it was (`text` says which), or None: the project's own."""
        self.banner.setVisible(text is not None)
        self.viewing.setText(text or "")

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
        cell = self.model.cell(row, column)
        self.detail.show_call(cell, variant.split("\n")[0], case)
        call_id = cell.logged_id if cell is not None else None
        if (call_id is not None and self.detail.parts is None
                and cell.status not in ("running", "pending")):
            self.parts_needed.emit(call_id)
