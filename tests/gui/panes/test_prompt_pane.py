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


def test_output_format_per_variant_and_its_schema_checked_on_every_output(
        make_window, qtbot, fake_server, lab_home):
    from tests.gui.sample_runs import point_sample_at

    point_sample_at(fake_server, lab_home)
    window = make_window()
    bar = window.prompt_pane.parameters
    window.variants_pane.select(1)
    assert bar.output.currentData() == "text" and not bar.schema_button.isVisible()
    bar.output.setCurrentIndex(bar.output.findData("json"))
    bar.output.activated.emit(bar.output.currentIndex())
    variant = window.session.project.variants[1]
    assert variant.params["response_format"] == "json"

    bar.output.setCurrentIndex(bar.output.findData("schema"))
    bar.output.activated.emit(bar.output.currentIndex())
    dialog = window.editing.schema_dialog
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    dialog.editor.set_text('{"type": "object", "required": [1]}')
    assert not ok.isEnabled() and dialog.editor.status.text().startswith("✗")
    dialog.editor.set_text('{"type": "object", "required": ["answer"]}')
    assert ok.isEnabled()
    ok.click()
    assert variant.params["response_format"] == {
        "type": "json_schema", "name": "reply",
        "schema": {"type": "object", "required": ["answer"]}}
    assert bar.schema_button.isVisibleTo(window)
    # Variant A keeps free text.
    window.variants_pane.select(0)
    assert bar.output.currentData() == "text"

    qtbot.waitUntil(lambda: "40 calls to send" in window.run_bar.estimate.text(), timeout=10000)
    window.commands.run_action.trigger()
    qtbot.waitUntil(lambda: window.run_status.progress_label.text().startswith("Run finished"),
                    timeout=30000)
    grid = window.results_pane.model
    # Only B's outputs are checked against the schema (the fake replies in prose: they fail).
    assert "output schema" not in grid.cell(0, 0).checks
    assert all(grid.cell(r, 1).checks["output schema"] is False for r in range(20))
    assert grid.cell(0, 1).reasons["output schema"]
    # B asked the provider for its schema; A did not.
    formats = {r.body["model"]: r.body.get("response_format") for r in fake_server.chat_requests()}
    assert formats["gpt-4o"]["type"] == "json_schema" and formats["gpt-4o-mini"] is None
