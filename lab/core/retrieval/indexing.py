"""Adding documents to a project: expand paths, read, chunk and store them, changed files only.

`add_documents` takes files, folders and globs (relative to a base folder, e.g. the experiment
file's), reads every supported file beneath them, and stores each under the project with its
source path and content hash. A file whose hash is unchanged is skipped; a changed one is
re-chunked, and only chunks whose text changed are replaced (see `Store.replace_chunks`). A file
that cannot be read is listed with its reason, never skipped silently; an unsupported file type
found inside a folder is listed too.
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lab.core.retrieval.chunking import (
    DEFAULT_OVERLAP,
    DEFAULT_SIZE,
    check_sizes,
    chunk_blocks,
)
from lab.core.retrieval.reading import SUFFIXES, DocumentError, read_document

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store


def chunking_key(size: int = DEFAULT_SIZE, overlap: int = DEFAULT_OVERLAP) -> str:
    """How chunks of one size and overlap are told apart in the workspace: "400/50"."""
    return f"{size}/{overlap}"


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)  # new documents
    updated: list[str] = field(default_factory=list)  # changed since they were added
    unchanged: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one sentence each, naming the file
    left_out: list[str] = field(default_factory=list)  # files of a type the lab does not read
    chunks_kept: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    cancelled: bool = False  # stopped before every file was read (what was read is stored)

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated",
                 f"{len(self.unchanged)} unchanged"]
        text = "Documents: " + ", ".join(parts)
        if self.chunks_added or self.chunks_removed:
            text += f" ({self.chunks_added} new chunks, {self.chunks_removed} removed)"
        if self.problems:
            text += f"; {len(self.problems)} could not be read"
        if self.cancelled:
            text += "; cancelled before the rest"
        return text + "."


def _name(file: Path, root: Path | None) -> str:
    """How citations name a document: its path inside the folder it was added from."""
    if root is not None:
        try:
            return file.relative_to(root).as_posix()
        except ValueError:
            pass
    return file.name


def expand(paths: Iterable[str | Path],
           base_dir: Path | None = None) -> tuple[list[tuple[Path, str]], list[str], list[str]]:
    """Every supported file under `paths` (files, folders, globs) with the name citations give
    it, without repeats; problems (a path that matches nothing); and files left out because
    their type is not supported (found inside a folder or by a pattern)."""
    found: dict[Path, str] = {}
    problems: list[str] = []
    left_out: list[str] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        root: Path | None = None
        if any(ch in str(raw) for ch in "*?["):
            files = [Path(m) for m in sorted(glob.glob(str(path), recursive=True))
                     if Path(m).is_file()]
            root = Path(str(path).split("*")[0].split("?")[0].split("[")[0]).parent
            if not files:
                problems.append(f"{raw}: no files match this pattern.")
        elif path.is_dir():
            root = path
            files = sorted(p for p in path.rglob("*") if p.is_file()
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            if not files:
                problems.append(f"{raw}: the folder is empty.")
        elif path.is_file():
            files = [path]
        else:
            problems.append(f"{raw}: no such file or folder.")
            files = []
        for file in files:
            if file.suffix.lower() not in SUFFIXES:
                message = (f"{file}: not a document type the lab reads "
                           f"({', '.join(sorted(SUFFIXES))}); left out.")
                (left_out if root is not None else problems).append(message)
                continue
            found.setdefault(file.resolve(), _name(file, root))
    return list(found.items()), problems, left_out


def add_documents(
    store: Store,
    project_id: int,
    paths: Iterable[str | Path],
    *,
    base_dir: Path | None = None,
    chunkings: Iterable[tuple[int, int]] = ((DEFAULT_SIZE, DEFAULT_OVERLAP),),
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> IndexReport:
    """Read, chunk (once per (size, overlap) in `chunkings`; the first is the documents' own,
    the one retrieval uses unless a variant sets another) and store the documents."""
    sizes = list(dict.fromkeys(chunkings))
    for size, overlap in sizes:
        check_sizes(size, overlap)
    files, problems, left_out = expand(paths, base_dir)
    report = IndexReport(problems=problems, left_out=left_out)
    for done, (file, name) in enumerate(files, start=1):
        if cancelled is not None and cancelled():
            report.cancelled = True
            break
        _index_one(store, project_id, file, name, sizes, report)
        if progress is not None:
            progress(done, len(files))
    return report


def _index_one(store: Store, project_id: int, file: Path, name: str,
               sizes: list[tuple[int, int]], report: IndexReport) -> None:
    try:
        document = read_document(file)
    except DocumentError as exc:
        report.problems.append(str(exc))
        return
    source = str(file)
    previous = store.document_hash(project_id, source)
    doc_id = store.save_document(project_id, source, name, document.kind, document.text,
                                 document.content_hash, chunking_key(*sizes[0]))
    have = set(store.chunkings(doc_id))
    wanted = [(s, o) for s, o in sizes if previous != document.content_hash
              or chunking_key(s, o) not in have]
    if previous is None:
        report.added.append(name)
    elif previous != document.content_hash:
        report.updated.append(name)
    else:
        report.unchanged.append(name)
    for size, overlap in wanted:
        chunks = chunk_blocks(document.blocks, size, overlap)
        kept, added, removed = store.replace_chunks(
            doc_id, chunking_key(size, overlap),
            [(c.position, c.text, c.heading, c.tokens, c.content_hash) for c in chunks])
        report.chunks_kept += kept
        report.chunks_added += added
        report.chunks_removed += removed
