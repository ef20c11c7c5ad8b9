"""Autosave: every edit reaches the workspace, also when the window closes with typing pending or a
save in flight."""

from __future__ import annotations

import sqlite3

from tests.gui.sample_runs import SUPPORT

SYSTEMS = f"SELECT system FROM variants WHERE project_id = {SUPPORT} ORDER BY position"


def test_edits_to_the_prompt_are_saved_automatically(make_window, qtbot, lab_home):
    window = make_window()
    window.prompt_pane.system.setPlainText("You are a pirate. Reply to {{customer}}.")
    window.prompt_pane.template.setPlainText("{{message}}")

    def saved() -> bool:
        conn = sqlite3.connect(lab_home / "workspace.db")
        try:
            systems = [r[0] for r in conn.execute(SYSTEMS)]
            template = conn.execute(
                f"SELECT user_template FROM projects WHERE id = {SUPPORT}").fetchone()[0]
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
    system = conn.execute(SYSTEMS).fetchone()[0]
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
    rows = conn.execute(SYSTEMS).fetchall()
    conn.close()
    assert rows[0][0] == "Second edit, just before quitting."
    assert len(rows) == 2
