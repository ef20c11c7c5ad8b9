"""The call log as a lazy Qt table: pages of rows arrive from the store thread as the view scrolls.

The view asks `canFetchMore`/`fetchMore` when it nears the end; each page is one indexed query
keyed on the last id seen, run on the store thread, so opening History on 100,000 calls costs one
page, and the GUI thread never waits for SQLite.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from lab.core.workspace.history import CallFilters
from lab.core.workspace.thread import StoreThread
from lab.gui.tasks import when_done

PAGE_SIZE = 200
Index = QModelIndex | QPersistentModelIndex

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
