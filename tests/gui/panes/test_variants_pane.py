"""Variants in the window: new, duplicate, rename, delete, parameters, and the word diff."""

from __future__ import annotations

import json
import sqlite3

from PySide6.QtCore import Qt

from lab.gui.dialogs import messages as dialogs
from tests.gui.sample_runs import SUPPORT


def stored_variants(lab_home) -> list[tuple[str, str, dict, int]]:
    conn = sqlite3.connect(lab_home / "workspace.db")
    try:
        return [(name, system, json.loads(params), examples) for name, system, params, examples in
                conn.execute("SELECT name, system, params_json, (SELECT count(*) FROM examples e"
                             " WHERE e.variant_id = v.id) FROM variants v"
                             f" WHERE v.project_id = {SUPPORT} ORDER BY position")]
    finally:
        conn.close()


def test_duplicate_change_one_thing_and_compare(make_window, qtbot, lab_home):
    window = make_window()
    window.commands.duplicate_variant_action.trigger()
    assert window.variants_pane.current_row() == 1
    assert window.session.current_variant.name == "A · concise copy"
    qtbot.waitUntil(lambda: len(stored_variants(lab_home)) == 3, timeout=5000)
    name, system, params, examples = stored_variants(lab_home)[1]
    assert (name, examples) == ("A · concise copy", 5)
    assert system == stored_variants(lab_home)[0][1]

    window.prompt_pane.system.setPlainText(system.replace("under 120 words", "under 60 words"))
    window.prompt_pane.flush()
    window.prompt_pane.parameters.temperature.setValue(0.9)
    qtbot.waitUntil(lambda: stored_variants(lab_home)[1][2].get("temperature") == 0.9, timeout=5000)
    assert "under 60 words" in stored_variants(lab_home)[1][1]
    assert "under 120 words" in stored_variants(lab_home)[0][1]  # the original is untouched
    assert window.results_pane.model.columnCount() == 3

    dialog = window.editing.compare_variants()
    qtbot.addWidget(dialog)
    assert (dialog.left_pick.currentText(), dialog.right_pick.currentText()) == (
        "A · concise", "A · concise copy")
    assert dialog.summary.text() == "2 words only in A · concise · 2 words only in A · concise copy"
    assert "120" in dialog.left_view.toHtml() and "60" in dialog.right_view.toHtml()
    dialog.right_pick.setCurrentIndex(0)
    assert dialog.summary.text() == "The two variants are identical."


def test_default_parameters_are_not_sent(make_window, qtbot, lab_home):
    window = make_window()
    bar = window.prompt_pane.parameters
    assert bar.temperature.text() == "0.30" and bar.max_tokens.value() == 300
    bar.max_tokens.setValue(0)
    assert bar.max_tokens.text() == "default"
    qtbot.waitUntil(lambda: stored_variants(lab_home)[0][2] == {"temperature": 0.3}, timeout=5000)


def test_new_rename_and_delete(make_window, qtbot, lab_home, monkeypatch):
    window = make_window()
    window.commands.new_variant_action.trigger()
    assert (window.session.current_variant.name == "C"
            and window.session.current_variant.model == "openai/gpt-4o-mini")
    qtbot.waitUntil(lambda: [v[0] for v in stored_variants(lab_home)][-1] == "C", timeout=5000)
    model = window.variants_pane.model
    assert model.setData(model.index(2, 0), "C · bullet points")
    assert not model.setData(model.index(2, 0), "A · concise")  # names stay unique
    qtbot.waitUntil(lambda: stored_variants(lab_home)[-1][0] == "C · bullet points", timeout=5000)
    assert window.prompt_pane.header.title.text() == "System prompt · C · bullet points"
    assert window.results_pane.model.headerData(2, Qt.Orientation.Horizontal).startswith("C · bullet")

    monkeypatch.setattr(dialogs, "confirm", lambda *_a: False)
    window.commands.delete_variant_action.trigger()
    assert len(window.session.project.variants) == 3
    monkeypatch.setattr(dialogs, "confirm", lambda *_a: True)
    window.commands.delete_variant_action.trigger()
    qtbot.waitUntil(lambda: len(stored_variants(lab_home)) == 2, timeout=5000)
    assert window.session.current_variant.name == "B · empathetic steps"
    assert window.results_pane.model.columnCount() == 2
