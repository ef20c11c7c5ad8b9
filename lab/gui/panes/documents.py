"""The documents pane: the open project's documents for retrieval, and trying a search on them.

On the left, the project's document entries (a file, folder or pattern, each with its chunk
size and overlap) with the documents read from them: name, kind, chunks, size, when indexed,
whether the file changed on disk since, and where it is. On the right, a search box that shows
the passages a lexical retrieval would give for a query, with their BM25 scores (with no query,
the selected document's chunks), and the selected passage in full. While documents are indexed
a progress bar with Cancel shows; files that could not be read are listed with what to do.

The pane shows what the documents controller gives it and reports what the user asked for.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lab.gui.panes.pane import StackedPane, tool_button
from lab.gui.widgets import ElidedLabel, EmptyState, PaneHeader

ROLE = Qt.ItemDataRole.UserRole
DOC_COLUMNS = ("Name", "Kind", "Chunks", "Size", "Indexed", "On disk", "Source")
HIT_COLUMNS = ("#", "Passage", "Score", "Section")
ON_DISK = {"": "", "changed": "changed", "missing": "missing"}
SEARCH_DELAY_MS = 300


def _size(size: int | None) -> str:
    if size is None:
        return ""
    return f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} B"


def _when(stamp: str) -> str:
    """When a document was indexed, in local time (the workspace keeps UTC)."""
    try:
        when = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return ""
    if when.tzinfo is None:  # older rows: UTC without its offset
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


class DocumentsPane(StackedPane):
    add_files_requested = Signal()
    add_folder_requested = Signal()
    reindex_requested = Signal()
    remove_requested = Signal()
    cancel_requested = Signal()
    chunking_edited = Signal(int, int)  # size, overlap (of the selected entry, or new ones)
    search_requested = Signal(str)
    document_selected = Signal(int)  # document id
    entry_selected = Signal(int)  # entry row, or -1

    def __init__(self) -> None:
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(DOC_COLUMNS))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.tree.setColumnWidth(0, 190)
        for column, width in ((1, 70), (2, 56), (3, 68), (4, 118), (5, 66)):
            self.tree.setColumnWidth(column, width)
        self.chunk_size = QSpinBox()
        self.chunk_size.setRange(20, 8000)
        self.chunk_size.setSingleStep(50)
        self.chunk_size.setValue(400)
        self.chunk_size.setSuffix(" tokens")
        self.chunk_size.setToolTip("About how long each passage is (the lab's token estimate); "
                                   "a heading always starts a new one")
        self.chunk_overlap = QSpinBox()
        self.chunk_overlap.setRange(0, 199)
        self.chunk_overlap.setValue(50)
        self.chunk_overlap.setSuffix(" tokens")
        self.chunk_overlap.setToolTip("How much of a passage's end the next one repeats, so "
                                      "an answer cut in two is still found whole")
        self.chunking_for = QLabel("Chunking of new entries")
        self.chunking_for.setObjectName("PaneCaption")
        self.chunking_hint = QLabel()
        self.chunking_hint.setObjectName("PaneCaption")
        chunking = QHBoxLayout()
        chunking.setContentsMargins(6, 2, 6, 2)
        chunking.setSpacing(6)
        chunking.addWidget(self.chunking_for)
        chunking.addWidget(self.chunk_size)
        chunking.addSpacing(6)
        overlap_label = QLabel("overlap")
        overlap_label.setObjectName("PaneCaption")
        chunking.addWidget(overlap_label)
        chunking.addWidget(self.chunk_overlap)
        chunking.addWidget(self.chunking_hint, 1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(0)
        left_layout.addWidget(self.tree, 1)
        left_layout.addLayout(chunking)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search the documents as a lexical retrieval would…")
        self.search.setClearButtonEnabled(True)
        self.hits = QTreeWidget()
        self.hits.setHeaderLabels(list(HIT_COLUMNS))
        self.hits.setRootIsDecorated(False)
        self.hits.setAlternatingRowColors(True)
        self.hits.setUniformRowHeights(True)
        self.hits.header().setStretchLastSection(True)
        self.hits.setColumnWidth(0, 34)
        self.hits.setColumnWidth(1, 130)
        self.hits.setColumnWidth(2, 60)
        self.hits_caption = ElidedLabel("Select a document to see its chunks, or search.")
        self.hits_caption.setObjectName("PaneCaption")
        self.preview = QTextBrowser()
        self.preview.setPlaceholderText("The selected passage in full.")
        right_split = QSplitter(Qt.Orientation.Vertical)
        right_split.addWidget(self.hits)
        right_split.addWidget(self.preview)
        right_split.setChildrenCollapsible(False)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(2)
        right_layout.addWidget(self.search)
        right_layout.addWidget(self.hits_caption)
        right_layout.addWidget(right_split, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        self.split = split

        self.progress_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop reading; the files read so far are kept")
        self.progress_row = QWidget()
        progress_layout = QHBoxLayout(self.progress_row)
        progress_layout.setContentsMargins(10, 2, 8, 2)
        progress_layout.addWidget(self.progress_label, 1)
        progress_layout.addWidget(self.progress)
        progress_layout.addWidget(self.cancel_button)
        self.progress_row.hide()
        self.notice = QLabel()
        self.notice.setObjectName("DocumentsNotice")
        self.notice.setWordWrap(True)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.setContentsMargins(10, 2, 8, 2)
        self.notice.hide()

        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.setSpacing(0)
        content_layout.addWidget(self.progress_row)
        content_layout.addWidget(self.notice)
        content_layout.addWidget(split, 1)
        super().__init__(PaneHeader("Documents"), content, EmptyState(
            "No documents yet",
            "Add files or a folder: their passages can fill {{context}} in a variant whose "
            "retrieval is on, each with a citation id such as [refunds.md#2]."))
        self.add_files_button = tool_button("Add files…", "Add documents (.txt, .md, .html, "
                                            ".pdf, .csv, .jsonl) to the project",
                                            self.add_files_requested.emit)
        self.add_folder_button = tool_button("Add folder…", "Add every document in a folder "
                                             "and its subfolders", self.add_folder_requested.emit)
        self.reindex_button = tool_button("Re-index", "Read the selected entry's files again "
                                          "(every entry's if none is selected); only what "
                                          "changed is chunked again", self.reindex_requested.emit)
        self.remove_button = tool_button("Remove", "Take the selected entry and its documents "
                                         "out of the project (the files are not touched)",
                                         self.remove_requested.emit)
        for button in (self.add_files_button, self.add_folder_button, self.reindex_button,
                       self.remove_button):
            self.header.add_widget(button)
        self._loading = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(lambda: self.search_requested.emit(self.search.text().strip()))
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.search.returnPressed.connect(self._timer.timeout.emit)
        self.cancel_button.clicked.connect(self.cancel_requested.emit)
        self.tree.currentItemChanged.connect(self._tree_selected)
        self.hits.currentItemChanged.connect(self._hit_selected)
        self.chunk_size.valueChanged.connect(self._chunking_changed)
        self.chunk_overlap.valueChanged.connect(self._chunking_changed)
        self.show_entries([])

    # ---- the entries and their documents

    def show_entries(self, entries: list[Any]) -> None:
        """`entries`: LibraryEntry objects (lab.core.retrieval.library), the selection kept."""
        selected = self.selected()
        self._loading = True
        try:
            self.tree.clear()
            documents = chunks = 0
            for row, entry in enumerate(entries):
                item = self._entry_item(entry, row)
                self.tree.addTopLevelItem(item)
                item.setExpanded(True)
                documents += len(entry.documents)
                chunks += entry.chunks
            self.header.caption.setText(
                f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} · {documents} "
                f"document{'' if documents == 1 else 's'} · {chunks} chunks" if entries else "")
            self.show_empty(not entries)
        finally:
            self._loading = False
        self._reselect(selected)

    def _entry_item(self, entry: Any, row: int) -> QTreeWidgetItem:
        source = entry.source
        changed = sum(d.on_disk == "changed" for d in entry.documents)
        missing = sum(d.on_disk == "missing" for d in entry.documents)
        state = ", ".join(part for part in (f"{changed} changed" if changed else "",
                                            f"{missing} missing" if missing else "") if part)
        sizes = [d.size_bytes for d in entry.documents if d.size_bytes is not None]
        newest = max((d.indexed_at for d in entry.documents), default="")
        if source is None:
            values = ("Not in any entry", "", str(entry.chunks), _size(sum(sizes)), _when(newest),
                      state, "")
        else:
            name = source.path.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1] or source.path
            if entry.kind == "folder":
                name += "/"
            values = (name, entry.kind, str(entry.chunks), _size(sum(sizes)) if sizes else "",
                      _when(newest), state or ("not indexed" if not entry.documents
                                               and not entry.problem else ""), source.path)
        item = QTreeWidgetItem(list(values))
        item.setData(0, ROLE, ("entry", row))
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        tip = ("Documents read from an entry since taken out of the project, or from files no "
               "entry names now; runs still search them until removed" if source is None else
               f"{source.path}\nChunk size {source.chunk_size}, overlap {source.chunk_overlap}")
        if entry.problem:
            item.setText(5, "not found")
            tip += f"\n{entry.problem}"
        item.setToolTip(0, tip)
        for document in entry.documents:
            child = QTreeWidgetItem([document.name, document.kind, str(document.chunks),
                                     _size(document.size_bytes), _when(document.indexed_at),
                                     ON_DISK.get(document.on_disk, document.on_disk),
                                     document.source_path])
            child.setData(0, ROLE, ("document", document.id, row))
            child.setToolTip(0, document.source_path)
            child.setToolTip(6, document.source_path)
            if document.on_disk:
                child.setToolTip(5, "The file changed since it was indexed: Re-index reads it "
                                 "again" if document.on_disk == "changed" else
                                 "The file is not there any more; Remove takes it out")
            item.addChild(child)
        return item

    def selected(self) -> tuple | None:
        """("entry", row) or ("document", id, entry row) of the selected line, or None."""
        item = self.tree.currentItem()
        return item.data(0, ROLE) if item is not None else None

    def selected_entry_row(self) -> int:
        chosen = self.selected()
        if chosen is None:
            return -1
        return chosen[1] if chosen[0] == "entry" else chosen[2]

    def select_document(self, name: str) -> bool:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                if top.child(j).text(0) == name:
                    self.tree.setCurrentItem(top.child(j))
                    return True
        return False

    def _reselect(self, selected: tuple | None) -> None:
        if selected is None:
            return
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for item in (top, *(top.child(j) for j in range(top.childCount()))):
                if item.data(0, ROLE)[:2] == selected[:2]:
                    self.tree.setCurrentItem(item)
                    return

    def _tree_selected(self, current: QTreeWidgetItem | None, _previous) -> None:
        if self._loading:
            return
        data = current.data(0, ROLE) if current is not None else None
        self.entry_selected.emit(self.selected_entry_row())
        if data is not None and data[0] == "document" and not self.search.text().strip():
            self.document_selected.emit(data[1])

    def show_chunking(self, size: int, overlap: int, entry: str | None) -> None:
        """The chunking of the selected entry (`entry` its path), or of new entries (None)."""
        self._loading = True
        try:
            self.chunk_overlap.setMaximum(max(size // 2 - 1, 0))
            self.chunk_size.setValue(size)
            self.chunk_overlap.setValue(overlap)
            self.chunking_for.setText(f"Chunking of {entry}" if entry else
                                      "Chunking of new entries")
            self.chunking_hint.setText("")
        finally:
            self._loading = False

    def _chunking_changed(self) -> None:
        self.chunk_overlap.setMaximum(max(self.chunk_size.value() // 2 - 1, 0))
        if not self._loading:
            self.chunking_edited.emit(self.chunk_size.value(), self.chunk_overlap.value())

    # ---- passages: a document's chunks, or search results

    def show_passages(self, passages: list[Any], caption: str, scored: bool) -> None:
        """`passages`: RetrievedChunk (search results, `scored`) or StoredChunk (a document's)."""
        self.hits.clear()
        for passage in passages:
            number = passage.rank if scored else passage.position
            label = passage.citation if scored else f"{passage.document}#{passage.position}"
            item = QTreeWidgetItem([str(number), label, f"{passage.score:.2f}" if scored else "",
                                    passage.heading])
            item.setData(0, ROLE, passage)
            item.setToolTip(1, " ".join(passage.text.split())[:300])
            self.hits.addTopLevelItem(item)
        self.hits.setColumnHidden(2, not scored)
        self.hits_caption.setText(caption)
        if passages:
            self.hits.setCurrentItem(self.hits.topLevelItem(0))
        else:
            self.preview.clear()

    def _hit_selected(self, current: QTreeWidgetItem | None, _previous) -> None:
        passage = current.data(0, ROLE) if current is not None else None
        if passage is None:
            self.preview.clear()
            return
        label = getattr(passage, "citation", None) or f"{passage.document}#{passage.position}"
        facts = [f"<b>[{html.escape(label)}]</b>"]
        if passage.heading:
            facts.append(html.escape(passage.heading))
        if getattr(passage, "score", None) is not None:
            facts.append(f"BM25 score {passage.score:.2f} · rank {passage.rank}")
        self.preview.setHtml(" · ".join(facts) + "<pre style='white-space: pre-wrap'>"
                             + html.escape(passage.text) + "</pre>")

    # ---- indexing

    def show_progress(self, text: str | None, done: int = 0, total: int = 0) -> None:
        """Indexing: `text` says what (None: finished), with files done of total."""
        busy = text is not None
        if busy:
            self.show_empty(False)  # the first entry of a project: its progress shows
        self.progress_row.setVisible(busy)
        for button in (self.add_files_button, self.add_folder_button, self.reindex_button,
                       self.remove_button):
            button.setEnabled(not busy)
        if busy:
            self.progress_label.setText(text)
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)
            self.progress.setFormat(f"{done} of {total} files" if total else "")

    def show_notice(self, text: str, problem: bool = False) -> None:
        self.notice.setText(text)
        self.notice.setStyleSheet("color: #c9302c;" if problem else "")
        self.notice.setVisible(bool(text))
