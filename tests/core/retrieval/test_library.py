"""A project's documents as the Documents pane lists them: entries with their documents, files
changed or gone on disk, indexing with progress and cancel, paths beside the experiment file,
and the search runs use."""

from __future__ import annotations

import os
import time

import pytest

from lab.core.model import DocumentSource, Project, Variant
from lab.core.retrieval import library
from lab.core.retrieval.reading import DocumentError, read_document
from lab.core.workspace.store import open_workspace

REFUNDS = """# Refunds

## Timing

We refund within 5 business days of the return arriving.

## Exceptions

Opened fuel canisters cannot be returned.
"""
SHIPPING = "# Shipping\n\nExpress delivery costs 12.50 euros and arrives the next working day.\n"


@pytest.fixture
def store(tmp_path):
    with open_workspace(tmp_path / "w.db") as opened:
        yield opened


def project_with(store, *sources: DocumentSource, source_path: str | None = None) -> Project:
    project = Project(name="docs", variants=[Variant("A", "openai/gpt-4o-mini")],
                      documents=list(sources))
    project.source_path = source_path
    store.save_project(project)
    return project


def folder(tmp_path, name="policies", **files: str):
    where = tmp_path / name
    where.mkdir()
    for file, text in files.items():
        (where / file).write_text(text)
    return where


def test_an_entry_lists_its_documents_and_a_changed_or_deleted_file_is_flagged(store, tmp_path):
    docs = folder(tmp_path, **{"refunds.md": REFUNDS, "shipping.md": SHIPPING})
    project = project_with(store, DocumentSource(str(docs), 40, 5))
    report = library.index_entries(store, project, project.documents)
    assert sorted(report.added) == ["refunds.md", "shipping.md"]

    (entry,) = library.library(store, project)
    assert entry.source is project.documents[0] and entry.problem == ""
    assert entry.kind == "folder"
    assert [(d.name, d.kind, d.on_disk) for d in entry.documents] == [
        ("refunds.md", "markdown", ""), ("shipping.md", "markdown", "")]
    refunds = entry.documents[0]
    assert refunds.chunks == 3 and refunds.size_bytes == len(REFUNDS.encode())
    assert refunds.source_path == str((docs / "refunds.md").resolve())

    time.sleep(0.01)
    (docs / "shipping.md").write_text(SHIPPING)  # saved again, same text: not a change
    (docs / "refunds.md").write_text(REFUNDS.replace("5 business days", "7 business days"))
    later = time.time() + 5
    os.utime(docs / "refunds.md", (later, later))
    (entry,) = library.library(store, project)
    assert {d.name: d.on_disk for d in entry.documents} == {"refunds.md": "changed",
                                                            "shipping.md": ""}

    again = library.index_entries(store, project, project.documents)
    assert (again.updated, again.unchanged) == (["refunds.md"], ["shipping.md"])
    assert again.chunks_added == 1 and again.chunks_kept == 2  # only the changed section
    (docs / "shipping.md").unlink()
    (entry,) = library.library(store, project)
    assert {d.name: d.on_disk for d in entry.documents} == {"refunds.md": "", "shipping.md":
                                                            "missing"}
    assert entry.documents[1].size_bytes is None


def test_each_entry_is_indexed_at_its_own_chunking_with_progress_and_cancel(store, tmp_path):
    small = folder(tmp_path, "small", **{"refunds.md": REFUNDS})
    whole = folder(tmp_path, "whole", **{f"note{i}.txt": f"Note {i} about tents." for i in range(3)})
    project = project_with(store, DocumentSource(str(small), 20, 0),
                           DocumentSource(str(whole), 400, 50))
    seen: list[tuple[int, int]] = []
    library.index_entries(store, project, project.documents, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    chunkings = {row["name"]: row["chunking"] for row in store.list_documents(project.id)}
    assert chunkings["refunds.md"] == "20/0" and chunkings["note0.txt"] == "400/50"

    store.delete_documents([row["id"] for row in store.list_documents(project.id)])
    calls = []
    report = library.index_entries(store, project, project.documents,
                                   cancelled=lambda: len(calls) > 1 or calls.append(1) is not None)
    assert report.cancelled and "cancelled" in report.summary()
    assert len(store.list_documents(project.id)) == 1  # what was read before is kept


def test_entries_never_indexed_a_missing_folder_and_documents_no_entry_names(store, tmp_path):
    docs = folder(tmp_path, **{"refunds.md": REFUNDS})
    gone = tmp_path / "nowhere"
    project = project_with(store, DocumentSource(str(docs)), DocumentSource(str(gone)))
    assert library.never_indexed(store, project) == project.documents
    library.index_entries(store, project, project.documents[:1])
    assert library.never_indexed(store, project) == [project.documents[1]]

    entries = library.library(store, project)
    assert entries[1].problem == f"{gone}: no such file or folder."
    del project.documents[0]  # the entry is taken out; its documents stay until removed
    entries = library.library(store, project)
    assert entries[-1].source is None and [d.name for d in entries[-1].documents] == ["refunds.md"]
    ids = library.entry_document_ids(store, project, len(project.documents))
    store.delete_documents(ids)
    assert store.list_documents(project.id) == []


def test_a_path_beside_the_experiment_file_is_written_relative_to_it(tmp_path):
    (tmp_path / "experiment").mkdir()
    docs = folder(tmp_path / "experiment", **{"refunds.md": REFUNDS})
    outside = folder(tmp_path, "more")
    in_file = Project(name="p")
    in_file.source_path = str(tmp_path / "experiment" / "exp.toml")
    assert library.entry_path(docs, in_file) == "policies/"
    assert library.entry_path(docs / "refunds.md", in_file) == "policies/refunds.md"
    assert library.entry_path(outside, in_file) == str(outside.resolve()) + os.sep
    assert library.entry_path(docs / "refunds.md", Project(name="q")) == str(
        (docs / "refunds.md").resolve())


def test_relative_entries_of_a_project_from_a_file_are_found_beside_it(store, tmp_path):
    folder(tmp_path, **{"refunds.md": REFUNDS})
    project = project_with(store, DocumentSource("policies/"),
                           source_path=str(tmp_path / "exp.toml"))
    report = library.index_entries(store, project, project.documents)
    assert report.added == ["refunds.md"] and report.problems == []
    (entry,) = library.library(store, project)
    assert [d.name for d in entry.documents] == ["refunds.md"]


def test_search_gives_the_passages_a_lexical_run_would_with_scores(store, tmp_path):
    docs = folder(tmp_path, **{"refunds.md": REFUNDS, "shipping.md": SHIPPING})
    project = project_with(store, DocumentSource(str(docs), 40, 5))
    library.index_entries(store, project, project.documents)
    hits = library.search(store, project.id, "how much is express delivery?", 3)
    assert hits[0].citation == "shipping.md#1" and hits[0].rank == 1
    assert hits[0].score > 0 and "12.50" in hits[0].text
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert library.search(store, project.id, "tents and sleeping bags", 3) == []  # no match
    chunks = store.document_chunks(store.list_documents(project.id)[0]["id"])
    assert [c.position for c in chunks] == [1, 2, 3]
    assert chunks[1].heading == "Refunds > Timing"


def test_a_pdf_without_the_pdf_library_says_how_to_get_it(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pypdf", None)  # as in an install that lacks it
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    with pytest.raises(DocumentError, match=r"scan.pdf: reading PDF files needs the pypdf "
                                            r"library.*pip install pypdf"):
        read_document(pdf)
