"""Judging a run's outputs from the window: ratings and tags by keyboard, promote to example,
blind pairwise judging, and the word diff of two outputs."""

from __future__ import annotations

import sqlite3

from tests.gui.sample_runs import point_sample_at


def test_judge_outputs_by_keyboard_and_three_blind_pairs(make_window, qtbot, fake_server, lab_home):
    from PySide6.QtCore import Qt

    point_sample_at(fake_server, lab_home)
    window = make_window()
    window.commands.run_action.trigger()
    qtbot.waitUntil(lambda: window.run_status.progress_label.text().startswith("Run finished"), timeout=30000)
    view = window.results_pane.view
    view.setFocus()
    qtbot.waitUntil(view.hasFocus, timeout=2000)
    window.results_pane.select_cell(2, 0)
    qtbot.keyClick(view, Qt.Key.Key_4)
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    window.judging.rate(tags=["too long", "invented policy"])
    cell = window.results_pane.model.cell(2, 0)
    assert cell.score == 4 and cell.thumbs == 1
    assert "★★★★" in cell.footer() and "👍" in cell.footer()

    def rating_row():
        conn = sqlite3.connect(lab_home / "workspace.db")
        try:
            rating = conn.execute("SELECT score, thumbs FROM ratings WHERE call_id = ?",
                                  [cell.logged_id]).fetchone()
            tags = [r[0] for r in conn.execute(
                "SELECT t.name FROM call_tags ct JOIN tags t ON t.id = ct.tag_id"
                " WHERE ct.call_id = ? ORDER BY t.name", [cell.logged_id])]
            return rating, tags
        finally:
            conn.close()

    qtbot.waitUntil(lambda: rating_row() == ((4, 1), ["invented policy", "too long"]), timeout=5000)

    # Promote the output to a few-shot example of variant A.
    window.commands.promote_action.trigger()
    assert len(window.session.project.variants[0].examples) == 6
    assert window.session.project.variants[0].examples[-1].output == cell.text

    # Three blind pairwise judgements by keyboard.
    window.commands.pairwise_action.trigger()
    qtbot.waitUntil(lambda: getattr(window.judging, "pairwise_dialog", None) is not None, timeout=5000)
    dialog = window.judging.pairwise_dialog
    qtbot.addWidget(dialog)
    assert dialog.progress.text().startswith("Pair 1 of 20")
    assert "A · concise" not in dialog.left.toPlainText() + dialog.right.toPlainText()
    shown = []
    for key in (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_T):
        shown.append(dialog.current)
        qtbot.keyClick(dialog, key)
    assert dialog.progress.text().startswith("Pair 4 of 20")
    assert "won" in dialog.verdict_label.text()

    def judgements():
        conn = sqlite3.connect(lab_home / "workspace.db")
        try:
            return conn.execute("SELECT left_call_id, right_call_id, winner FROM"
                                " pairwise_judgements ORDER BY id").fetchall()
        finally:
            conn.close()

    qtbot.waitUntil(lambda: len(judgements()) == 3, timeout=5000)
    assert judgements() == [(shown[0].left_call_id, shown[0].right_call_id, "left"),
                            (shown[1].left_call_id, shown[1].right_call_id, "right"),
                            (shown[2].left_call_id, shown[2].right_call_id, "tie")]
    dialog.close()

    # Judgements are there when the workspace is opened again; judged pairs are not asked again.
    window.close()
    again = make_window()
    reopened = again.results_pane.model.cell(2, 0)
    assert reopened.score == 4 and reopened.tags == ["invented policy", "too long"]
    again.commands.pairwise_action.trigger()
    qtbot.waitUntil(lambda: getattr(again.judging, "pairwise_dialog", None) is not None, timeout=5000)
    qtbot.addWidget(again.judging.pairwise_dialog)
    assert again.judging.pairwise_dialog.progress.text().startswith("Pair 1 of 17")


def test_word_diff_of_two_selected_outputs(make_window, qtbot, fake_server, lab_home):
    point_sample_at(fake_server, lab_home)
    window = make_window()
    window.commands.run_action.trigger()
    qtbot.waitUntil(lambda: window.run_status.progress_label.text().startswith("Run finished"), timeout=30000)
    window.results_pane.select_cells([(0, 0)])
    assert window.judging.compare_outputs() is None  # one output is not a comparison
    window.results_pane.select_cells([(0, 0), (1, 0)])
    dialog = window.judging.compare_outputs()
    qtbot.addWidget(dialog)
    assert "Maya" in dialog.left_view.toPlainText() and "Jonas" in dialog.right_view.toPlainText()
    assert dialog.summary.text().endswith("words only on the right")
