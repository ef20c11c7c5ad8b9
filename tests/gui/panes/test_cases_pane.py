"""Test cases in the window: import with per-row problems, paste, edit, add and delete."""

from __future__ import annotations

import json
import sqlite3

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from lab.gui.dialogs import messages as dialogs
from tests.gui.sample_runs import SUPPORT


def stored_cases(lab_home) -> list[tuple[str, dict]]:
    conn = sqlite3.connect(lab_home / "workspace.db")
    try:
        return [(label, json.loads(v)) for label, v in conn.execute(
            f"SELECT label, vars_json FROM test_cases WHERE project_id = {SUPPORT}"
            " ORDER BY position")]
    finally:
        conn.close()


def test_import_a_csv_with_a_bad_row(make_window, qtbot, lab_home, tmp_path, monkeypatch):
    window = make_window()
    csv_file = tmp_path / "more.csv"
    csv_file.write_text("label,customer,message,order_status,tone\n"
                        "gift card,Nora,Can I pay with a gift card?,no order yet,curious\n"
                        "broken,row\n"
                        "returns,Omar,How do I return boots?,delivered 2 days ago,calm\n")
    asked = []
    monkeypatch.setattr(dialogs, "confirm_import",
                        lambda _parent, source, good, problems: asked.append((source, good, problems)) or True)
    window.editing.import_cases(str(csv_file))
    qtbot.waitUntil(lambda: window.cases_pane.model.rowCount() == 22, timeout=5000)
    source, good, problems = asked[0]
    assert (source, good) == (str(csv_file), 2)
    assert problems == [f"{csv_file}, line 3: has 2 cells but the header has 5 columns; "
                        "check for an unquoted comma or a missing cell"]
    # The new column becomes a variable for every row; the grid grows with the cases.
    assert window.cases_pane.model.variable_names[-1] == "tone"
    assert window.results_pane.model.rowCount() == 22
    qtbot.waitUntil(lambda: len(stored_cases(lab_home)) == 22, timeout=5000)
    label, values = stored_cases(lab_home)[-1]
    assert label == "returns" and values["tone"] == "calm" and values["customer"] == "Omar"
    assert stored_cases(lab_home)[0][1]["tone"] == ""


def test_declining_an_import_with_problems_adds_nothing(make_window, qtbot, tmp_path, monkeypatch):
    window = make_window()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"customer": "A", "message": "m", "order_status": "s"}\nnot json\n')
    monkeypatch.setattr(dialogs, "confirm_import", lambda *_args: False)
    window.editing.import_cases(str(bad))
    qtbot.wait(300)
    assert window.cases_pane.model.rowCount() == 20


def test_paste_rows_from_a_spreadsheet(make_window, qtbot, lab_home):
    window = make_window()
    QApplication.clipboard().setText("Iris\tMy tent pole snapped.\tdelivered 1 month ago\n"
                                     "Jack\tDo you sell gas canisters?\tno order yet\n")
    window.cases_pane.view.setFocus()
    qtbot.waitUntil(window.cases_pane.view.hasFocus, timeout=2000)
    window.cases_pane.paste_button.click()
    assert window.cases_pane.model.rowCount() == 22
    qtbot.waitUntil(lambda: len(stored_cases(lab_home)) == 22, timeout=5000)
    assert stored_cases(lab_home)[-1][1] == {
        "customer": "Jack", "message": "Do you sell gas canisters?", "order_status": "no order yet"}


def test_edit_add_and_delete_rows(make_window, qtbot, lab_home):
    window = make_window()
    pane = window.cases_pane
    model = pane.model
    message_column = model.variable_names.index("message") + 1
    model.setData(model.index(0, message_column), "My boots are too big, not too small.")
    qtbot.waitUntil(lambda: stored_cases(lab_home)[0][1]["message"]
                    == "My boots are too big, not too small.", timeout=5000)
    pane.add_row()
    assert model.rowCount() == 21 and window.results_pane.model.rowCount() == 21
    pane.select_rows([0, 20])
    pane.delete_selected()
    qtbot.waitUntil(lambda: len(stored_cases(lab_home)) == 19, timeout=5000)
    assert stored_cases(lab_home)[0][0] == "late parcel"
    assert window.results_pane.model.rowCount() == 19
    assert pane.add_variable("first name") is not None
    assert pane.add_variable("priority") is None
    assert model.headerData(model.columnCount() - 1, Qt.Orientation.Horizontal) == "{{priority}}"
