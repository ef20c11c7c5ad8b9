"""Running from the window against the fake provider server over loopback: the pre-flight
estimate, cells filling in, cancel and resume without repeating a call, and a refused run."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import Qt

from lab.core.providers.base import ProviderConfig
from lab.core.workspace.location import current_project_id, open_default_workspace
from lab.core.workspace.providers import save_provider
from lab.gui.dialogs import messages as dialogs
from tests.helpers.fake_provider import API_KEY, FakeProviderServer

KEY_ENV = "LAB_GUI_TEST_KEY"


@pytest.fixture
def fake_server(monkeypatch):
    server = FakeProviderServer().start()
    monkeypatch.setenv(KEY_ENV, API_KEY)
    yield server
    server.stop()
    assert not server.validation_failures


def point_sample_at(server: FakeProviderServer, lab_home) -> None:
    """The sample workspace, with a provider `fake` and both variants on its models."""
    with open_default_workspace(lab_home / "workspace.db") as store:
        save_provider(store, ProviderConfig(name="fake", kind="openai", local=False,
                                            base_url=server.base_url("openai"),
                                            api_key_env=KEY_ENV, concurrency=8))
        project = store.load_project(current_project_id(store))
        project.variants[0].model = "fake/gpt-4o-mini"
        project.variants[1].model = "fake/gpt-4o"
        store.save_project(project)


def calls_in_db(lab_home) -> int:
    conn = sqlite3.connect(lab_home / "workspace.db")
    try:
        return conn.execute("SELECT count(*) FROM calls WHERE status = 'ok'").fetchone()[0]
    finally:
        conn.close()


def test_run_fills_the_grid_and_logs_every_call(make_window, qtbot, fake_server, lab_home):
    point_sample_at(fake_server, lab_home)
    window = make_window()
    qtbot.waitUntil(lambda: "40 calls to send" in window.estimate_label.text(), timeout=10000)
    assert "tokens in" in window.estimate_label.text()

    window.run_action.trigger()
    qtbot.waitUntil(lambda: window.progress_label.text().startswith("Run finished"),
                    timeout=30000)
    assert window.progress_label.text().startswith("Run finished: 40 calls, 0 errors")
    grid = window.results_pane.model
    cells = [grid.cell(r, c) for r in range(20) for c in range(2)]
    assert all(cell is not None and cell.status == "ok" and cell.text for cell in cells)
    assert all(set(cell.checks) == {"greets by name", "under 120 words", "no AI disclaimers"}
               for cell in cells)
    assert len(fake_server.chat_requests()) == 40
    assert calls_in_db(lab_home) == 40
    qtbot.waitUntil(lambda: "40 calls logged" in window.totals_label.text(), timeout=5000)
    qtbot.waitUntil(lambda: window.history_pane.model.rowCount() == 40, timeout=5000)

    # Selecting a cell shows the whole call.
    window.results_pane.select_cell(3, 1)
    detail = window.results_pane.detail.toPlainText()
    assert "B · empathetic steps" in detail and "refund status" in detail
    assert "fake/gpt-4o" in detail and "tokens" in detail

    # Running again is answered from the cache: no new request reaches the server.
    qtbot.waitUntil(lambda: "40 from cache" in window.estimate_label.text(), timeout=10000)
    window.run_action.trigger()
    qtbot.waitUntil(lambda: window.run_action.isEnabled() and "Run finished" in
                    window.progress_label.text() and window.results_pane.model.cell(0, 0)
                    and window.results_pane.model.cell(0, 0).cached, timeout=30000)
    assert len(fake_server.chat_requests()) == 40

    # The results are there again when the workspace is opened next time.
    window.close()
    again = make_window()
    assert again.results_pane.model.cell(19, 1).status == "ok"


def test_cancel_then_resume_repeats_no_call(make_window, qtbot, fake_server, lab_home):
    point_sample_at(fake_server, lab_home)
    fake_server.latency = 0.25
    window = make_window()
    window.run_action.trigger()
    qtbot.waitUntil(lambda: window.running._run_counts["done"] >= 8, timeout=30000)
    window.cancel_action.trigger()
    qtbot.waitUntil(lambda: window.run_action.isEnabled(), timeout=30000)
    assert window.progress_label.text().startswith("Run cancelled")
    done_first = calls_in_db(lab_home)
    assert 8 <= done_first < 40
    assert window.resume_action.isEnabled()

    fake_server.latency = 0.0
    window.resume_action.trigger()
    qtbot.waitUntil(lambda: window.progress_label.text().startswith("Run finished"), timeout=30000)
    assert calls_in_db(lab_home) == 40
    # Every cell was asked once, except those cancelled in flight, which were asked again.
    sent = len(fake_server.chat_requests())
    assert 40 <= sent <= 40 + 8
    grid = window.results_pane.model
    assert all(grid.cell(r, c).status == "ok" for r in range(20) for c in range(2))


def test_a_run_with_a_missing_variable_is_refused_before_any_call(
        make_window, qtbot, fake_server, lab_home, monkeypatch):
    point_sample_at(fake_server, lab_home)
    shown = []
    monkeypatch.setattr(dialogs, "show_problems", lambda _p, title, problems: shown.append(problems))
    window = make_window()
    window.prompt_pane.system.setPlainText("Reply to {{customer}} about {{product}}.")
    window.prompt_pane.flush()
    qtbot.waitUntil(lambda: "problem" in window.estimate_label.text(), timeout=10000)
    assert "{{product}}" in window.estimate_label.toolTip()
    window.run_action.trigger()
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    assert any("product" in p for p in shown[0])
    assert fake_server.chat_requests() == []
    assert window.run_action.isEnabled()


def test_judge_outputs_by_keyboard_and_three_blind_pairs(make_window, qtbot, fake_server, lab_home):
    from PySide6.QtCore import Qt

    point_sample_at(fake_server, lab_home)
    window = make_window()
    window.run_action.trigger()
    qtbot.waitUntil(lambda: window.progress_label.text().startswith("Run finished"), timeout=30000)
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
    window.promote_action.trigger()
    assert len(window.session.project.variants[0].examples) == 6
    assert window.session.project.variants[0].examples[-1].output == cell.text

    # Three blind pairwise judgements by keyboard.
    window.pairwise_action.trigger()
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
    again.pairwise_action.trigger()
    qtbot.waitUntil(lambda: getattr(again.judging, "pairwise_dialog", None) is not None, timeout=5000)
    qtbot.addWidget(again.judging.pairwise_dialog)
    assert again.judging.pairwise_dialog.progress.text().startswith("Pair 1 of 17")


def test_word_diff_of_two_selected_outputs(make_window, qtbot, fake_server, lab_home):
    point_sample_at(fake_server, lab_home)
    window = make_window()
    window.run_action.trigger()
    qtbot.waitUntil(lambda: window.progress_label.text().startswith("Run finished"), timeout=30000)
    window.results_pane.select_cells([(0, 0)])
    assert window.judging.compare_outputs() is None  # one output is not a comparison
    window.results_pane.select_cells([(0, 0), (1, 0)])
    dialog = window.judging.compare_outputs()
    qtbot.addWidget(dialog)
    assert "Maya" in dialog.left_view.toPlainText() and "Jonas" in dialog.right_view.toPlainText()
    assert dialog.summary.text().endswith("words only on the right")


def test_filter_and_sort_the_results_grid(make_window, qtbot, fake_server, lab_home):
    from tests.helpers.fake_provider import http_error

    point_sample_at(fake_server, lab_home)
    # Three of B's calls are refused (a 400 is not retried), so three rows carry an error.
    fake_server.script(*[http_error(400, message="bad request")] * 3, model="gpt-4o")
    window = make_window()
    window.run_action.trigger()
    qtbot.waitUntil(lambda: window.progress_label.text().startswith("Run finished"), timeout=30000)
    pane, grid = window.results_pane, window.results_pane.model
    errors = {r for r in range(20) if grid.cell(r, 1).status == "error"}
    assert len(errors) == 3

    pane.show_rows.setCurrentIndex(2)  # "An error"
    assert pane.proxy.rowCount() == len(errors)
    assert pane.header.caption.text().startswith(f"showing {len(errors)} of 20 rows")
    pane.show_rows.setCurrentIndex(0)
    assert pane.proxy.rowCount() == 20

    pane.filter_text.setText("Kwame")  # a customer's name appears in that row's outputs
    assert pane.proxy.rowCount() == 1
    assert pane.proxy.headerData(0, Qt.Orientation.Vertical) == "missing item"
    pane.filter_text.clear()

    # Sort rows by A's output length, longest last; selection still finds the right cell.
    pane.sort_rows.setCurrentIndex(4)  # "Output length"
    pane.proxy.sort(0, Qt.SortOrder.AscendingOrder)
    lengths = [len(grid.cell(pane.proxy.mapToSource(pane.proxy.index(r, 0)).row(), 0).text)
               for r in range(20)]
    assert lengths == sorted(lengths)
    pane.view.setCurrentIndex(pane.proxy.index(19, 0))
    row, column = pane.current_source()
    assert len(grid.cell(row, column).text) == max(lengths)
    assert grid.cell(row, column).text.split()[2] in pane.detail.toPlainText()
