"""The history pane: every logged call, newest first, with full-text search and filters, and the
selected call in full beside it (as the results grid's detail panel shows it), with buttons to
rate it, promote it to a few-shot example, or open the run it belongs to.

The call log is a lazy Qt table: pages of rows arrive from the store thread as the view scrolls.
The view asks `canFetchMore`/`fetchMore` when it nears the end; each page is one indexed query
keyed on the last id seen, run on the store thread, so opening History on 100,000 calls costs one
page, and the GUI thread never waits for SQLite.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from lab.core.workspace.history import CallFilters
from lab.core.workspace.thread import StoreThread
from lab.gui.panes.call_detail import CallDetail
from lab.gui.panes.pane import Index, StackedPane
from lab.gui.panes.result_cells import CellResult
from lab.gui.tasks import when_done
from lab.gui.widgets import EmptyState, PaneHeader

PAGE_SIZE = 200

COLUMNS = (
    ("When", "created_at"),
    ("Variant", "variant_name"),
    ("Model", "model"),
    ("Status", "status"),
    ("Latency", "latency_ms"),
    ("Tokens", "tokens"),
    ("Cost", "cost_usd"),
    ("Output", "response_preview"),
)


def _format(key: str, row: dict[str, Any]) -> str:
    if key == "created_at":
        return (row["created_at"] or "").replace("T", " ")[:19]
    if key == "model":
        return f"{row['provider']}/{row['model']}"
    if key == "latency_ms":
        value = row["latency_ms"]
        return "" if value is None else f"{value / 1000:.2f} s"
    if key == "tokens":
        return f"{row['input_tokens'] or 0} → {row['output_tokens'] or 0}"
    if key == "cost_usd":
        value = row["cost_usd"]
        return "" if value is None else f"${value:.4f}"
    if key == "response_preview":
        text = row["response_preview"] or row.get("error_type") or ""
        return " ".join(text.split())
    return str(row.get(key) or "")


class HistoryTableModel(QAbstractTableModel):
    """Newest calls first; loads more as the user scrolls; optional full-text search."""

    loaded = Signal(int)  # rows now loaded
    failed = Signal(str)

    def __init__(self, store: StoreThread):
        super().__init__()
        self._store = store
        self._rows: list[dict[str, Any]] = []
        self._search: str | None = None
        self._filters = CallFilters()
        self._exhausted = False
        self._pending = False
        self._generation = 0  # pages from a superseded search are dropped

    def set_search(self, text: str | None, filters: CallFilters | None = None) -> None:
        self.beginResetModel()
        self._rows = []
        self._search = text or None
        if filters is not None:
            self._filters = filters
        self._exhausted = False
        self._pending = False
        self._generation += 1
        self.endResetModel()
        self.fetchMore(QModelIndex())

    def refresh(self) -> None:
        self.set_search(self._search)

    def row_data(self, row: int) -> dict[str, Any]:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][0]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        key = COLUMNS[index.column()][1]
        if role == Qt.ItemDataRole.DisplayRole:
            return _format(key, row)
        if role == Qt.ItemDataRole.TextAlignmentRole and key in ("latency_ms", "cost_usd", "tokens"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        return not parent.isValid() and not self._exhausted and not self._pending

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if not self.canFetchMore(parent):
            return
        self._pending = True
        before = self._rows[-1]["id"] if self._rows else None
        search, filters, generation = self._search, self._filters, self._generation
        future = self._store.submit(
            lambda store: store.page_calls(limit=PAGE_SIZE, before_id=before, search=search,
                                           filters=filters)
        )
        when_done(
            future,
            lambda rows: self._append(rows, generation),
            lambda exc: self._fail(exc, generation),
        )

    def _append(self, rows: list[dict[str, Any]], generation: int) -> None:
        if generation != self._generation:
            return
        self._pending = False
        if len(rows) < PAGE_SIZE:
            self._exhausted = True
        if rows:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()
        self.loaded.emit(len(self._rows))

    def _fail(self, exc: BaseException, generation: int) -> None:
        if generation != self._generation:
            return
        self._pending = False
        self._exhausted = True
        self.failed.emit(str(exc))


class HistoryPane(StackedPane):
    """Every logged call, newest first: full-text search and filters, loaded page by page; the
    selected call in full below (request, output, checks, usage), to promote, rate or open."""

    call_selected = Signal(int)  # call id
    promote_requested = Signal(int)
    rate_requested = Signal(int, int)  # call id, thumbs (+1 / -1)
    open_run_requested = Signal(int)

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
        self.detail = CallDetail()
        self.detail.setPlaceholderText("Select a call to see its request, output, checks and "
                                       "usage.")
        self.up_button = QPushButton("Thumbs up")
        self.up_button.setToolTip("A good output (again: clears it)")
        self.down_button = QPushButton("Thumbs down")
        self.down_button.setToolTip("A bad output (again: clears it)")
        self.promote_button = QPushButton("Promote to example")
        self.promote_button.setToolTip("Add this output as a few-shot example of its variant")
        self.open_run_button = QPushButton("Open its run")
        self.open_run_button.setToolTip("Show the run this call belongs to in the results grid")
        actions = QHBoxLayout()
        for button in (self.up_button, self.down_button, self.promote_button,
                       self.open_run_button):
            actions.addWidget(button)
        actions.addStretch(1)
        detail_box = QWidget()
        detail_layout = QVBoxLayout(detail_box)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.detail, 1)
        detail_layout.addLayout(actions)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(detail_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        self.selected_call: int | None = None
        self.show_call(None)
        header = PaneHeader("History")
        for widget in (self.status, self.variant, self.model_filter, self.experiment, self.rating,
                       self.tag, self.since, self.search):
            header.add_widget(widget)
        super().__init__(
            header,
            split,
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
        self.up_button.clicked.connect(lambda: self._act(self.rate_requested, 1))
        self.down_button.clicked.connect(lambda: self._act(self.rate_requested, -1))
        self.promote_button.clicked.connect(lambda: self._act(self.promote_requested))
        self.open_run_button.clicked.connect(lambda: self._act(self.open_run_requested))

    def _act(self, signal, *extra) -> None:
        if self.selected_call is not None:
            signal.emit(self.selected_call, *extra)

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
        if model is self.model:  # the same call log (another project of the workspace)
            model.set_search(self.search.text().strip() or None, self.filters())
            return
        self.model = model
        self.view.setModel(model)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setWordWrap(False)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.horizontalHeader().setStretchLastSection(True)
        model.loaded.connect(self._on_loaded)
        self.view.selectionModel().currentRowChanged.connect(self._row_selected)
        model.set_search(None, self.filters())

    def _row_selected(self, current, _previous) -> None:
        if self.model is None or not current.isValid():
            return
        call_id = self.model.row_data(current.row())["id"]
        self.selected_call = call_id
        self.call_selected.emit(call_id)

    def show_call(self, cell: CellResult | None, variant: str = "", case: str = "",
                  parts: dict[str, list[dict[str, Any]]] | None = None, *, judged: bool = False,
                  has_run: bool = False) -> None:
        """The selected call in full, with its passages and chain steps (None: nothing
        selected)."""
        if cell is None:
            self.detail.clear()
        else:
            self.detail.show_call(cell, variant, case, parts)
        for button in (self.up_button, self.down_button, self.promote_button):
            button.setEnabled(cell is not None and judged)
        self.open_run_button.setEnabled(cell is not None and has_run)

    def select_call_row(self, row: int) -> None:
        self.view.setCurrentIndex(self.model.index(row, 0))

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
