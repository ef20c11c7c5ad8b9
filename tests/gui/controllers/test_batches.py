"""Batch runs from the window, against the fake provider's batch endpoints over loopback: Run as
Batch with its pre-flight, the batches shown with their counts while the window follows them,
results in the grid at the batch price, Cancel, Stop Following, a window closed while batches
wait and opened again, failed requests sent again, and a provider with no batch API.

Polls come every few milliseconds here (LAB_BATCH_POLL_SECONDS); the app polls every 10 s,
backing off to 5 minutes.
"""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from PySide6.QtWidgets import QMessageBox

from lab.core.providers import usage as usage_counts
from lab.core.providers.base import ProviderConfig
from lab.core.providers.pricing import PriceTable
from lab.core.workspace.location import current_project_id, open_default_workspace
from lab.core.workspace.providers import save_provider
from tests.gui.sample_runs import calls_in_db, point_sample_at
from tests.helpers.fake_provider.behaviours import http_error


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch):
    monkeypatch.setenv("LAB_BATCH_POLL_SECONDS", "0.02")
    monkeypatch.setenv("LAB_BATCH_POLL_MAX_SECONDS", "0.05")


def db_rows(lab_home, sql: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(lab_home / "workspace.db")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def dollars(text: str) -> float:
    return float(re.search(r"≈ \$([0-9.]+)", text).group(1))


def message_box(window, qtbot, name: str) -> QMessageBox:
    found: list[QMessageBox] = []
    qtbot.waitUntil(lambda: bool(found.extend(b for b in window.findChildren(QMessageBox, name)
                                              if b.isVisible()) or found), timeout=15000)
    return found[0]


def click(box: QMessageBox, text: str) -> None:
    (button,) = [b for b in box.buttons() if b.text() == text]
    button.click()


def run_as_batch(window, qtbot) -> QMessageBox:
    """Check Run as Batch, press Run, and send it from its pre-flight (returned, for reading)."""
    if not window.commands.batch_action.isChecked():
        window.commands.batch_action.trigger()
    qtbot.waitUntil(lambda: "in batches" in window.run_bar.estimate.text(), timeout=15000)
    window.commands.run_action.trigger()
    box = message_box(window, qtbot, "BatchPreflight")
    text = box.informativeText()
    click(box, "Send as Batch")
    box.informative = text  # what it said, kept for the test once it is gone
    return box


def status(window) -> str:
    return window.run_status.batches_label.text()


def following(window, qtbot, text: str) -> None:
    """Wait until the status bar's word on batches says `text`."""
    try:
        qtbot.waitUntil(lambda: text in status(window), timeout=30000)
    except qtbot.TimeoutError:
        raise AssertionError(f"the status bar says {status(window)!r}, "
                             f"{window.run_status.progress_label.text()!r}") from None


def batches_dialog(window):
    window.commands.batches_action.trigger()
    return window.batches._dialog


def table_text(table) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())]


def assert_batch_priced(lab_home) -> None:
    prices = PriceTable.load()
    for call in db_rows(lab_home, "SELECT * FROM calls WHERE status = 'ok'"):
        counts = usage_counts.normalise("openai", json.loads(call["usage_json"])).usage
        assert call["batch_id"] is not None and call["latency_ms"] is None
        assert call["cost_usd"] == pytest.approx(prices.cost("openai", call["model"], counts,
                                                             batch=True))


def test_run_as_batch_shows_its_batches_and_fills_the_grid_at_the_batch_price(
        make_window, qtbot, fake_server, lab_home):
    point_sample_at(fake_server, lab_home)
    fake_server.batches.hold = True  # the provider takes its time
    window = make_window()
    bar = window.run_bar
    qtbot.waitUntil(lambda: "40 calls to send" in bar.estimate.text(), timeout=15000)
    full_price = dollars(bar.estimate.text())

    window.commands.batch_action.trigger()
    assert window.run_bar.widgetForAction(window.commands.run_action).text() == "Run as Batch"
    qtbot.waitUntil(lambda: "40 calls to send in batches" in bar.estimate.text(), timeout=15000)
    assert "batch price" in bar.estimate.text()
    assert dollars(bar.estimate.text()) == pytest.approx(full_price / 2, abs=0.0001)
    assert "Batch: fake (openai): 40 requests in 2 batches" in bar.estimate.toolTip()

    box = run_as_batch(window, qtbot)
    assert "Batch: fake (openai): 40 requests in 2 batches" in box.informative
    assert "≤50,000 requests and ≤200 MB" in box.informative and "50% off" in box.informative
    following(window, qtbot, "2 batches waiting at fake (OpenAI) — following them")
    assert "(0/40 done)" in status(window)
    recorded = db_rows(lab_home, "SELECT * FROM batches ORDER BY id")  # sent, and recorded
    assert sorted(r["provider_batch_id"] for r in recorded) == sorted(
        b.id for b in fake_server.batches.created())
    assert [(r["run_id"], r["provider"], r["request_count"]) for r in recorded] == [
        (1, "fake", 20), (1, "fake", 20)]
    assert len(db_rows(lab_home, "SELECT * FROM batch_requests WHERE call_id IS NULL")) == 40
    grid = window.results_pane.model  # the cells wait in their batches
    qtbot.waitUntil(lambda: grid.cell(19, 1) is not None, timeout=10000)
    assert grid.data(grid.index(0, 0)) == "Waiting in a batch at fake/gpt-4o-mini"
    assert grid.data(grid.index(19, 1)) == "Waiting in a batch at fake/gpt-4o"
    assert window.commands.run_action.isEnabled()  # the window is free meanwhile
    assert window.commands.cancel_action.isEnabled()  # Cancel reaches the batches

    dialog = batches_dialog(window)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2, timeout=10000)
    qtbot.waitUntil(lambda: all("in progress" in row[4] for row in table_text(dialog.table)),
                    timeout=30000)
    for row in table_text(dialog.table):
        assert row[0] == "#1" and row[1] == "fake (openai)" and row[3].startswith("batch_")
        assert row[4] == "in progress · following" and row[5:8] == ["0", "0", "20"]
        assert row[9] == "unknown"  # nothing finished yet: no pace to go on
    assert "no request has finished yet" in dialog.table.item(0, 9).toolTip()
    assert not dialog.follow_button.isEnabled() and dialog.stop_button.isEnabled()
    assert not fake_server.chat_requests()

    fake_server.batches.hold = False  # the provider finishes
    following(window, qtbot, "Run #1's batches are in: 40 results")
    cells = [grid.cell(r, c) for r in range(20) for c in range(2)]
    assert all(cell.status == "ok" and cell.text for cell in cells)
    assert all(cell.footer().count("$") == 1 for cell in cells)  # a price, no latency
    assert_batch_priced(lab_home)
    assert calls_in_db(lab_home) == 40 and not fake_server.chat_requests()
    qtbot.waitUntil(lambda: all(row[4] == "collected" and row[5:8] == ["20", "0", "0"]
                                for row in table_text(dialog.table)), timeout=10000)
    assert not window.commands.cancel_action.isEnabled()
    qtbot.waitUntil(lambda: "40 calls logged" in window.run_status.totals_label.text(),
                    timeout=5000)


def test_a_window_closed_while_batches_wait_follows_them_when_opened_again(
        make_window, qtbot, fake_server, lab_home):
    point_sample_at(fake_server, lab_home)
    fake_server.batches.hold = True
    window = make_window()
    run_as_batch(window, qtbot)
    following(window, qtbot, "2 batches waiting at fake (OpenAI) — following them")
    window.close()
    assert fake_server.batches.cancelled == []  # closing cancels nothing at the provider
    assert {r["status"] for r in db_rows(lab_home, "SELECT status FROM batches")} <= {
        "submitted", "in_progress"}
    assert db_rows(lab_home, "SELECT status FROM runs")[0][0] == "waiting"
    assert calls_in_db(lab_home) == 0

    again = make_window()  # the batches are still in progress: the window follows them again
    following(again, qtbot, "2 batches waiting at fake (OpenAI) — following them")
    polls = fake_server.batches.polls
    qtbot.waitUntil(lambda: fake_server.batches.polls > polls, timeout=10000)
    grid = again.results_pane.model
    qtbot.waitUntil(lambda: grid.cell(19, 1) is not None and grid.cell(19, 1).status == "waiting",
                    timeout=10000)
    assert grid.data(grid.index(0, 0)) == "Waiting in a batch at fake/gpt-4o-mini"
    assert again.commands.cancel_action.isEnabled()

    fake_server.batches.hold = False  # the provider finishes
    following(again, qtbot, "Run #1's batches are in: 40 results")
    cells = db_rows(lab_home, "SELECT variant_name, case_index, sample_index, count(*) AS n "
                              "FROM calls GROUP BY 1, 2, 3")
    assert len(cells) == 40 and {c["n"] for c in cells} == {1}  # each collected exactly once
    assert len(fake_server.batches.created()) == 2 and not fake_server.chat_requests()
    assert all(grid.cell(r, c).status == "ok" for r in range(20) for c in range(2))
    assert_batch_priced(lab_home)


def test_cancel_cancels_the_batches_at_the_provider_and_resume_collects_and_finishes(
        make_window, qtbot, fake_server, lab_home):
    point_sample_at(fake_server, lab_home)
    fake_server.batches.hold = True
    window = make_window()
    run_as_batch(window, qtbot)
    following(window, qtbot, "following them")

    window.commands.cancel_action.trigger()
    box = message_box(window, qtbot, "CancelBatches")
    assert "Cancel run #1's 2 batches at fake (OpenAI)?" in box.text()
    click(box, "Cancel Batches")
    following(window, qtbot, "Cancelled 2 batches of run #1 at the provider")
    assert sorted(fake_server.batches.cancelled) == sorted(
        b.id for b in fake_server.batches.created())
    assert {r[0] for r in db_rows(lab_home, "SELECT status FROM batches")} == {"cancelling"}
    assert not window.commands.cancel_action.isEnabled()

    # Resume collects what the cancelled batches finished, then sends the rest in new batches.
    fake_server.batches.hold = False
    window.commands.resume_action.trigger()
    following(window, qtbot, "Run #1's batches are in: 40 results")
    assert calls_in_db(lab_home) == 40
    assert [b.total for b in fake_server.batches.created()] == [20, 20, 20, 20]
    assert {(r["status"], r["cost_usd"]) for r in db_rows(
        lab_home, "SELECT status, cost_usd FROM calls WHERE status != 'ok'")} == {("cancelled", 0.0)}
    grid = window.results_pane.model
    assert all(grid.cell(r, c).status == "ok" for r in range(20) for c in range(2))


def test_stop_following_leaves_the_batches_running_and_follow_takes_them_up_again(
        make_window, qtbot, fake_server, lab_home):
    point_sample_at(fake_server, lab_home)
    fake_server.batches.hold = True
    window = make_window()
    run_as_batch(window, qtbot)
    following(window, qtbot, "following them")
    dialog = batches_dialog(window)
    qtbot.waitUntil(lambda: dialog.stop_button.isEnabled(), timeout=10000)
    dialog.stop_button.click()
    following(window, qtbot, "Stopped following run #1's batches; they keep running")
    assert "2 batches at fake (OpenAI) not followed" in status(window)
    assert fake_server.batches.cancelled == []
    qtbot.waitUntil(lambda: all(row[4].endswith("not followed")
                                for row in table_text(dialog.table)), timeout=10000)

    fake_server.batches.hold = False
    qtbot.waitUntil(lambda: dialog.follow_button.isEnabled(), timeout=10000)
    dialog.follow_button.click()
    following(window, qtbot, "Run #1's batches are in: 40 results")
    assert calls_in_db(lab_home) == 40 and len(fake_server.batches.created()) == 2


def test_failed_requests_are_listed_and_sent_again_in_a_new_batch(make_window, qtbot,
                                                                   fake_server, lab_home):
    point_sample_at(fake_server, lab_home)
    fake_server.batches.expire_next, fake_server.batches.expire_done = 1, 5
    window = make_window()
    run_as_batch(window, qtbot)
    following(window, qtbot, "Run #1's batches are in: 40 results (15 did not succeed")
    dialog = batches_dialog(window)
    qtbot.waitUntil(lambda: dialog.failures.rowCount() == 15, timeout=10000)
    assert "15 requests of run #1's batches did not succeed" in dialog.failures_label.text()
    first = table_text(dialog.failures)[0]
    # the 5 first requests of one variant's batch ran before it expired (which batch the fake
    # expires depends on which reached it first: both are sent at once)
    assert first[1] in ("A · concise", "B · empathetic steps")
    assert first[2:5] == ["6", "1", "expired"], first
    assert "24-hour window ended before this request ran" in first[5]
    rows = table_text(dialog.table)
    assert sorted(row[4] for row in rows) == ["collected", "collected (expired)"]

    dialog.resend_batch.click()
    following(window, qtbot, "Run #1's batches are in: 15 results")
    assert [b.total for b in fake_server.batches.created()] == [20, 20, 15]
    assert len({(r["variant_name"], r["case_index"]) for r in db_rows(
        lab_home, "SELECT * FROM calls WHERE status = 'ok'")}) == 40
    qtbot.waitUntil(lambda: dialog.failures.rowCount() == 0, timeout=10000)
    assert "succeeded" in dialog.failures_label.text()


def test_requests_the_provider_answered_with_an_error_are_sent_again_one_by_one(
        make_window, qtbot, fake_server, lab_home):
    point_sample_at(fake_server, lab_home)
    fake_server.script(http_error(400, message="bad field"), http_error(400, message="bad field"),
                       model="gpt-4o")  # two lines of gpt-4o's batch come back as errors
    window = make_window()
    run_as_batch(window, qtbot)
    following(window, qtbot, "Run #1's batches are in: 40 results (2 did not succeed")
    grid = window.results_pane.model
    errors = [(r, c) for r in range(20) for c in range(2) if grid.cell(r, c).status == "error"]
    assert len(errors) == 2 and {c for _r, c in errors} == {1}
    dialog = batches_dialog(window)
    qtbot.waitUntil(lambda: dialog.failures.rowCount() == 2, timeout=10000)
    for row in table_text(dialog.failures):
        assert row[1] == "B · empathetic steps" and row[4] == "errored" and "bad field" in row[5]
    assert not fake_server.chat_requests()

    dialog.resend_direct.click()  # the two go to the chat endpoint, not in a batch
    qtbot.waitUntil(lambda: len(db_rows(lab_home, "SELECT * FROM calls WHERE status = 'ok'"))
                    == 40, timeout=30000)
    assert len(fake_server.chat_requests()) == 2 and len(fake_server.batches.created()) == 2
    qtbot.waitUntil(lambda: all(grid.cell(r, c).status == "ok" for r in range(20)
                                for c in range(2)), timeout=10000)
    qtbot.waitUntil(lambda: dialog.failures.rowCount() == 0, timeout=10000)
    assert "succeeded" in dialog.failures_label.text()


def test_a_provider_without_a_batch_api_is_said_so_and_runs_as_usual(
        make_window, qtbot, fake_server, lab_home):
    point_sample_at(fake_server, lab_home)
    with open_default_workspace(lab_home / "workspace.db") as store:
        save_provider(store, ProviderConfig(name="local", kind="ollama",
                                            base_url=fake_server.base_url("ollama")))
        project = store.load_project(current_project_id(store))
        project.variants[1].model = "local/llama3.2:latest"
        store.save_project(project)
    window = make_window()
    window.commands.batch_action.trigger()
    bar = window.run_bar
    qtbot.waitUntil(lambda: "40 calls to send: 20 in batches, 20 one by one" in bar.estimate.text(),
                    timeout=15000)
    assert "local: a server on this machine has no batch API" in bar.estimate.toolTip()

    box = run_as_batch(window, qtbot)
    assert ("Not in a batch (20 calls): local: a server on this machine has no batch API"
            in box.informative)
    assert "sent one by one as usual" in box.informative
    following(window, qtbot, "Run #1's batches are in: 20 results")
    assert len(fake_server.chat_requests("ollama")) == 20
    assert fake_server.batches.requests_sent() == 20
    grid = window.results_pane.model
    assert all(grid.cell(r, c).status == "ok" for r in range(20) for c in range(2))
