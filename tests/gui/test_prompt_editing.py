"""Prompt editing helpers: find and replace (one undo step) and inserting technique snippets."""

from __future__ import annotations

from lab.core.experiment.snippets import load_snippets


def test_find_next_wraps_and_replace_all_is_one_undo_step(make_window, qtbot):
    window = make_window()
    editor = window.prompt_pane.system
    original = editor.toPlainText()
    window.find_action.trigger()
    bar = window.prompt_pane.find_bar
    assert bar.isVisible() and bar.editor is editor
    bar.find_text.setText("customer")
    assert bar.find_next()
    assert editor.textCursor().selectedText().lower() == "customer"
    bar.replace_text.setText("client")
    count = bar.replace_all()
    assert count == original.lower().count("customer")
    assert "customer" not in editor.toPlainText().lower()
    assert bar.status.text() == f"Replaced {count}"
    editor.undo()
    assert editor.toPlainText() == original
    bar.find_text.setText("no such words here")
    assert not bar.find_next() and bar.status.text() == "Not found"


def test_snippets_are_inserted_on_their_own_line(make_window, qtbot):
    window = make_window()
    snippets = {s.name: s for s in load_snippets()}
    assert {"Chain of thought", "Output format: JSON object"} <= set(snippets)
    menu_names = [a.text() for a in window.menuBar().findChildren(type(window.find_action))]
    assert "Chain of thought" in menu_names
    editor = window.prompt_pane.system
    editor.setPlainText("Answer the question.")
    cursor = editor.textCursor()
    cursor.movePosition(cursor.MoveOperation.End)
    editor.setTextCursor(cursor)
    window.prompt_pane.insert_snippet(snippets["Chain of thought"].text)
    text = editor.toPlainText()
    assert text.startswith("Answer the question.\nThink through the problem step by step")
