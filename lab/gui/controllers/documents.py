"""The open project's documents: its entries listed with their documents, files and folders
added, entries re-indexed or removed, each entry's chunk size and overlap, and the search runs
use tried by hand (lab.core.retrieval.library does the work, on the store thread).

Indexing shows its progress in the pane and can be cancelled (the files read so far are kept).
An entry none of whose files has been read yet (a project just opened from a file, the policy
sample on first start) is indexed when its project opens, without being asked. Entries are
project edits, saved like any other but not on the undo stack: adding or removing one also
changes what the workspace holds, which undo would not bring back.
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from lab.core.model import DocumentSource, Project
from lab.gui.controllers.session import Session
from lab.gui.dialogs import messages
from lab.gui.panes.documents import DocumentsPane
from lab.gui.tasks import when_done

if TYPE_CHECKING:  # annotations only: loaded where used, not before the first paint
    from lab.core.retrieval.indexing import IndexReport
    from lab.core.workspace.store import Store

FILE_FILTER = ("Documents (*.txt *.text *.md *.markdown *.html *.htm *.pdf *.csv *.jsonl);;"
               "All files (*)")
SEARCH_K = 8
SHOWN_PROBLEMS = 5


class _Progress(QObject):
    """Indexing progress, emitted on the store thread and delivered on the GUI thread."""

    progressed = Signal(int, int)


class DocumentsController(QObject):
    changed = Signal()  # entries or their documents changed: runs would retrieve otherwise

    def __init__(self, session: Session, pane: DocumentsPane, window: QMainWindow):
        super().__init__(window)
        self._session = session
        self._pane = pane
        self._window = window
        self._status = window.statusBar()
        self._entries: list[Any] = []  # LibraryEntry objects, as last listed
        self._new_chunking = (400, 50)
        self._cancel: threading.Event | None = None  # the indexing under way
        self._progress: _Progress | None = None
        self._progress_text = ""
        self._search_generation = 0
        pane.add_files_requested.connect(lambda: self.add_files())
        pane.add_folder_requested.connect(lambda: self.add_folder())
        pane.reindex_requested.connect(self.reindex)
        pane.remove_requested.connect(self.remove)
        pane.cancel_requested.connect(self.cancel)
        pane.chunking_edited.connect(self._chunking_edited)
        pane.entry_selected.connect(self._entry_selected)
        pane.document_selected.connect(self._show_chunks)
        pane.search_requested.connect(self.search)

    @property
    def indexing(self) -> bool:
        return self._cancel is not None

    def _warn(self, title: str):
        return lambda exc: QMessageBox.warning(self._window, title, str(exc))

    # ---- listing

    def show_project(self) -> None:
        """A project was opened: its entries; those never read are read now."""
        self._entries = []
        self._pane.show_notice("")
        self._pane.show_passages([], "Select a document to see its chunks, or search.", False)
        self._entry_selected(-1)
        self.refresh(index_new=True)

    def refresh(self, index_new: bool = False) -> None:
        project = self._session.project
        if project is None:
            return
        snapshot = copy.deepcopy(project)

        def work(store: Store) -> tuple[list[Any], list[int]]:
            from lab.core.retrieval.library import library, never_indexed

            fresh = never_indexed(store, snapshot) if index_new else []
            return library(store, snapshot), [i for i, s in enumerate(snapshot.documents)
                                              if any(s is f for f in fresh)]

        def listed(result: tuple[list[Any], list[int]]) -> None:
            if self._session.project is not project:
                return
            self._entries, fresh = result
            self._pane.show_entries(self._entries)
            self._entry_selected(self._pane.selected_entry_row())
            if fresh and not self.indexing:
                self._index(project, fresh, "Reading this project's documents for the first "
                                            "time…")

        when_done(self._session.store.submit(work), listed,
                  self._warn("Cannot list the documents"))

    # ---- adding, re-indexing, removing

    def add_files(self, paths: list[str] | None = None) -> None:
        if paths is None:
            paths, _ = QFileDialog.getOpenFileNames(self._window, "Add documents",
                                                    str(Path.home()), FILE_FILTER)
        if paths:
            self._add(list(paths))

    def add_folder(self, path: str | None = None) -> None:
        if path is None:
            path = QFileDialog.getExistingDirectory(self._window, "Add a folder of documents",
                                                    str(Path.home()))
        if path:
            self._add([path])

    def _add(self, paths: list[str]) -> None:
        """New entries for `paths` (written relative to the experiment file when beside it),
        saved and indexed; a path already an entry is indexed again."""
        project = self._session.project
        if project is None or self.indexing:
            return
        snapshot = copy.deepcopy(project)

        def written(store: Store) -> list[str]:
            from lab.core.retrieval.library import entry_path

            return [entry_path(p, snapshot) for p in paths]

        def add(entries: list[str]) -> None:
            if self._session.project is not project:
                return
            size, overlap = self._new_chunking
            rows = []
            for path in entries:
                known = next((i for i, s in enumerate(project.documents) if s.path == path), None)
                if known is None:
                    project.documents.append(DocumentSource(path, size, overlap))
                    known = len(project.documents) - 1
                rows.append(known)
            self._session.save()
            self._index(project, sorted(set(rows)), f"Reading {len(entries)} "
                        f"new entr{'y' if len(entries) == 1 else 'ies'}…")

        when_done(self._session.store.submit(written), add, self._warn("Cannot add"))

    def reindex(self) -> None:
        """The selected entry's files read again (every entry's when none is selected)."""
        project = self._session.project
        if project is None or self.indexing or not project.documents:
            return
        row = self._pane.selected_entry_row()
        rows = [row] if 0 <= row < len(project.documents) else list(range(len(project.documents)))
        self._index(project, rows, "Re-indexing " + (project.documents[rows[0]].path
                                                     if len(rows) == 1 else "every entry") + "…")

    def _index(self, project: Project, rows: list[int], what: str) -> None:
        snapshot = copy.deepcopy(project)
        sources = [snapshot.documents[r] for r in rows]
        cancel = threading.Event()
        progress = _Progress(self)
        # emitted on the store thread: delivered here, on the GUI thread, in order
        progress.progressed.connect(self._progressed, Qt.ConnectionType.QueuedConnection)
        self._cancel, self._progress, self._progress_text = cancel, progress, what
        self._pane.show_progress(what)

        def work(store: Store) -> IndexReport:
            from lab.core.retrieval.library import index_entries

            return index_entries(store, snapshot, sources, progress=progress.progressed.emit,
                                 cancelled=cancel.is_set)

        def finished(report: IndexReport | None, error: BaseException | None = None) -> None:
            self._cancel = self._progress = None
            self._pane.show_progress(None)
            if error is not None:
                self._pane.show_notice(f"Indexing stopped: {error}", problem=True)
            else:
                self._report(report)
            self.refresh()
            self.changed.emit()

        when_done(self._session.store.submit(work), finished,
                  lambda exc: finished(None, exc))

    @Slot(int, int)
    def _progressed(self, done: int, total: int) -> None:
        if self._cancel is not None and not self._cancel.is_set():
            self._pane.show_progress(self._progress_text, done, total)

    def _report(self, report: IndexReport) -> None:
        """What indexing did, in the status bar; what went wrong, in the pane, file by file."""
        self._status.showMessage(report.summary(), 8000)
        lines = []
        if report.problems:
            count = len(report.problems)
            lines.append(f"{count} file{'' if count == 1 else 's'} could not be read:")
            lines += [f"• {p}" for p in report.problems[:SHOWN_PROBLEMS]]
            if count > SHOWN_PROBLEMS:
                lines.append(f"… and {count - SHOWN_PROBLEMS} more (hover to see them all).")
        if report.left_out:
            count = len(report.left_out)
            lines.append(f"{count} file{'' if count == 1 else 's'} of a type the lab does not "
                         f"read {'was' if count == 1 else 'were'} left out, e.g. "
                         f"{report.left_out[0]}")
        if report.cancelled:
            lines.append("Cancelled: the files read before are kept; Re-index reads the rest.")
        self._pane.show_notice("\n".join(lines), problem=bool(report.problems))
        self._pane.notice.setToolTip("\n".join(report.problems + report.left_out))

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self._pane.progress_label.setText("Cancelling after this file…")

    def close(self) -> None:
        """The window closes: stop indexing after the file being read."""
        self.cancel()

    def remove(self) -> None:
        project, chosen = self._session.project, self._pane.selected()
        if project is None or self.indexing:
            return
        if chosen is None:
            self._status.showMessage("Select an entry or a document to remove.", 5000)
            return
        row = self._pane.selected_entry_row()
        entry = self._entries[row] if 0 <= row < len(self._entries) else None
        if entry is None:
            return
        if chosen[0] == "document" and entry.source is not None and entry.kind != "file":
            self._pane.show_notice(f"This document comes from {entry.source.path}, which the "
                                   "project reads as a whole: select that entry to remove it, "
                                   "or move the file out of the folder and Re-index.")
            return
        ids = [chosen[1]] if chosen[0] == "document" and entry.source is None else \
            [d.id for d in entry.documents]
        what = (f"the entry {entry.source.path} and its {len(ids)} document"
                f"{'' if len(ids) == 1 else 's'}" if entry.source is not None else
                f"{len(ids)} document{'' if len(ids) == 1 else 's'} no entry names")
        if not messages.confirm(self._window, "Remove documents",
                                f"Take {what} out of the project? The files on disk are not "
                                "touched; runs no longer retrieve from them."):
            return
        if entry.source is not None and row < len(project.documents):
            del project.documents[row]  # the listing's entries are the project's, in order
            self._session.save()

        def gone(_result: None) -> None:
            self._status.showMessage("Removed from the project.", 4000)
            self.refresh()
            self.changed.emit()

        when_done(self._session.store.submit(lambda store: store.delete_documents(ids)), gone,
                  self._warn("Not removed"))

    # ---- chunking

    def _entry_selected(self, row: int) -> None:
        project = self._session.project
        if project is not None and 0 <= row < len(project.documents):
            source = project.documents[row]
            name = Path(source.path.rstrip("/\\")).name or source.path
            self._pane.show_chunking(source.chunk_size, source.chunk_overlap, name)
        else:
            self._pane.show_chunking(*self._new_chunking, None)

    def _chunking_edited(self, size: int, overlap: int) -> None:
        project, row = self._session.project, self._pane.selected_entry_row()
        if project is None:
            return
        if not 0 <= row < len(project.documents):
            self._new_chunking = (size, overlap)
            return
        source = project.documents[row]
        if (source.chunk_size, source.chunk_overlap) == (size, overlap):
            return
        source.chunk_size, source.chunk_overlap = size, overlap
        self._session.save()
        self._pane.chunking_hint.setText("Re-index to apply")
        self.changed.emit()

    # ---- passages

    def search(self, query: str) -> None:
        project = self._session.project
        self._search_generation += 1
        generation = self._search_generation
        if project is None or project.id is None:
            return
        if not query:
            chosen = self._pane.selected()
            if chosen is not None and chosen[0] == "document":
                self._show_chunks(chosen[1])
            else:
                self._pane.show_passages([], "Select a document to see its chunks, or search.",
                                         False)
            return
        project_id = project.id

        def work(store: Store) -> list[Any]:
            from lab.core.retrieval.library import search

            return search(store, project_id, query, SEARCH_K)

        def found(hits: list[Any]) -> None:
            if generation != self._search_generation:
                return
            caption = (f"{len(hits)} passages for “{query}”, best first by BM25, as a run "
                       "retrieves them" if hits else f"No passage matches “{query}”.")
            self._pane.show_passages(hits, caption, True)

        when_done(self._session.store.submit(work), found, self._warn("Cannot search"))

    def _show_chunks(self, document_id: int) -> None:
        self._search_generation += 1
        generation = self._search_generation

        def shown(chunks: list[Any]) -> None:
            if generation != self._search_generation:
                return
            name = chunks[0].document if chunks else "This document"
            self._pane.show_passages(chunks, f"{name}: {len(chunks)} chunks", False)

        when_done(self._session.store.submit(lambda store: store.document_chunks(document_id)),
                  shown, self._warn("Cannot show the chunks"))
