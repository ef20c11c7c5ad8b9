"""One undo stack for the project's edits: every kind of edit undone and redone, across a switch
of variant, saved each time; text boxes keep their own undo while they have the focus."""

from __future__ import annotations

import sqlite3

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from lab.core.model import TestCase
from tests.gui.sample_runs import SUPPORT


def stored(lab_home, sql: str) -> list[tuple]:
    conn = sqlite3.connect(lab_home / "workspace.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def undo(window) -> None:
    window.results_pane.view.setFocus()  # not a text box: the project's undo
    window.commands.undo_action.trigger()


def redo(window) -> None:
    window.results_pane.view.setFocus()
    window.commands.redo_action.trigger()


def test_examples_deleted_and_reordered_come_back_across_a_variant_switch(make_window, qtbot,
                                                                          lab_home):
    window = make_window()
    variant = window.session.project.variants[0]
    first, second = variant.examples[0], variant.examples[1]
    pane = window.examples_pane
    pane.select_row(0)
    pane.move_selected(1)
    assert variant.examples[:2] == [second, first]
    pane.select_row(1)
    pane.delete_selected()
    assert len(variant.examples) == 4 and first not in variant.examples
    window.variants_pane.select(1)  # the stack survives a switch of variant
    window.edit_menu.aboutToShow.emit()
    assert window.commands.undo_action.text() == "&Undo Delete 1 example of A · concise"

    undo(window)
    assert window.session.current_variant is variant  # shown where it happened
    assert variant.examples[:2] == [second, first] and len(variant.examples) == 5
    assert pane.model.rowCount() == 5
    undo(window)
    assert variant.examples[:2] == [first, second]
    qtbot.waitUntil(lambda: stored(lab_home, "SELECT count(*) FROM examples e JOIN variants v ON"
                                   " v.id = e.variant_id WHERE v.position = 0")[0][0] == 5,
                    timeout=5000)
    redo(window)
    redo(window)
    assert len(variant.examples) == 4


def test_test_cases_added_and_deleted(make_window, qtbot, lab_home):
    window = make_window()
    cases = window.session.project.cases
    window.cases_pane.model.add_cases([TestCase({"customer": "Zed"})])
    assert len(cases) == 21
    window.cases_pane.select_rows([0, 1])
    window.cases_pane.delete_selected()
    assert len(cases) == 19
    undo(window)
    assert len(cases) == 21 and window.cases_pane.model.rowCount() == 21
    assert window.results_pane.model.rowCount() == 21
    undo(window)
    assert len(cases) == 20
    qtbot.waitUntil(lambda: stored(lab_home, "SELECT count(*) FROM test_cases WHERE"
                                   f" project_id = {SUPPORT}")[0][0] == 20, timeout=5000)
    redo(window)
    assert cases[-1].vars["customer"] == "Zed"


def test_variants_added_deleted_and_renamed(make_window, qtbot, lab_home, monkeypatch):
    from lab.gui.dialogs import messages

    monkeypatch.setattr(messages, "confirm", lambda *_a: True)
    window = make_window()
    project = window.session.project
    window.editing.duplicate_variant()
    assert [v.name for v in project.variants] == ["A · concise", "A · concise copy",
                                                  "B · empathetic steps"]
    window.variants_pane.select(2)
    window.editing.delete_variant()
    assert len(project.variants) == 2
    model = window.variants_pane.model
    model.setData(model.index(0, 0), "A · short")
    assert project.variants[0].name == "A · short"

    undo(window)
    assert project.variants[0].name == "A · concise"
    assert window.results_pane.model.headerData(0, Qt.Orientation.Horizontal).startswith(
        "A · concise")
    undo(window)
    assert [v.name for v in project.variants][-1] == "B · empathetic steps"
    assert window.results_pane.model.columnCount() == 3
    qtbot.waitUntil(lambda: stored(lab_home, "SELECT count(*) FROM variants WHERE"
                                   f" project_id = {SUPPORT}")[0][0] == 3, timeout=5000)
    undo(window)
    assert [v.name for v in project.variants] == ["A · concise", "B · empathetic steps"]
    qtbot.waitUntil(lambda: [r[0] for r in stored(
        lab_home, f"SELECT name FROM variants WHERE project_id = {SUPPORT}"
        " ORDER BY position")] == [
        "A · concise", "B · empathetic steps"], timeout=5000)
    # The variant that came back kept its examples and its row.
    redo(window)
    redo(window)
    assert [v.name for v in project.variants] == ["A · concise", "A · concise copy"]


def test_checks_added_edited_removed_and_reordered(make_window, qtbot, lab_home):
    window = make_window()
    checks = window.session.project.checks
    names = [c.name for c in checks]
    pane = window.checks_pane
    pane.add_requested.emit("regex")
    pane.form.set_field("pattern", "^Hi")
    pane.form.set_field("pattern", "^Hi ")
    pane.flush()
    assert checks[1].config["pattern"] == "^Hi "
    pane.move_requested.emit(1)
    pane.remove_requested.emit()
    assert [c.name for c in checks] == names

    undo(window)  # the remove
    assert [c.type for c in checks] == ["contains", "length", "regex", "not-contains"]
    undo(window)  # the move
    assert [c.type for c in checks] == ["contains", "regex", "length", "not-contains"]
    undo(window)  # the edit (one step, however many pauses in typing)
    assert checks[1].config["pattern"] == "^\\S"
    assert pane.model.rowCount() == 4
    undo(window)  # the add
    assert [c.name for c in checks] == names
    qtbot.waitUntil(lambda: [r[0] for r in stored(
        lab_home, f"SELECT name FROM checks WHERE project_id = {SUPPORT} ORDER BY position")]
        == names, timeout=5000)


def test_a_focused_text_box_undoes_its_own_typing(make_window, qtbot):
    window = make_window()
    window.cases_pane.model.add_cases([TestCase({"customer": "Zed"})])
    editor = window.prompt_pane.system
    editor.setFocus()
    QApplication.processEvents()
    editor.selectAll()
    editor.insertPlainText("New prompt")
    window.commands.undo_action.trigger()
    assert editor.toPlainText() != "New prompt"
    assert len(window.session.project.cases) == 21  # the project's edit is untouched
