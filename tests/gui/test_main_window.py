"""The main window as a newcomer meets it: the sample workspace, panes, menus, remembered layout."""

from __future__ import annotations

import sqlite3

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from lab.core.model import Call, Usage
from lab.core.workspace.store import open_workspace
from lab.gui.app import app_icon, settings_file
from lab.gui.dialogs.help import shortcut_rows, show_shortcuts


def test_opens_on_the_sample_workspace(make_window, lab_home):
    window = make_window()
    assert window.windowTitle() == "Support replies — Prompt Lab"
    assert str(lab_home / "workspace.db") in window.workspace_label.text()
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
    assert "0 calls logged" in window.totals_label.text()
    assert not app_icon().isNull()


def test_selecting_a_variant_shows_its_prompt(make_window, qtbot):
    window = make_window()
    window.variants_pane.select(1)
    assert window.prompt_pane.header.title.text() == "System prompt · B · empathetic steps"
    assert "Structure every reply in three short parts" in window.prompt_pane.system_text()
    assert window.examples_pane.header.title.text() == "Few-shot examples · B · empathetic steps"


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


def test_edits_to_the_prompt_are_saved_automatically(make_window, qtbot, lab_home):
    window = make_window()
    window.prompt_pane.system.setPlainText("You are a pirate. Reply to {{customer}}.")
    window.prompt_pane.template.setPlainText("{{message}}")

    def saved() -> bool:
        conn = sqlite3.connect(lab_home / "workspace.db")
        try:
            systems = [r[0] for r in conn.execute("SELECT system FROM variants ORDER BY position")]
            template = conn.execute("SELECT user_template FROM projects").fetchone()[0]
        finally:
            conn.close()
        return systems[0] == "You are a pirate. Reply to {{customer}}." and template == "{{message}}"

    qtbot.waitUntil(saved, timeout=5000)
    # Switching away and back shows the saved text, and the other variant is untouched.
    window.variants_pane.select(1)
    assert "three short parts" in window.prompt_pane.system_text()
    window.variants_pane.select(0)
    assert window.prompt_pane.system_text() == "You are a pirate. Reply to {{customer}}."


def test_unsaved_typing_is_flushed_on_close(make_window, lab_home):
    window = make_window()
    window.prompt_pane.system.setPlainText("Typed just before closing.")
    window.close()
    window.session.store.close()
    conn = sqlite3.connect(lab_home / "workspace.db")
    system = conn.execute("SELECT system FROM variants ORDER BY position").fetchone()[0]
    conn.close()
    assert system == "Typed just before closing."


def test_edit_made_while_a_save_is_in_flight_is_saved_on_close(make_window, lab_home):
    window = make_window()
    window.prompt_pane.system.setPlainText("First edit.")
    window.prompt_pane.flush()  # a save is now in flight
    window.prompt_pane.system.setPlainText("Second edit, just before quitting.")
    window.close()
    window.session.store.close()
    conn = sqlite3.connect(lab_home / "workspace.db")
    rows = conn.execute("SELECT system FROM variants ORDER BY position").fetchall()
    conn.close()
    assert rows[0][0] == "Second edit, just before quitting."
    assert len(rows) == 2


def test_samples_change_the_planned_calls(make_window):
    window = make_window()
    window.samples.setValue(5)
    assert window.estimate_label.text().strip() == "200 calls planned"
    assert "× 5 samples = 200 calls" in window.results_pane.header.caption.text()


def test_history_shows_logged_calls_and_finds_them_by_search(make_window, qtbot, lab_home):
    with open_workspace(lab_home / "workspace.db") as store:
        store.insert_calls([
            Call(provider="openai", model="gpt-4o-mini", request={}, status="ok",
                 response_text=f"Reply {i}" + (" about a refund" if i == 7 else ""),
                 usage=Usage(12, 30), latency_ms=850, cost_usd=0.0002, variant_name="A · concise")
            for i in range(250)
        ])
    window = make_window()
    history = window.history_pane
    qtbot.waitUntil(lambda: history.model.rowCount() > 0, timeout=5000)
    assert history.model.rowCount() == 200  # one page; more arrive as the view scrolls
    assert history.header.caption.text() == "200+ calls"
    history.model.fetchMore()
    qtbot.waitUntil(lambda: history.model.rowCount() == 250, timeout=5000)
    assert "250 calls logged" in window.totals_label.text()
    history.search.setText("refund")
    qtbot.waitUntil(lambda: history.model.rowCount() == 1, timeout=5000)
    assert history.model.row_data(0)["response_preview"] == "Reply 7 about a refund"
    history.search.setText("nothing-matches-this")
    qtbot.waitUntil(lambda: history.stack.currentWidget() is history.empty, timeout=5000)
    assert history.empty.title.text() == "No matches"


def test_window_layout_is_remembered(make_window, qtbot, lab_home):
    window = make_window()
    # The offscreen screen is 800x800, so vary the height (the width is at its minimum).
    window.resize(960, 733)
    window.history_dock.hide()
    window.close()
    settings = QSettings(str(settings_file()), QSettings.Format.IniFormat)
    assert settings.value("window/geometry") is not None
    again = make_window()
    assert again.size().height() == 733
    assert not again.history_dock.isVisible()
    again.reset_layout_action.trigger()
    assert again.history_dock.isVisibleTo(again)


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
    window.undo_action.trigger()
    assert editor.toPlainText() == original
    window.redo_action.trigger()
    assert editor.toPlainText().endswith(" Extra rule.")


def test_a_newer_workspace_is_reported_and_nothing_is_shown(make_window, qtbot, tmp_path, monkeypatch):
    path = tmp_path / "future.db"
    open_workspace(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.commit()
    conn.close()
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _p, title, text: shown.append((title, text)))
    window = make_window(db=str(path), wait=False)
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert shown[0][0] == "Cannot open the workspace"
    assert "newer version of Prompt Lab" in shown[0][1]
    assert window.workspace_label.text() == "No workspace open"
    assert window.variants_pane.model.rowCount() == 0


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


def test_history_filters_by_status_variant_model_rating_tag_and_date(make_window, qtbot, lab_home):
    with open_workspace(lab_home / "workspace.db") as store:
        ids = store.insert_calls([
            Call(provider="openai" if i % 2 else "anthropic",
                 model="gpt-4o-mini" if i % 2 else "claude-haiku-4-5", request={},
                 status="error" if i % 5 == 0 else "ok", response_text=f"reply {i}",
                 variant_name="A" if i < 6 else "B")
            for i in range(10)
        ])
        from lab.core.model import Rating

        store.set_rating(Rating(call_id=ids[1], score=5, tags=["too long"]))
        store.set_rating(Rating(call_id=ids[3], thumbs=1, score=3))
    window = make_window()
    pane = window.history_pane
    qtbot.waitUntil(lambda: pane.model.rowCount() == 10, timeout=5000)
    assert [pane.variant.itemText(i) for i in range(pane.variant.count())] == ["Any variant", "A", "B"]

    def shown() -> list[str]:
        return [pane.model.row_data(r)["response_preview"] for r in range(pane.model.rowCount())]

    def choose(combo, data) -> None:
        combo.setCurrentIndex(combo.findData(data))

    choose(pane.status, "error")
    qtbot.waitUntil(lambda: shown() == ["reply 5", "reply 0"], timeout=5000)
    choose(pane.status, None)
    choose(pane.variant, "B")
    choose(pane.model_filter, "openai/gpt-4o-mini")
    qtbot.waitUntil(lambda: shown() == ["reply 9", "reply 7"], timeout=5000)
    assert pane.header.caption.text() == "2 matching calls"
    choose(pane.variant, None)
    choose(pane.model_filter, None)
    choose(pane.rating, 4)
    qtbot.waitUntil(lambda: shown() == ["reply 1"], timeout=5000)
    choose(pane.rating, "up")
    qtbot.waitUntil(lambda: shown() == ["reply 3"], timeout=5000)
    choose(pane.rating, None)
    choose(pane.tag, "too long")
    qtbot.waitUntil(lambda: shown() == ["reply 1"], timeout=5000)
    choose(pane.tag, None)
    choose(pane.since, 1)  # last hour: everything was just logged
    qtbot.waitUntil(lambda: len(shown()) == 10, timeout=5000)
    # Filters combine with the full-text search.
    pane.search.setText("reply 7")
    qtbot.waitUntil(lambda: shown() == ["reply 7"], timeout=5000)
