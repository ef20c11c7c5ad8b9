"""Running from the window against the fake provider server over loopback: the pre-flight
estimate, cells filling in, cancel and resume without repeating a call, and a refused run."""

from __future__ import annotations

from lab.gui.dialogs import messages as dialogs
from tests.gui.sample_runs import calls_in_db, point_sample_at
from tests.helpers.fake_provider.behaviours import http_error


def test_run_fills_the_grid_and_logs_every_call(make_window, qtbot, fake_server, lab_home):
    point_sample_at(fake_server, lab_home)
    window = make_window()
    qtbot.waitUntil(lambda: "40 calls to send" in window.run_bar.estimate.text(), timeout=10000)
    assert "tokens in" in window.run_bar.estimate.text()

    window.commands.run_action.trigger()
    qtbot.waitUntil(lambda: window.run_status.progress_label.text().startswith("Run finished"),
                    timeout=30000)
    assert window.run_status.progress_label.text().startswith("Run finished: 40 calls, 0 errors")
    grid = window.results_pane.model
    cells = [grid.cell(r, c) for r in range(20) for c in range(2)]
    assert all(cell is not None and cell.status == "ok" and cell.text for cell in cells)
    assert all(set(cell.checks) == {"greets by name", "under 120 words", "no AI disclaimers"}
               for cell in cells)
    assert len(fake_server.chat_requests()) == 40
    assert calls_in_db(lab_home) == 40
    qtbot.waitUntil(lambda: "40 calls logged" in window.run_status.totals_label.text(), timeout=5000)
    qtbot.waitUntil(lambda: window.history_pane.model.rowCount() == 40, timeout=5000)

    # Selecting a cell shows the whole call.
    window.results_pane.select_cell(3, 1)
    detail = window.results_pane.detail.toPlainText()
    assert "B · empathetic steps" in detail and "refund status" in detail
    assert "fake/gpt-4o" in detail and "tokens" in detail

    # Running again is answered from the cache: no new request reaches the server.
    qtbot.waitUntil(lambda: "40 from cache" in window.run_bar.estimate.text(), timeout=10000)
    window.commands.run_action.trigger()
    qtbot.waitUntil(lambda: window.commands.run_action.isEnabled() and "Run finished" in
                    window.run_status.progress_label.text() and window.results_pane.model.cell(0, 0)
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
    window.commands.run_action.trigger()
    qtbot.waitUntil(lambda: window.running._run_counts["done"] >= 8, timeout=30000)
    window.commands.cancel_action.trigger()
    qtbot.waitUntil(lambda: window.commands.run_action.isEnabled(), timeout=30000)
    assert window.run_status.progress_label.text().startswith("Run cancelled")
    done_first = calls_in_db(lab_home)
    assert 8 <= done_first < 40
    assert window.commands.resume_action.isEnabled()

    fake_server.latency = 0.0
    window.commands.resume_action.trigger()
    qtbot.waitUntil(lambda: window.run_status.progress_label.text().startswith("Run finished"), timeout=30000)
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
    qtbot.waitUntil(lambda: "problem" in window.run_bar.estimate.text(), timeout=10000)
    assert "{{product}}" in window.run_bar.estimate.toolTip()
    window.commands.run_action.trigger()
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    assert any("product" in p for p in shown[0])
    assert fake_server.chat_requests() == []
    assert window.commands.run_action.isEnabled()


def test_samples_change_the_planned_calls(make_window):
    window = make_window()
    window.run_bar.samples.setValue(5)
    assert window.run_bar.estimate.text().strip() == "200 calls planned"
    assert "× 5 samples = 200 calls" in window.results_pane.header.caption.text()


def test_the_status_bar_follows_the_run_live(make_window, qtbot, fake_server, lab_home):
    point_sample_at(fake_server, lab_home)
    fake_server.latency = 0.2
    window = make_window()
    status = window.run_status
    qtbot.waitUntil(lambda: "40 calls to send" in window.run_bar.estimate.text(), timeout=10000)
    qtbot.waitUntil(lambda: "calls logged" in status.totals_label.text(), timeout=5000)
    assert status.totals_label.text().startswith("0 calls logged")
    window.commands.run_action.trigger()
    qtbot.waitUntil(lambda: window.running._run_counts["done"] >= 4, timeout=30000)
    # Mid-run: progress, calls done of the total, spend so far, each provider's limit.
    text = status.progress_label.text()
    done = int(text.split(" / ")[0])
    assert 4 <= done < 40 and "/ 40 calls" in text and "spent" in text
    assert status.limits_label.text() == "fake: 8 in flight"
    assert window.statusBar().currentMessage() != "Preparing the run…"
    assert status.progress.isVisible() and status.progress.maximum() == 40
    # The workspace totals grow as calls land, not only when the run ends.
    logged = int(status.totals_label.text().split(" calls")[0])
    assert logged >= 4
    qtbot.waitUntil(lambda: status.progress_label.text().startswith("Run finished"), timeout=30000)
    assert status.totals_label.text().startswith("40 calls logged")
    assert status.limits_label.text() == "" and not status.progress.isVisible()


def test_errors_show_in_the_status_bar_while_the_run_streams(make_window, qtbot, fake_server,
                                                             lab_home):
    point_sample_at(fake_server, lab_home)
    fake_server.latency = 0.1
    fake_server.script(*[http_error(400, message="bad request")] * 20, model="gpt-4o")
    window = make_window()
    window.commands.run_action.trigger()
    qtbot.waitUntil(lambda: window.running._run_counts["errors"] >= 2, timeout=30000)
    assert "errors" in window.run_status.progress_label.text()
    qtbot.waitUntil(lambda: window.commands.run_action.isEnabled(), timeout=30000)
    assert "⚠" in window.run_status.errors_label.text()
