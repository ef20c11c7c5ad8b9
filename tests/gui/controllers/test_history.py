"""History you can use, on the real window against the fake server: prompt versions per variant
(diff two, name one, restore one), the project's runs (open an old one in the grid as it was,
compare two side by side, a `lab run` run among them), and a logged call in History shown in
full, rated, promoted and opened in its run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lab.core.workspace.location import current_project_id, open_default_workspace
from tests.gui.sample_runs import SUPPORT, point_sample_at
from tests.helpers.experiments import experiment_text
from tests.helpers.lab_process import lab


def small_sample(server, lab_home, cases: int = 3) -> None:
    """The sample on the fake server, with only a few test cases: quick runs."""
    point_sample_at(server, lab_home)
    with open_default_workspace(lab_home / "workspace.db") as store:
        project = store.load_project(current_project_id(store))
        del project.cases[cases:]
        store.save_project(project)


def run(window, qtbot) -> None:
    qtbot.waitUntil(lambda: window.commands.run_action.isEnabled(), timeout=10000)
    before = window.run_status.progress_label.text()
    window.commands.run_action.trigger()
    qtbot.waitUntil(lambda: window.run_status.progress_label.text().startswith("Run finished")
                    and window.run_status.progress_label.text() != before
                    and window.commands.run_action.isEnabled(), timeout=30000)


def edit_prompt(window, text: str) -> None:
    window.prompt_pane.system.setPlainText(text)
    window.prompt_pane.flush()


def test_prompt_versions_are_listed_diffed_named_and_restored(make_window, qtbot, fake_server,
                                                              lab_home):
    small_sample(fake_server, lab_home)
    window = make_window()
    variant = window.session.project.variants[0]
    original = variant.system
    run(window, qtbot)
    edit_prompt(window, original.replace("under 120 words", "under 80 words"))
    run(window, qtbot)
    edit_prompt(window, "Draft, not run yet.")

    dialog = window.history.show_prompt_history()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 3, timeout=5000)
    assert [dialog.model.title(r) for r in range(3)] == ["Current (in the editor)", "v2", "v1"]
    assert dialog.model.rows[1]["runs"] and dialog.model.rows[2]["runs"]
    assert dialog.model.rows[1]["runs"][0] > dialog.model.rows[2]["runs"][0]
    # Two versions, word by word: v1 on the left, v2 on the right.
    dialog.select_rows([1, 2])
    assert dialog.left_title.text() == "v1" and dialog.right_title.text() == "v2"
    assert "120" in dialog.left_view.toPlainText() and "80" in dialog.right_view.toPlainText()
    assert dialog.summary.text().startswith("1 word only in v1 · ")

    # Name v1; the name shows and is kept in the workspace.
    dialog.select_rows([2])
    dialog.name_requested.emit(dialog.model.rows[2]["id"], "before the 80-word rule")
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 3
                    and dialog.model.title(2) == "v1 “before the 80-word rule”", timeout=5000)

    # Restore v1: the editor shows it, it is saved, and Undo takes it back.
    dialog.select_rows([2])
    dialog.restore_button.click()
    assert variant.system == original
    assert window.prompt_pane.system.toPlainText() == original
    window.session.finish_saves()
    conn = sqlite3.connect(lab_home / "workspace.db")
    assert conn.execute(f"SELECT system FROM variants WHERE project_id = {SUPPORT}"
                        " ORDER BY position").fetchone()[0] == original
    window.results_pane.view.setFocus()
    window.commands.undo_action.trigger()
    assert variant.system == "Draft, not run yet."


def test_runs_are_listed_opened_as_they_were_and_compared(make_window, qtbot, fake_server,
                                                          lab_home):
    small_sample(fake_server, lab_home)
    window = make_window()
    run(window, qtbot)
    first_text = window.results_pane.model.cell(0, 0).text
    edit_prompt(window, "Reply in one short sentence to {{customer}}.")
    window.cases_pane.model.remove_rows([2])  # the second run has one case fewer
    run(window, qtbot)

    dialog = window.history.show_runs()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2, timeout=5000)
    newer, older = (r["id"] for r in dialog.model.rows)
    row = dialog.model.rows[1]
    assert row["variants"] == ["A · concise", "B · empathetic steps"] and row["cases"] == 3
    assert "A · concise" in dialog.model.data(dialog.model.index(1, 7))  # pass rates
    assert dialog.model.data(dialog.model.index(1, 6)).startswith("$")

    # Open the older run: the grid shows its three cases and outputs as they were.
    dialog.select_runs([older])
    dialog.open_button.click()
    qtbot.waitUntil(lambda: window.running.viewing == older, timeout=5000)
    grid = window.results_pane.model
    assert grid.rowCount() == 3 and grid.cell(0, 0).text == first_text
    assert window.results_pane.banner.isVisibleTo(window)
    assert f"Run #{older}" in window.results_pane.viewing.text()

    # Compare the two runs, the same variant before and after the edit.
    dialog.select_runs([older, newer])
    dialog.compare_button.click()
    qtbot.waitUntil(lambda: window.history.compare_dialog is not None, timeout=5000)
    compare = window.history.compare_dialog
    qtbot.addWidget(compare)
    assert compare.before_variant.currentText() == "A · concise"
    verdicts = [c.verdict for c in compare.model.rows]
    assert len(verdicts) == 3 and verdicts[-1] == "only before"
    assert compare.left_view.toPlainText() and compare.right_view.toPlainText()

    # Back to the latest run.
    window.results_pane.back_button.click()
    qtbot.waitUntil(lambda: window.running.viewing is None and grid.rowCount() == 2
                    and grid.cell(0, 0) is not None, timeout=5000)
    assert not window.results_pane.banner.isVisibleTo(window)


def test_a_run_made_with_lab_run_opens_in_the_grid(make_window, qtbot, fake_server, lab_home,
                                                   tmp_path):
    path = tmp_path / "tone.toml"
    path.write_text(experiment_text(fake_server, cases=2))
    db = lab_home / "workspace.db"
    with open_default_workspace(db):
        pass  # the workspace with its sample, as the window left it
    result = lab("run", str(path), "--db", str(db), "--yes")  # the real command
    assert result.returncode == 0, result.stderr
    with open_default_workspace(db) as store:
        project_id = next(p["id"] for p in store.list_projects() if p["name"] == "tone")
        run_id = store.latest_run_id(project_id)
    outcome = type("Outcome", (), {"run_id": run_id})
    window = make_window()
    window.projects.switch_to(project_id)
    qtbot.waitUntil(lambda: window.session.project.name == "tone", timeout=10000)
    # Its latest run is shown on open, like the window's own.
    assert window.results_pane.model.cell(1, 1) is not None
    dialog = window.history.show_runs()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=5000)
    assert dialog.model.data(dialog.model.index(0, 0)) == f"#{outcome.run_id} · lab run"
    dialog.select_runs([outcome.run_id])
    dialog.open_button.click()
    qtbot.waitUntil(lambda: window.running.viewing == outcome.run_id, timeout=5000)
    assert "from lab run" in window.results_pane.viewing.text()
    assert window.results_pane.model.cell(1, 1).status == "ok"
    assert Path(window.session.project.source_path) == path.resolve()


def test_a_logged_call_in_history_is_shown_rated_promoted_and_opened(make_window, qtbot,
                                                                   fake_server, lab_home):
    small_sample(fake_server, lab_home, cases=2)
    window = make_window()
    run(window, qtbot)
    history = window.history_pane
    qtbot.waitUntil(lambda: history.model.rowCount() == 4, timeout=5000)
    history.select_call_row(0)
    call = history.model.row_data(0)
    qtbot.waitUntil(lambda: "tokens" in history.detail.toPlainText(), timeout=5000)
    text = history.detail.toPlainText()
    assert call["variant_name"] in text and "Request sent" in text
    assert "greets by name" in text  # its checks

    history.up_button.click()
    conn = sqlite3.connect(lab_home / "workspace.db")
    qtbot.waitUntil(lambda: conn.execute("SELECT thumbs FROM ratings WHERE call_id = ?",
                                         [call["id"]]).fetchone() == (1,), timeout=5000)
    qtbot.waitUntil(lambda: "👍" in history.detail.toPlainText(), timeout=5000)

    variant = next(v for v in window.session.project.variants if v.name == call["variant_name"])
    examples = len(variant.examples)
    history.promote_button.click()
    assert len(variant.examples) == examples + 1
    output = conn.execute("SELECT response_text FROM calls WHERE id = ?", [call["id"]]).fetchone()
    assert variant.examples[-1].output == output[0] and output[0]
    assert variant.examples[-1].input.startswith("Customer: ")  # the case's user message
    assert window.session.current_variant is variant

    window.variants_pane.select(0)
    history.open_run_button.click()
    qtbot.waitUntil(lambda: window.running.viewing is not None, timeout=5000)
    assert window.running.viewing == call["run_id"]
