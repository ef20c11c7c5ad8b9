"""Batch runs in-process: cells sent in batches and logged as ordinary calls at the batch price,
the workspace's record of each batch, resuming batches left open, cancelling, cached and local
cells, judges, limits and the pre-flight."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from lab.core.model import Usage
from lab.core.providers.batches import BatchClient
from lab.core.providers.pricing import PriceTable
from lab.core.run.batch import BatchRunner
from lab.core.run.batch_plan import BatchOptions, batchable, needs_batch_runner, with_batches
from lab.core.run.events import BatchProgress, CallFinished, RunFinished
from lab.core.run.plan import PlanError
from lab.core.run.setup import RunOptions
from lab.core.workspace.store import open_workspace

from tests.helpers.experiments import (
    FAST_RETRIES,
    JUDGE_MODEL,
    experiment_text,
    make_client,
    prepare,
    run_experiment,
)
from tests.helpers.fake_provider import API_KEY, http_error, reply

FAST = BatchOptions(poll_initial=0.005, poll_max=0.02)


def batch_client(config) -> BatchClient:
    return BatchClient(config, key_lookup=lambda _c: API_KEY, retry_policy=FAST_RETRIES)


def prepared_batch(text: str, db: Path, *, resume: int | None = None, batch: bool | None = True,
                   options: BatchOptions = FAST):
    prepared = prepare(text, db, RunOptions(batch=batch), resume=resume)
    with open_workspace(db) as store:
        return with_batches(store, prepared, PriceTable.load(), options=options)


def runner_for(text: str, db: Path, events: list | None = None, *, resume: int | None = None,
               batch: bool | None = True, options: BatchOptions = FAST) -> BatchRunner:
    prepared = prepared_batch(text, db, resume=resume, batch=batch, options=options)
    return BatchRunner(db, prepared, on_event=(events.append if events is not None else None),
                       client_factory=make_client, batch_client_factory=batch_client,
                       batch_options=options)


def run_batch(text: str, db: Path, events: list | None = None, **kw) -> RunFinished:
    return asyncio.run(runner_for(text, db, events, **kw).run())


def rows(db: Path, sql: str, *params) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def full_and_batch_price(call: sqlite3.Row) -> tuple[float, float]:
    usage = Usage(input_tokens=call["input_tokens"], output_tokens=call["output_tokens"],
                  cached_tokens=call["cached_tokens"] or 0)
    prices = PriceTable.load()
    return (prices.cost("openai", call["model"], usage),
            prices.cost("openai", call["model"], usage, batch=True))


def test_a_batch_run_logs_every_cell_as_an_ordinary_call_at_the_batch_price(server, db):
    events: list = []
    finished = run_batch(experiment_text(server, cases=3), db, events)
    assert (finished.status, finished.calls, finished.errors) == ("done", 6, 0)
    assert not server.chat_requests()  # nothing went one by one
    (batch,) = server.batches.created("openai")
    assert batch.total == 6
    calls = rows(db, "SELECT * FROM calls ORDER BY id")
    assert len(calls) == 6 and {c["status"] for c in calls} == {"ok"}
    for call in calls:
        full, half = full_and_batch_price(call)
        assert call["cost_usd"] == pytest.approx(half) and half == pytest.approx(full / 2)
        assert call["latency_ms"] is None and call["ttft_ms"] is None  # no latency of its own
        assert call["batch_id"] == 1 and call["started_at"] <= call["finished_at"]
        assert '"stream"' not in call["request_json"]
        checks = rows(db, "SELECT * FROM check_results WHERE call_id = ?", call["id"])
        assert [c["check_name"] for c in checks] == ["mentions order"] and checks[0]["passed"]
    (stored,) = rows(db, "SELECT * FROM batches")
    assert (stored["status"], stored["outcome"], stored["provider_batch_id"]) == (
        "collected", "completed", batch.id)
    assert stored["kind"] == "openai" and stored["model"] == "gpt-4o-mini"
    assert stored["ended_at"] and stored["submitted_at"] <= stored["collected_at"]
    requests = rows(db, "SELECT * FROM batch_requests ORDER BY position")
    assert [r["custom_id"] for r in requests] == ["v0-c0-s0", "v1-c0-s0", "v0-c1-s0", "v1-c1-s0",
                                                  "v0-c2-s0", "v1-c2-s0"]
    assert {r["outcome"] for r in requests} == {"succeeded"}
    assert sorted(r["call_id"] for r in requests) == [c["id"] for c in calls]
    progress = [e for e in events if isinstance(e, BatchProgress)]
    assert progress[0].status == "submitted" and progress[-1].status == "collected"
    assert progress[-1].done == 6 and progress[-1].pending == 0
    assert len([e for e in events if isinstance(e, CallFinished)]) == 6
    assert rows(db, "SELECT settings_json FROM runs")[0][0].count('"batch": true') == 1


def test_a_second_run_answers_from_the_log_and_sends_only_new_cells(server, db):
    run_batch(experiment_text(server, cases=2), db)
    finished = run_batch(experiment_text(server, cases=4), db)  # 2 cases known, 2 new
    assert (finished.status, finished.cached) == ("done", 4)
    assert [b.total for b in server.batches.created()] == [4, 4]
    new = rows(db, "SELECT * FROM calls WHERE run_id = 2 AND cached_from_call_id IS NULL")
    assert len(new) == 4 and {c["batch_id"] for c in new} == {2}


def test_per_line_errors_are_error_calls_listed_and_a_resume_sends_them_in_a_new_batch(server, db):
    server.script(reply(), http_error(400, message="bad request"), reply(), reply(), reply(),
                  http_error(500))
    text = experiment_text(server, cases=3)
    first = run_batch(text, db)
    assert (first.status, first.errors) == ("done", 2)
    errors = rows(db, "SELECT * FROM calls WHERE status = 'error'")
    assert len(errors) == 2 and {c["cost_usd"] for c in errors} == {0.0}
    assert {c["error_type"] for c in errors} == {"BadRequest", "ProviderDown"}
    with open_workspace(db) as store:
        failures = store.batch_failures(1)
    assert [f["custom_id"] for f in failures] == ["v1-c0-s0", "v1-c2-s0"]
    prepared = prepared_batch(text, db, resume=1)
    assert prepared.estimate.calls == 2 and prepared.options.batch
    second = run_batch(text, db, resume=1)
    assert (second.status, second.errors, second.calls) == ("done", 0, 2)
    assert [b.total for b in server.batches.created()] == [6, 2]
    with open_workspace(db) as store:
        assert len(store.done_cells(1)) == 6 and store.batch_failures(1) == []


def test_resume_can_send_what_is_left_one_by_one(server, db):
    server.batches.expire_next, server.batches.expire_done = 1, 4
    text = experiment_text(server, cases=3)
    first = run_batch(text, db)
    assert first.errors == 2
    assert {c["error_type"] for c in rows(db, "SELECT * FROM calls WHERE status = 'error'")} == {
        "BatchExpired"}
    second = run_batch(text, db, resume=1, batch=False)
    assert second.status == "done" and len(server.chat_requests()) == 2
    resent = rows(db, "SELECT * FROM calls WHERE id > 6")
    assert {c["batch_id"] for c in resent} == {None} and all(c["latency_ms"] for c in resent)


def test_a_killed_session_leaves_the_batch_open_and_a_resume_collects_it_once(server, db):
    """The process dies while waiting: simulated by a session that stops without cancelling."""
    server.batches.hold = True
    text = experiment_text(server, cases=3)
    runner = runner_for(text, db, options=BatchOptions(poll_initial=0.005, poll_max=0.01,
                                                        wait=False))
    finished = asyncio.run(runner.run())
    assert finished.status == "waiting" and runner.left_open
    (stored,) = rows(db, "SELECT * FROM batches")
    assert stored["status"] == "submitted" and stored["provider_batch_id"]
    assert not rows(db, "SELECT * FROM calls")
    with open_workspace(db) as store:
        assert store.runs_with_open_batches() == [1]
        prepared = prepared_batch(text, db, resume=1)
        assert needs_batch_runner(store, prepared)
    assert prepared.estimate.calls == 0 and "Waiting: 6 cells in 1 batch" in prepared.estimate.notes[0]
    server.batches.hold = False
    resumed = run_batch(text, db, resume=1)
    assert (resumed.status, resumed.calls) == ("done", 6)
    assert len(server.batches.created()) == 1  # nothing was sent twice
    calls = rows(db, "SELECT * FROM calls")
    assert len(calls) == 6 and {c["status"] for c in calls} == {"ok"}
    assert rows(db, "SELECT status FROM batches")[0][0] == "collected"


def test_results_already_logged_are_not_logged_again(server, db):
    """A crash half-way through logging a batch's results: the resume logs only the rest."""
    text = experiment_text(server, cases=2)
    run_batch(text, db)
    with open_workspace(db) as store:  # undo the end of the collection, as a crash would
        store.db.execute("DELETE FROM calls WHERE id > 2")
        store.db.execute("UPDATE batch_requests SET call_id = NULL, outcome = NULL"
                         " WHERE call_id IS NULL OR call_id > 2")
        store.db.execute("UPDATE batches SET status = 'ended', collected_at = NULL")
        store.db.conn.commit()
    resumed = run_batch(text, db, resume=1)
    assert (resumed.status, resumed.calls) == ("done", 2)
    assert len(server.batches.created()) == 1
    assert sorted(r[0] for r in rows(db, "SELECT custom_id FROM batch_requests b JOIN calls c ON"
                                         " c.id = b.call_id")) == sorted(
        r[0] for r in rows(db, "SELECT custom_id FROM batch_requests"))
    assert len(rows(db, "SELECT * FROM calls")) == 4


def test_cancel_cancels_the_provider_batch_and_a_resume_finishes_the_run(server, db):
    server.batches.hold = True
    text = experiment_text(server, cases=2)
    events: list = []
    runner = runner_for(text, db, events)

    def cancel_once_polled():
        while not any(isinstance(e, BatchProgress) and e.status == "in_progress" for e in events):
            threading.Event().wait(0.01)
        runner.cancel()

    threading.Thread(target=cancel_once_polled, daemon=True).start()
    finished = asyncio.run(runner.run())
    (batch,) = server.batches.created()
    assert finished.status == "cancelled" and server.batches.cancelled == [batch.id]
    assert rows(db, "SELECT status FROM batches")[0][0] == "cancelling"
    assert rows(db, "SELECT status FROM runs")[0][0] == "cancelled"
    server.batches.hold = False
    resumed = run_batch(text, db, resume=1)
    assert resumed.status == "done"
    statuses = rows(db, "SELECT status, count(*) FROM calls GROUP BY status ORDER BY status")
    assert [tuple(r) for r in statuses] == [("cancelled", 4), ("ok", 4)]  # then sent again
    assert [b.total for b in server.batches.created()] == [4, 4]
    with open_workspace(db) as store:
        assert len(store.done_cells(1)) == 4


def test_a_refused_batch_logs_its_cells_as_not_sent(server, db):
    server.batches.refuse_next = 1
    finished = run_batch(experiment_text(server, cases=1), db)
    assert finished.errors == 2
    calls = rows(db, "SELECT * FROM calls")
    assert all(c["error_message"].startswith("Not sent: the batch was refused") for c in calls)
    assert {c["cost_usd"] for c in calls} == {0.0}
    assert rows(db, "SELECT status FROM batches")[0][0] == "not_submitted"


def test_judges_grade_batch_outputs_one_call_at_a_time(server, db):
    server.script(*[reply('{"score": 5, "reason": "kind"}')] * 4, model=JUDGE_MODEL)
    prepared = prepared_batch(experiment_text(server, cases=2, judge=True), db)
    assert any("LLM-judge calls are not batched" in n for n in prepared.estimate.notes)
    batch_lines = [line for line in prepared.estimate.lines if line.batch]
    assert {line.label for line in batch_lines} == {"A", "B"}
    finished = run_batch(experiment_text(server, cases=2, judge=True), db)
    assert (finished.status, finished.calls) == ("done", 8)
    judges = rows(db, "SELECT * FROM calls WHERE judged_call_id IS NOT NULL")
    assert len(judges) == 4 and {c["batch_id"] for c in judges} == {None}
    assert len(server.chat_requests()) == 4 and server.batches.requests_sent() == 4
    graded = rows(db, "SELECT * FROM check_results WHERE check_name = 'polite'")
    assert len(graded) == 4 and {g["score"] for g in graded} == {5}


def test_providers_without_a_batch_api_run_as_usual_alongside(server, db):
    text = experiment_text(server, cases=2).replace(
        '[[variants]]\nname = "B"\nmodel = "fake/gpt-4o-mini"',
        '[[variants]]\nname = "B"\nmodel = "local/llama3.2"') + (
        f'\n[providers.local]\nkind = "ollama"\nbase_url = "{server.base_url("ollama")}"\n')
    prepared = prepared_batch(text, db)
    assert any("local: a server on this machine has no batch API" in n or
               "ollama has no batch API" in n for n in prepared.estimate.notes), prepared.estimate.notes
    assert [batchable(c) for c in prepared.work] == [True, False, True, False]
    finished = run_batch(text, db)
    assert (finished.status, finished.calls) == ("done", 4)
    assert server.batches.requests_sent() == 2 and len(server.chat_requests("ollama")) == 2


def test_batches_are_split_under_the_limits(server, db):
    finished = run_batch(experiment_text(server, cases=5), db,
                         options=BatchOptions(poll_initial=0.005, poll_max=0.02, max_requests=4))
    assert finished.status == "done"
    assert sorted(b.total for b in server.batches.created()) == [2, 4, 4]
    assert len(rows(db, "SELECT * FROM batches WHERE status = 'collected'")) == 3


def test_the_preflight_prices_batch_cells_at_the_batch_price(server, db):
    text = experiment_text(server, cases=4)
    direct = prepare(text, db, RunOptions())
    batched = prepared_batch(text, db)
    assert batched.estimate.cost_usd == pytest.approx(direct.estimate.cost_usd / 2)
    assert all(line.batch for line in batched.estimate.lines)
    (note,) = [n for n in batched.estimate.notes if n.startswith("Batch:")]
    assert "8 requests in 1 batch" in note and "≤50,000 requests and ≤200 MB" in note
    assert "50% off" in note


def test_a_budget_is_refused_for_a_batch_run(server, db):
    with pytest.raises(PlanError, match="cannot stop a batch half-way"):
        prepare(experiment_text(server), db, RunOptions(batch=True, budget_usd=1.0))


def test_batch_results_are_indistinguishable_downstream(server, db):
    """The run's summary reads batch calls like any others."""
    from lab.core.run.report import run_report

    run_batch(experiment_text(server, cases=3), db)
    run_experiment(experiment_text(server, cases=3), db)  # the same, answered from the log
    with open_workspace(db) as store:
        batch, again = run_report(store, 1), run_report(store, 2)
    assert (batch.status, batch.cells_done, again.cached_calls) == ("done", 6, 6)
    assert [v.overall.rate for v in batch.variants] == [1.0, 1.0]
    assert batch.variants[0].latency_p50_ms is None and batch.cost_usd > 0


def test_polls_that_keep_failing_are_tried_again_at_the_poll_pace(server, db):
    server.batches.fail_polls = 12  # more than the client's own retries of one poll
    events: list = []
    finished = run_batch(experiment_text(server, cases=2), db, events)
    assert finished.status == "done" and server.batches.fail_polls == 0
    assert any("trying again" in e.message for e in events if isinstance(e, BatchProgress))


def test_a_batch_that_cannot_be_followed_is_left_waiting_for_a_resume(server, db):
    server.batches.hold = True
    text = experiment_text(server, cases=2)
    runner = runner_for(text, db, options=BatchOptions(poll_initial=0.005, poll_max=0.01,
                                                        wait=False))
    asyncio.run(runner.run())
    (batch,) = server.batches.created()
    lost = server.batches.batches.pop(batch.id)  # the provider no longer knows it (404)
    server.batches.hold = False
    finished = run_batch(text, db, resume=1)
    assert finished.status == "waiting"
    (stored,) = rows(db, "SELECT * FROM batches")
    assert stored["status"] == "submitted" and "No batch found" in stored["error"]
    server.batches.batches[batch.id] = lost  # it was a passing confusion after all
    assert run_batch(text, db, resume=1).status == "done"
    assert len(rows(db, "SELECT * FROM calls WHERE status = 'ok'")) == 4


GEMINI_TEXT = '''name = "tone"

[providers.g]
kind = "gemini"
base_url = "{base}"
api_key_env = "LAB_TEST_KEY"
local = false

[[variants]]
name = "A"
model = "g/gemini-2.5-flash"
system = "You are terse."
max_tokens = 50

[cases]
user = "{{{{question}}}}"
rows = [{{ question = "Question 1: where is my order?" }}, {{ question = "Question 2: my order?" }}]

[[checks]]
type = "contains"
name = "mentions order"
value = "order"
'''


def test_a_gemini_batch_run(server, db):
    text = GEMINI_TEXT.format(base=server.base_url("gemini"))
    server.script(reply(), http_error(400, message="bad field"))
    finished = run_batch(text, db)
    assert (finished.status, finished.calls, finished.errors) == ("done", 2, 1)
    (batch,) = server.batches.created("gemini")
    assert batch.id.startswith("batches/") and batch.total == 2
    ok, bad = rows(db, "SELECT * FROM calls ORDER BY id")
    assert ok["status"] == "ok" and ok["cost_usd"] > 0 and ok["batch_id"] == 1
    assert bad["error_type"] == "BadRequest" and "bad field" in bad["error_message"]
