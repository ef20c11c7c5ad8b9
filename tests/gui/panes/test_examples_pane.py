"""Editing few-shot examples: in place, add, delete, enable, reorder (buttons, keys and drag)."""

from __future__ import annotations

import sqlite3

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QPlainTextEdit
from tests.gui.sample_runs import SUPPORT


def stored_examples(lab_home) -> list[tuple[str, str, int]]:
    conn = sqlite3.connect(lab_home / "workspace.db")
    try:
        variant_id = conn.execute(f"SELECT id FROM variants WHERE project_id = {SUPPORT}"
                                  " ORDER BY position").fetchone()[0]
        return conn.execute(
            "SELECT input, output, enabled FROM examples WHERE variant_id = ? ORDER BY position",
            [variant_id]).fetchall()
    finally:
        conn.close()


def test_add_and_edit_an_example_in_place(make_window, qtbot, lab_home):
    window = make_window()
    pane = window.examples_pane
    qtbot.mouseClick(pane.add_button, Qt.MouseButton.LeftButton)
    assert pane.model.rowCount() == 6
    # The new example opens for editing straight away, in a multi-line editor.
    editor = pane.view.findChild(QPlainTextEdit)
    assert editor is not None and editor.isVisible()
    qtbot.keyClicks(editor, "Customer: Zoe")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, "Email: where is my parcel?")
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    pane.model.setData(pane.model.index(5, 2), "Hi Zoe,\nIt ships today.")
    qtbot.waitUntil(lambda: stored_examples(lab_home)[-1][:2] == (
        "Customer: Zoe\nEmail: where is my parcel?", "Hi Zoe,\nIt ships today."), timeout=5000)
    assert pane.header.caption.text() == "6 of 6 sent"
    # The variants list shows the new count.
    assert "6 examples" in window.variants_pane.model.data(window.variants_pane.model.index(0, 0))


def test_disable_delete_and_reorder(make_window, qtbot, lab_home):
    window = make_window()
    pane = window.examples_pane
    first_inputs = [row[0] for row in stored_examples(lab_home)]
    pane.model.setData(pane.model.index(0, 0), Qt.CheckState.Unchecked.value,
                       Qt.ItemDataRole.CheckStateRole)
    assert pane.header.caption.text() == "4 of 5 sent"
    qtbot.waitUntil(lambda: stored_examples(lab_home)[0][2] == 0, timeout=5000)

    pane.select_row(1)
    pane.move_selected(+1)
    expected = [first_inputs[0], first_inputs[2], first_inputs[1], *first_inputs[3:]]
    qtbot.waitUntil(lambda: [r[0] for r in stored_examples(lab_home)] == expected, timeout=5000)
    assert pane.selected_rows() == [2]

    pane.view.setFocus()
    qtbot.waitUntil(pane.view.hasFocus, timeout=2000)
    pane.select_row(4)
    qtbot.keyClick(pane.view, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    expected = [expected[0], expected[1], expected[2], expected[4], expected[3]]
    qtbot.waitUntil(lambda: [r[0] for r in stored_examples(lab_home)] == expected, timeout=5000)

    # Drag row 0 onto row 3.
    mime = pane.model.mimeData([pane.model.index(0, 1)])
    pane.model.dropMimeData(mime, Qt.DropAction.MoveAction, -1, -1, pane.model.index(3, 1))
    expected = [expected[1], expected[2], expected[3], expected[0], expected[4]]
    qtbot.waitUntil(lambda: [r[0] for r in stored_examples(lab_home)] == expected, timeout=5000)

    pane.select_row(0)
    qtbot.keyClick(pane.view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: [r[0] for r in stored_examples(lab_home)] == expected[1:], timeout=5000)
    assert pane.header.caption.text().endswith("of 4 sent")


def test_each_variant_keeps_its_own_examples(make_window, qtbot, lab_home):
    window = make_window()
    window.examples_pane.model.remove_rows([0, 1, 2, 3, 4])
    assert window.examples_pane.stack.currentWidget() is window.examples_pane.empty
    window.variants_pane.select(1)
    assert window.examples_pane.model.rowCount() == 5
    window.variants_pane.select(0)
    assert window.examples_pane.model.rowCount() == 0
    qtbot.waitUntil(lambda: stored_examples(lab_home) == [], timeout=5000)
    assert window.examples_pane.model.index(0, 0, QModelIndex()).isValid() is False
