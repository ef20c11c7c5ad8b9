"""The main window as a newcomer meets it: the sample workspace in the panes, menus, shortcuts."""

from __future__ import annotations

from PySide6.QtCore import Qt

from lab.gui.app import app_icon
from lab.gui.dialogs.help import shortcut_rows, show_shortcuts


def test_opens_on_the_sample_workspace(make_window, lab_home):
    window = make_window()
    assert window.windowTitle() == "Support replies — Prompt Lab"
    assert str(lab_home / "workspace.db") in window.run_status.workspace_label.text()
    variants = window.variants_pane.model
    assert variants.rowCount() == 2
    assert variants.data(variants.index(0, 0)).startswith("A · concise\nopenai/gpt-4o-mini")
    # The first variant is selected and its prompt and examples are shown.
    assert "Northwind Outfitters" in window.prompt_pane.system_text()
    assert window.prompt_pane.template.toPlainText().strip().startswith("Customer: {{customer}}")
    assert window.examples_pane.model.rowCount() == 5
    assert window.examples_pane.header.caption.text() == "5 of 5 sent"
    assert window.cases_pane.model.rowCount() == 20
    assert window.cases_pane.model.headerData(1, Qt.Orientation.Horizontal) == "{{customer}}"
    grid = window.results_pane.model
    assert (grid.rowCount(), grid.columnCount()) == (20, 2)
    assert window.results_pane.header.caption.text() == (
        "2 variants × 20 test cases × 1 sample = 40 calls"
    )
    assert "0 calls logged" in window.run_status.totals_label.text()
    assert not app_icon().isNull()


def test_selecting_a_variant_shows_its_prompt(make_window, qtbot):
    window = make_window()
    window.variants_pane.select(1)
    assert window.prompt_pane.header.title.text() == "System prompt · B · empathetic steps"
    assert "Structure every reply in three short parts" in window.prompt_pane.system_text()
    assert window.examples_pane.header.title.text() == "Few-shot examples · B · empathetic steps"


def test_menus_and_shortcuts(make_window, qtbot):
    window = make_window()
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&Edit", "V&ariant", "&View", "&Run", "&Judge", "&Help"]
    rows = dict(shortcut_rows(window))
    assert rows["Run"] == "Ctrl+Return"
    assert "Open Workspace" in rows
    dialog = show_shortcuts(window)
    qtbot.addWidget(dialog)
    assert dialog.isVisible()
    from PySide6.QtWidgets import QTableWidget
    table = dialog.findChild(QTableWidget)
    listed = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert listed["Run"] == "Ctrl+Return" and listed["Undo"] == "Ctrl+Z"
    dialog.close()


def test_undo_and_redo_in_the_prompt_editor(make_window, qtbot):
    window = make_window()
    editor = window.prompt_pane.system
    original = editor.toPlainText()
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus, timeout=2000)
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(editor, " Extra rule.")
    assert editor.toPlainText().endswith(" Extra rule.")
    window.commands.undo_action.trigger()
    assert editor.toPlainText() == original
    window.commands.redo_action.trigger()
    assert editor.toPlainText().endswith(" Extra rule.")
