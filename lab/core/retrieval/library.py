"""A project's documents as the window's Documents pane shows and changes them.

The project lists its document entries (`Project.documents`: a file, folder or glob, each with
its chunk size and overlap); the workspace holds the documents read from them. `library` pairs
the two: every entry with the documents stored for it, and for each document whether its file
changed on disk since it was indexed (or is gone). `index_entries` (re)indexes entries with
progress and cancel, each at its own chunking; `entry_path` writes a new entry's path relative
to the project's experiment file when it lies beside it, so the file stays portable. `search`
is the lexical search runs use, for trying a query by hand.

Everything here reads the disk or the workspace: call it on the store thread.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.core.model import DocumentSource, Project, RetrievedChunk
from lab.core.retrieval.context import retrieved
from lab.core.retrieval.indexing import IndexReport, add_documents, expand
from lab.core.retrieval.reading import DocumentError, read_document

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store

UNCHANGED, CHANGED, MISSING = "", "changed", "missing"


@dataclass
class LibraryDocument:
    """One stored document, as listed."""

    id: int
    name: str  # as citations give it
    source_path: str  # the file it was read from
    kind: str
    chunks: int  # at its own chunking
    chars: int
    indexed_at: str  # ISO time, UTC
    on_disk: str = UNCHANGED  # UNCHANGED, CHANGED or MISSING
    size_bytes: int | None = None  # of the file now; None when it is gone


@dataclass
class LibraryEntry:
    """A document entry of the project with its documents; `source` None gathers documents
    that no entry names any more (still searched by runs until removed)."""

    source: DocumentSource | None
    documents: list[LibraryDocument] = field(default_factory=list)
    problem: str = ""  # why the entry finds no files, e.g. a folder that is not there
    kind: str = ""  # file, folder or pattern

    @property
    def chunks(self) -> int:
        return sum(d.chunks for d in self.documents)


def base_dir(project: Project) -> Path | None:
    """The folder entry paths are relative to: the experiment file's, if the project has one."""
    return Path(project.source_path).parent if project.source_path else None


def entry_path(path: str | Path, project: Project) -> str:
    """How a file or folder the user picked is written in the project's entries: relative to
    its experiment file's folder when inside it (the file then works from any checkout),
    otherwise absolute."""
    chosen = Path(path).expanduser().resolve()
    base = base_dir(project)
    if base is not None:
        try:
            relative = chosen.relative_to(base.resolve()).as_posix()
            return relative + ("/" if chosen.is_dir() else "") if relative != "." else "./"
        except ValueError:
            pass
    return str(chosen) + (os.sep if chosen.is_dir() else "")


def _resolved(source: DocumentSource, base: Path | None) -> Path:
    path = Path(source.path).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
    return path


def _belongs(document_path: str, source: DocumentSource, base: Path | None) -> bool:
    """A stored document whose file is gone still belongs to the entry that would name it."""
    where = _resolved(source, base)
    if any(ch in source.path for ch in "*?["):
        return fnmatch.fnmatch(document_path, str(where))
    try:
        Path(document_path).relative_to(where.resolve())
        return True
    except (ValueError, OSError):
        return False


def _indexed_at(text: str) -> float:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()
    except (TypeError, ValueError):
        return 0.0


def _state(row: dict[str, Any]) -> tuple[str, int | None]:
    """Whether the file changed since it was indexed: a newer file is read and its text
    compared, so a file saved again unchanged is not flagged."""
    path = Path(row["source_path"])
    try:
        stat = path.stat()
    except OSError:
        return MISSING, None
    if stat.st_mtime <= _indexed_at(row["updated_at"]):
        return UNCHANGED, stat.st_size
    try:
        same = read_document(path).content_hash == row["content_hash"]
    except DocumentError:
        same = False  # re-indexing says what is wrong with it
    return (UNCHANGED if same else CHANGED), stat.st_size


def library(store: Store, project: Project) -> list[LibraryEntry]:
    """The project's entries, each with its stored documents and their state on disk, then
    (if any) the documents no entry names now."""
    if project.id is None:
        return [LibraryEntry(source) for source in project.documents]
    base = base_dir(project)
    rows = store.list_documents(project.id)
    documents = {}
    for row in rows:
        on_disk, size = _state(row)
        documents[row["source_path"]] = LibraryDocument(
            row["id"], row["name"], row["source_path"], row["kind"], row["chunks"], row["chars"],
            row["updated_at"], on_disk, size)
    entries: list[LibraryEntry] = []
    for source in project.documents:
        files, problems, _left_out = expand([source.path], base)
        kind = ("pattern" if any(ch in source.path for ch in "*?[") else
                "folder" if _resolved(source, base).is_dir() or source.path.endswith(("/", os.sep))
                else "file")
        entry = LibraryEntry(source, problem=" ".join(problems), kind=kind)
        for file, _name in files:
            document = documents.pop(str(file), None)
            if document is not None:
                entry.documents.append(document)
        for path in [p for p in documents if _belongs(p, source, base)]:
            entry.documents.append(documents.pop(path))
        entry.documents.sort(key=lambda d: d.name)
        entries.append(entry)
    if documents:
        entries.append(LibraryEntry(None, sorted(documents.values(), key=lambda d: d.name)))
    return entries


Progress = Callable[[int, int], None]


def index_entries(store: Store, project: Project, sources: Iterable[DocumentSource],
                  progress: Progress | None = None,
                  cancelled: Callable[[], bool] | None = None) -> IndexReport:
    """Read, chunk and store the files of `sources` (entries of `project`), each at its own
    chunk size and overlap; files unchanged since they were indexed are left as they are.
    `progress(done, total)` counts files across all the entries."""
    if project.id is None:
        raise ValueError("the project must be saved before its documents are indexed")
    base = base_dir(project)
    sources = list(sources)
    counts = [len(expand([s.path], base)[0]) for s in sources]
    total = sum(counts)
    merged = IndexReport()
    done = 0
    for source, count in zip(sources, counts):
        if cancelled is not None and cancelled():
            merged.cancelled = True
            break
        offset = done
        report = add_documents(
            store, project.id, [source.path], base_dir=base,
            chunkings=[(source.chunk_size, source.chunk_overlap)],
            progress=(lambda d, _t, o=offset: progress(o + d, total)) if progress else None,
            cancelled=cancelled)
        done += count
        for name in ("added", "updated", "unchanged", "problems", "left_out"):
            getattr(merged, name).extend(getattr(report, name))
        merged.chunks_kept += report.chunks_kept
        merged.chunks_added += report.chunks_added
        merged.chunks_removed += report.chunks_removed
        merged.cancelled = merged.cancelled or report.cancelled
    return merged


def never_indexed(store: Store, project: Project) -> list[DocumentSource]:
    """Entries none of whose files is in the workspace yet (a project just opened from a
    file, the sample on first start): the pane indexes them without being asked."""
    if project.id is None or not project.documents:
        return []
    stored = {row["source_path"] for row in store.list_documents(project.id)}
    base = base_dir(project)
    return [s for s in project.documents
            if not any(str(file) in stored for file, _ in expand([s.path], base)[0])
            and not any(_belongs(p, s, base) for p in stored)]


def entry_document_ids(store: Store, project: Project, index: int) -> list[int]:
    """The stored documents of the project's entry at `index` (to remove them with it); an
    index past the entries means the documents no entry names."""
    entries = library(store, project)
    if index < len(project.documents):
        return [d.id for d in entries[index].documents]
    return [d.id for e in entries if e.source is None for d in e.documents]


def search(store: Store, project_id: int, query: str, k: int = 8) -> list[RetrievedChunk]:
    """The `k` passages a lexical retrieval would give for `query`, best first, with their
    BM25 scores and citation ids: the same search runs use."""
    return retrieved(store.search_chunks(project_id, None, query, k), "lexical")
