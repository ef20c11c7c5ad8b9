"""The prompt pane: token estimate and variables, their highlighting, find and replace (one undo
step) and inserting technique snippets."""

from __future__ import annotations

from lab.core.experiment.snippets import load_snippets


def test_find_next_wraps_and_replace_all_is_one_undo_step(make_window, qtbot):
    window = make_window()
    editor = window.prompt_pane.system
    original = editor.toPlainText()
    window.commands.find_action.trigger()
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
    menu_names = [a.text() for a in window.menuBar().findChildren(type(window.commands.find_action))]
    assert "Chain of thought" in menu_names
    editor = window.prompt_pane.system
    editor.setPlainText("Answer the question.")
    cursor = editor.textCursor()
    cursor.movePosition(cursor.MoveOperation.End)
    editor.setTextCursor(cursor)
    window.prompt_pane.insert_snippet(snippets["Chain of thought"].text)
    text = editor.toPlainText()
    assert text.startswith("Answer the question.\nThink through the problem step by step")


def test_token_estimate_and_variables_follow_the_text(make_window, qtbot):
    window = make_window()
    caption = window.prompt_pane.header.caption
    assert caption.text().endswith("· 2 variables")
    assert caption.toolTip() == "Variables: {{customer}}, {{order_status}}"
    window.prompt_pane.system.setPlainText("Answer {{question}} " + "word " * 400)
    assert caption.text().endswith("· 1 variable")
    assert caption.toolTip() == "Variables: {{question}}"
    tokens = int(caption.text().split("≈ ")[1].split(" tokens")[0].replace(",", ""))
    assert 300 < tokens < 1000


def test_variables_are_highlighted_where_the_core_finds_them(make_window):
    window = make_window()
    document = window.prompt_pane.system.document()
    block = document.findBlock(window.prompt_pane.system_text().index("{{customer}}"))
    column = block.text().index("{{customer}}")
    ranges = [(r.start, r.length) for r in block.layout().formats()]
    assert (column, len("{{customer}}")) in ranges
    # An escaped \{{ is literal text, so it is not highlighted.
    window.prompt_pane.system.setPlainText(r"Write \{{customer}} literally")
    block = window.prompt_pane.system.document().firstBlock()
    assert block.layout().formats() == []
