"""Following a batch run's batches in the background (lab/core/run/batch.py): a session that
only collects the batches already sent (`BatchOptions(collect_only=True)`, what the window runs
when it opens a workspace with batches waiting), and `BatchRunner.leave()` (closing the window,
or no longer following), which stops a session without cancelling the provider's batches."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from lab.core.providers.batches import BatchClient
from lab.core.providers.pricing import PriceTable
from lab.core.run.batch import BatchRunner
from lab.core.run.batch_plan import BatchOptions, with_batches
from lab.core.run.events import BatchProgress, CallFinished
from lab.core.run.setup import RunOptions
from lab.core.workspace.store import open_workspace

from tests.helpers.experiments import FAST_RETRIES, experiment_text, make_client, prepare
from tests.helpers.fake_provider import API_KEY, FakeProviderServer

FAST = dict(poll_initial=0.005, poll_max=0.02)


@pytest.fixture
def server(fake_server_checked: FakeProviderServer) -> FakeProviderServer:
    return fake_server_checked


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "workspace.db"


def runner_for(text: str, db: Path, options: BatchOptions, events: list | None = None, *,
               resume: int | None = None) -> BatchRunner:
    prepared = prepare(text, db, RunOptions(batch=True if resume is None else None),
                       resume=resume)
    with open_workspace(db) as store:
        prepared = with_batches(store, prepared, PriceTable.load(), options=options)
    return BatchRunner(db, prepared, on_event=events.append if events is not None else None,
                       client_factory=make_client, batch_options=options,
                       batch_client_factory=lambda c: BatchClient(
                           c, key_lookup=lambda _c: API_KEY, retry_policy=FAST_RETRIES))


def rows(db: Path, sql: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def send_and_leave(text: str, db: Path) -> None:
    """A batch run that sends its batches and stops, as the window's Run as batch does."""
    finished = asyncio.run(runner_for(text, db, BatchOptions(**FAST, wait=False)).run())
    assert finished.status == "waiting"


def when(events: list, status: str, then) -> None:
    """Call `then()` from another thread once a BatchProgress with `status` was reported."""
    def watch() -> None:
        while not any(isinstance(e, BatchProgress) and e.status == status for e in list(events)):
            threading.Event().wait(0.005)
        then()

    threading.Thread(target=watch, daemon=True).start()


def test_a_collect_only_session_logs_the_batches_results_and_sends_nothing_new(server, db):
    server.batches.expire_next, server.batches.expire_done = 1, 4  # 2 of 6 requests expire
    text = experiment_text(server, cases=3)
    send_and_leave(text, db)
    events: list = []
    finished = asyncio.run(runner_for(text, db, BatchOptions(**FAST, collect_only=True), events,
                                      resume=1).run())
    assert (finished.status, finished.calls, finished.errors) == ("done", 6, 2)
    assert len([e for e in events if isinstance(e, CallFinished)]) == 6
    assert len(server.batches.created()) == 1  # the expired requests were not sent again
    assert not server.chat_requests()
    assert rows(db, "SELECT status FROM batches")[0][0] == "collected"
    with open_workspace(db) as store:
        assert [f["outcome"] for f in store.batch_failures(1)] == ["expired", "expired"]
        assert store.runs_with_open_batches() == []


def test_leave_stops_following_without_cancelling_and_a_later_session_collects_once(server, db):
    server.batches.hold = True
    text = experiment_text(server, cases=2)
    send_and_leave(text, db)
    events: list = []
    runner = runner_for(text, db, BatchOptions(**FAST, collect_only=True), events, resume=1)
    when(events, "in_progress", runner.leave)
    finished = asyncio.run(runner.run())
    assert finished.status == "waiting"
    assert server.batches.cancelled == []  # still running at the provider
    assert runner.left_open and "no longer followed" in next(iter(runner.left_open.values()))
    assert [e.status for e in events if isinstance(e, BatchProgress)][-1] == "waiting"
    assert rows(db, "SELECT status FROM batches")[0][0] == "in_progress"
    assert rows(db, "SELECT status FROM runs")[0][0] == "waiting"
    assert not rows(db, "SELECT * FROM calls")

    server.batches.hold = False
    again = asyncio.run(runner_for(text, db, BatchOptions(**FAST, collect_only=True),
                                   resume=1).run())
    assert (again.status, again.calls) == ("done", 4)
    cells = rows(db, "SELECT variant_name, case_index, count(*) AS n FROM calls GROUP BY 1, 2")
    assert len(cells) == 4 and {c["n"] for c in cells} == {1}
    assert len(server.batches.created()) == 1


def test_leave_before_the_session_starts_leaves_every_batch_open(server, db):
    server.batches.hold = True
    text = experiment_text(server, cases=1)
    send_and_leave(text, db)
    runner = runner_for(text, db, BatchOptions(**FAST, collect_only=True), resume=1)
    runner.leave()
    assert asyncio.run(runner.run()).status == "waiting"
    assert server.batches.cancelled == [] and rows(db, "SELECT status FROM batches")[0][0] in (
        "submitted", "in_progress")


def test_leave_when_nothing_is_open_any_more_ends_the_session_cancelled(server, db):
    """Left while only a call sent one by one was in flight: no batch waits, the call is
    cancelled, so the session says cancelled, not waiting."""
    server.latency = 2.0  # the cells go one by one (no batch mode) and take their time
    text = experiment_text(server, cases=1)
    events: list = []
    prepared = prepare(text, db, RunOptions())
    with open_workspace(db) as store:
        prepared = with_batches(store, prepared, PriceTable.load())
    runner = BatchRunner(db, prepared, on_event=events.append, client_factory=make_client,
                         batch_options=BatchOptions(**FAST))
    started = threading.Event()

    def leave_once_sent() -> None:
        while not server.chat_requests():
            threading.Event().wait(0.005)
        started.set()
        runner.leave()

    threading.Thread(target=leave_once_sent, daemon=True).start()
    finished = asyncio.run(runner.run())
    assert started.is_set() and finished.status == "cancelled"
    assert {r["status"] for r in rows(db, "SELECT status FROM calls")} == {"cancelled"}


def test_a_cancel_before_the_first_poll_still_cancels_the_batches_at_the_provider(server, db):
    server.batches.hold = True
    text = experiment_text(server, cases=1)
    send_and_leave(text, db)
    runner = runner_for(text, db, BatchOptions(**FAST, collect_only=True), resume=1)
    runner.cancel()
    assert asyncio.run(runner.run()).status == "cancelled"
    assert server.batches.cancelled == [server.batches.created()[0].id]
    assert rows(db, "SELECT status FROM batches")[0][0] == "cancelling"
