"""The run's single writer: batches, order, flush on stop, and failures that reach the runner."""

from __future__ import annotations

import sqlite3
import time

import pytest
from lab.core.model import Call, Usage
from lab.core.workspace.call_writer import CallWriter
from lab.core.workspace.errors import WorkspaceError, WorkspaceTooNew
from lab.core.workspace.runs import CallRecord, CheckRecord, LoggedCheck
from lab.core.workspace.store import open_workspace


def call(text: str) -> Call:
    return Call(provider="openai", model="m", request={"messages": []}, status="ok",
                response_text=text, usage=Usage(3, 4), cost_usd=0.001)


def count(db) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM calls").fetchone()[0]
    finally:
        conn.close()


def test_records_land_in_order_with_their_checks_and_stop_flushes_the_rest(tmp_path):
    db = tmp_path / "ws.db"
    writer = CallWriter(lambda: open_workspace(db), batch_size=1000, interval=60).start()
    graded, judge = call("graded"), call("verdict")
    writer.save(CallRecord(graded, case_index=0,
                           checks=[LoggedCheck("short", True, None, "12 words")]))
    writer.save(CallRecord(judge, judged=graded))
    writer.save(CheckRecord(graded, [LoggedCheck("polite", True, 5.0, "nice", judge_call=judge)]))
    # A function runs after everything queued before it, on the writer's own connection.
    assert writer.submit(lambda store: store.count_calls()).result(timeout=5) == 2
    writer.save(CallRecord(call("last")))
    assert count(db) == 2  # the interval is long: the last one is still queued
    writer.stop()
    assert count(db) == 3 and writer.saved == 4
    assert graded.id < judge.id
    with open_workspace(db) as store:
        rows = store.db.execute(
            "SELECT check_name, passed, score, judge_call_id FROM check_results"
            " WHERE call_id = ? ORDER BY id", [graded.id]).fetchall()
        assert rows == [("short", 1, None, None), ("polite", 1, 5.0, judge.id)]
        assert store.get_call(judge.id)["judged_call_id"] == graded.id


def test_a_full_batch_is_written_without_waiting_for_the_interval(tmp_path):
    db = tmp_path / "ws.db"
    writer = CallWriter(lambda: open_workspace(db), batch_size=3, interval=60).start()
    try:
        for i in range(3):
            writer.save(CallRecord(call(str(i))))
        deadline = time.monotonic() + 10
        while count(db) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        writer.stop()


def test_a_failed_write_is_kept_and_reported_once(tmp_path, monkeypatch):
    db = tmp_path / "ws.db"
    seen = []
    writer = CallWriter(lambda: open_workspace(db), batch_size=1, interval=0.01,
                        on_error=seen.append).start()

    def full(self, records):
        raise WorkspaceError("the disk is full")

    from lab.core.workspace.store import Store

    monkeypatch.setattr(Store, "save_run_records", full)
    writer.save(CallRecord(call("a")))
    writer.save(CallRecord(call("b")))
    writer.stop()
    assert str(writer.error) == "the disk is full" and len(seen) == 1


def test_a_workspace_that_cannot_be_opened_fails_at_start(tmp_path):
    db = tmp_path / "future.db"
    open_workspace(db).close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 999")
    conn.commit()
    conn.close()
    with pytest.raises(WorkspaceTooNew):
        CallWriter(lambda: open_workspace(db)).start()
