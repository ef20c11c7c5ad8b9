"""The Documents pane on real files: a folder added and indexed (its documents, their chunks, a
search with BM25 scores), a changed file flagged and re-indexed, unreadable files named with
what to do, indexing cancelled, chunking per entry, an entry removed, and the policy sample's
documents read when that project opens."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from datetime import datetime

import pytest

from lab.gui.dialogs import messages

REFUNDS = """# Refunds

## Timing

We refund within 5 business days of the return arriving at the warehouse.

## Exceptions

Opened fuel canisters and worn socks cannot be returned.
"""
SHIPPING = """# Shipping

Express delivery costs 12.50 euros and arrives the next working day. Standard delivery takes
three to five working days. Click and collect at a partner locker is free. Parcels to Norway
may be charged import duties on delivery.
"""


def policies(tmp_path):
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "refunds.md").write_text(REFUNDS)
    (folder / "shipping.md").write_text(SHIPPING)
    return folder


def entry_rows(pane) -> dict[str, list[tuple[str, ...]]]:
    """What the tree shows: each entry's first column, with its documents' columns."""
    shown = {}
    for i in range(pane.tree.topLevelItemCount()):
        top = pane.tree.topLevelItem(i)
        shown[top.text(0)] = [tuple(top.child(j).text(c) for c in range(7))
                              for j in range(top.childCount())]
    return shown


def hits(pane) -> list[tuple[str, ...]]:
    return [tuple(pane.hits.topLevelItem(i).text(c) for c in range(4))
            for i in range(pane.hits.topLevelItemCount())]


def add_folder(window, qtbot, folder) -> None:
    window.documents_dock.raise_()
    window.documents.add_folder(str(folder))
    qtbot.waitUntil(lambda: window.documents.indexing, timeout=5000)
    qtbot.waitUntil(lambda: not window.documents.indexing and window.documents_pane.tree
                    .topLevelItemCount() > 0 and window.documents_pane.tree.topLevelItem(0)
                    .childCount() > 0, timeout=15000)


def stored_entries(lab_home) -> list[dict]:
    conn = sqlite3.connect(lab_home / "workspace.db")
    try:
        row = conn.execute("SELECT documents_json FROM projects WHERE name = 'Support replies'")
        return json.loads(row.fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def far_from_utc(monkeypatch):
    """The user's clock five and a half hours ahead of UTC (a POSIX rule: no zoneinfo needed)."""
    monkeypatch.setenv("TZ", "XST-5:30")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_folder_is_added_its_chunks_shown_and_searched(make_window, qtbot, tmp_path, lab_home,
                                                         far_from_utc):
    window = make_window()
    pane = window.documents_pane
    assert pane.stack.currentWidget() is pane.empty  # the support sample has no documents
    folder = policies(tmp_path)
    add_folder(window, qtbot, folder)

    entry = str(folder.resolve()) + os.sep
    rows = entry_rows(pane)
    assert list(rows) == ["policies/"]
    assert pane.tree.topLevelItem(0).text(6) == entry  # the entry as the project writes it
    documents = next(iter(rows.values()))
    assert [(d[0], d[1], d[2], d[5]) for d in documents] == [("refunds.md", "markdown", "3", ""),
                                                               ("shipping.md", "markdown", "1", "")]
    assert documents[0][3] == f"{len(REFUNDS.encode())} B"
    # When it was indexed, in the user's local time (the workspace keeps UTC), to the minute.
    shown = datetime.strptime(documents[0][4], "%Y-%m-%d %H:%M")
    assert abs((datetime.now() - shown).total_seconds()) < 180
    assert documents[0][6] == str((folder / "refunds.md").resolve())  # where it is
    assert pane.header.caption.text() == "1 entry · 2 documents · 4 chunks"
    assert "2 added" in window.statusBar().currentMessage()
    assert stored_entries(lab_home) == [{"path": entry, "chunk_size": 400, "chunk_overlap": 50}]

    # A document's chunks, in order, each previewed in full.
    assert pane.select_document("refunds.md")
    qtbot.waitUntil(lambda: len(hits(pane)) == 3, timeout=5000)
    assert [h[1] for h in hits(pane)] == ["refunds.md#1", "refunds.md#2", "refunds.md#3"]
    assert hits(pane)[1][3] == "Refunds > Timing"
    pane.hits.setCurrentItem(pane.hits.topLevelItem(1))
    assert "5 business days" in pane.preview.toPlainText()

    # The search runs use: the best passages first, with their BM25 scores.
    pane.search.setText("how much is express delivery?")
    qtbot.waitUntil(lambda: hits(pane) and hits(pane)[0][1] == "shipping.md#1", timeout=5000)
    best = hits(pane)[0]
    assert best[0] == "1" and float(best[2]) > 0
    assert "by BM25" in pane.hits_caption.text()
    assert "12.50 euros" in pane.preview.toPlainText()
    assert "BM25 score" in pane.preview.toPlainText()
    pane.search.setText("tents and sleeping bags")
    qtbot.waitUntil(lambda: pane.hits.topLevelItemCount() == 0, timeout=5000)
    assert pane.hits_caption.text().startswith("No passage matches")


def test_a_changed_file_is_flagged_and_reindexing_reads_only_it(make_window, qtbot, tmp_path):
    window = make_window()
    pane = window.documents_pane
    folder = policies(tmp_path)
    add_folder(window, qtbot, folder)
    time.sleep(0.01)
    (folder / "shipping.md").write_text(SHIPPING.replace("12.50", "14.00"))
    later = time.time() + 5
    os.utime(folder / "shipping.md", (later, later))
    window.documents.refresh()
    qtbot.waitUntil(lambda: [d[5] for d in next(iter(entry_rows(pane).values()))]
                    == ["", "changed"], timeout=5000)
    assert "1 changed" in pane.tree.topLevelItem(0).text(5)

    pane.tree.setCurrentItem(pane.tree.topLevelItem(0))  # the entry: Re-index reads it again
    pane.reindex_button.click()
    qtbot.waitUntil(lambda: not window.documents.indexing and [
        d[5] for d in next(iter(entry_rows(pane).values()))] == ["", ""], timeout=10000)
    assert "1 updated, 1 unchanged" in window.statusBar().currentMessage()
    pane.search.setText("express delivery")
    qtbot.waitUntil(lambda: "14.00 euros" in pane.preview.toPlainText(), timeout=5000)


def test_unreadable_files_are_named_with_what_to_do(make_window, qtbot, tmp_path):
    from pypdf import PdfWriter

    window = make_window()
    pane = window.documents_pane
    folder = policies(tmp_path)
    scan = PdfWriter()
    scan.add_blank_page(width=200, height=200)  # a page with no text layer, like a scan
    with open(folder / "scan.pdf", "wb") as out:
        scan.write(out)
    (folder / "broken.md").write_bytes(b"# Caf\xe9 menu\n")  # not UTF-8
    (folder / "notes.docx").write_bytes(b"PK\x03\x04")
    add_folder(window, qtbot, folder)
    notice = pane.notice.text()
    assert pane.notice.isVisible()
    assert "2 files could not be read:" in notice
    assert "scan.pdf: the PDF has no text layer (a scan?); run it through OCR first" in notice
    assert "broken.md: not UTF-8 text (byte 5); save it as UTF-8 and add it again." in notice
    assert "1 file of a type the lab does not read was left out" in notice
    assert "notes.docx" in notice
    assert [d[0] for d in next(iter(entry_rows(pane).values()))] == ["refunds.md",
                                                                      "shipping.md"]
    assert "could not be read" in window.statusBar().currentMessage()


def test_indexing_can_be_cancelled_keeping_what_was_read(make_window, qtbot, tmp_path):
    window = make_window()
    pane = window.documents_pane
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(400):
        (folder / f"note{i:03}.md").write_text(f"# Note {i}\n\nTent number {i} is green.\n" * 20)
    window.documents_dock.raise_()
    window.documents.add_folder(str(folder))
    qtbot.waitUntil(lambda: window.documents.indexing, timeout=5000)
    assert pane.progress_row.isVisibleTo(pane) and not pane.add_folder_button.isEnabled()
    qtbot.waitUntil(lambda: pane.progress.value() > 0, timeout=10000)  # reading has begun
    pane.cancel_button.click()
    # Files still reported read do not overwrite what the user asked for.
    cancelling = []
    while window.documents.indexing:
        cancelling.append(pane.progress_label.text())
        qtbot.wait(5)
        assert len(cancelling) < 4000
    assert cancelling and set(cancelling) == {"Cancelling after this file…"}
    assert not pane.progress_row.isVisibleTo(pane) and pane.add_folder_button.isEnabled()
    assert "Cancelled: the files read before are kept" in pane.notice.text()
    qtbot.waitUntil(lambda: pane.tree.topLevelItemCount() == 1, timeout=5000)
    read = pane.tree.topLevelItem(0).childCount()
    assert 0 < read < 400


def test_chunking_is_set_per_entry_and_an_entry_is_removed(make_window, qtbot, tmp_path,
                                                          lab_home, monkeypatch):
    window = make_window()
    pane = window.documents_pane
    folder = policies(tmp_path)
    add_folder(window, qtbot, folder)
    pane.tree.setCurrentItem(pane.tree.topLevelItem(0))
    assert pane.chunking_for.text().startswith("Chunking of ")
    pane.chunk_size.setValue(20)
    pane.chunk_overlap.setValue(0)
    assert pane.chunking_hint.text() == "Re-index to apply"
    entry = window.session.project.documents[0]
    assert (entry.chunk_size, entry.chunk_overlap) == (20, 0)
    qtbot.waitUntil(lambda: stored_entries(lab_home)[0]["chunk_size"] == 20, timeout=5000)
    pane.reindex_button.click()
    qtbot.waitUntil(lambda: not window.documents.indexing and int(
        next(iter(entry_rows(pane).values()))[1][2]) > 1, timeout=10000)  # shipping.md, cut up

    # A document inside a folder entry is not removed on its own: the notice says why.
    assert pane.select_document("refunds.md")
    pane.remove_button.click()
    assert "select that entry to remove it" in pane.notice.text()
    monkeypatch.setattr(messages, "confirm", lambda *_a: True)
    pane.tree.setCurrentItem(pane.tree.topLevelItem(0))
    pane.remove_button.click()
    qtbot.waitUntil(lambda: pane.tree.topLevelItemCount() == 0, timeout=5000)
    assert window.session.project.documents == []
    assert pane.stack.currentWidget() is pane.empty
    conn = sqlite3.connect(lab_home / "workspace.db")
    try:
        assert conn.execute("SELECT count(*) FROM documents d JOIN projects p ON p.id ="
                            " d.project_id WHERE p.name = 'Support replies'").fetchone()[0] == 0
    finally:
        conn.close()


def test_the_policy_sample_reads_its_documents_when_it_opens(make_window, qtbot):
    window = make_window()
    combo = window.run_bar.projects
    combo.setCurrentIndex(combo.findText("Policy answers"))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: window.session.project.name == "Policy answers", timeout=10000)
    pane = window.documents_pane
    qtbot.waitUntil(lambda: not window.documents.indexing and pane.tree.topLevelItemCount() == 1
                    and pane.tree.topLevelItem(0).childCount() == 4, timeout=15000)
    assert [d[0] for d in next(iter(entry_rows(pane).values()))] == [
        "privacy.md", "refunds.md", "shipping.md", "warranty.md"]
    assert pane.header.caption.text().startswith("1 entry · 4 documents · ")
