"""The runner against the fake provider server, in-process: logging, cache, faults, cancel,
budget and resume, checked in the workspace afterwards."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from lab.core.run.events import (
    CallDelta,
    CallFinished,
    CallStarted,
    JudgeFinished,
    ProviderLimit,
    RunFinished,
    RunStarted,
)
from lab.core.run.runner import Runner
from lab.core.run.setup import RunOptions
from lab.core.workspace.errors import WorkspaceError
from lab.core.workspace.store import Store, open_workspace

from tests.helpers.experiments import (
    JUDGE_MODEL,
    experiment_text,
    make_client,
    prepare,
    run_experiment,
)
from tests.helpers.fake_provider import (
    bad_json,
    cut_stream,
    http_error,
    overloaded,
    rate_limited,
    reply,
)


def cells(store: Store, run_id: int) -> dict[tuple, dict]:
    return {(c["variant_name"], c["case_index"], c["sample_index"]): c
            for c in store.calls_for_run(run_id)}


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_every_call_is_logged_with_its_version_usage_cost_and_checks(server, db):
    server.script(*[reply('{"score": 5, "reason": "polite"}')] * 6, model=JUDGE_MODEL)
    events: list = []
    finished = run_experiment(experiment_text(server, judge=True), db, events=events)
    assert (finished.status, finished.errors) == ("done", 0)
    with open_workspace(db) as store:
        logged = cells(store, finished.run_id)
        assert len(logged) == 6
        versions = {c["variant_name"]: c["prompt_version_id"] for c in logged.values()}
        assert len(set(versions.values())) == 2 and None not in versions.values()
        assert store.load_prompt_version(versions["B"]).system == "You are warm and brief."
        for call in logged.values():
            assert call["status"] == "ok" and call["response_text"].startswith("You said: Question")
            assert call["input_tokens"] > 0 and call["output_tokens"] > 0 and call["cost_usd"] > 0
            assert call["latency_ms"] > 0 and call["ttft_ms"] is not None
            assert call["checks"] == {"mentions order": True, "polite": True}
            assert call["score"] == 5.0
            assert "sk-fake" not in call["request_json"] and '"stream": true' in call["request_json"]
            judged = next(r for r in call["check_results"] if r["check_name"] == "polite")
            judge_call = store.get_call(judged["judge_call_id"])
            assert judge_call["judged_call_id"] == call["id"] and judge_call["model"] == JUDGE_MODEL
            assert judge_call["variant_name"] == "judge: polite" and judged["reason"].endswith("polite")
        assert store.run_totals(finished.run_id)["judge_calls"] == 6
        run = store.get_run(finished.run_id)
        assert run["status"] == "done" and run["planned_calls"] == 6 and run["finished_at"]
    # Events: the run starts, each cell starts, streams and finishes, then its judge answers.
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    cell = next(e.cell for e in events if isinstance(e, CallFinished))
    kinds = [type(e) for e in events if getattr(e, "cell", None) == cell]
    assert kinds[0] is CallStarted and kinds[1] is CallDelta
    assert kinds.index(CallFinished) < kinds.index(JudgeFinished)
    assert sum(isinstance(e, CallFinished) for e in events) == 6


def test_faults_end_with_every_cell_done_or_a_clear_error(server, db):
    server.script(*[rate_limited(retry_after=0.01)] * 6, http_error(500), cut_stream(2),
                  overloaded(529), bad_json(), http_error(400, message="bad temperature"),
                  model="gpt-4o-mini")
    finished = run_experiment(experiment_text(server, cases=5), db)
    assert finished.status == "done"
    with open_workspace(db) as store:
        logged = cells(store, finished.run_id)
    assert len(logged) == 10  # no cell is missing
    statuses = Counter(c["status"] for c in logged.values())
    assert set(statuses) <= {"ok", "error"} and statuses["ok"] >= 5
    errors = [c for c in logged.values() if c["status"] == "error"]
    kinds = {c["error_type"] for c in errors}
    assert "BadRequest" in kinds
    assert "StreamCut" not in kinds  # a cut stream is transient: retried, not an error
    for call in errors:
        assert call["error_message"].startswith("fake") and len(call["error_message"]) > 30


def test_cut_streams_are_retried_and_their_cells_start_over(server, db):
    server.script(cut_stream(2), reply(), cut_stream(3), model="gpt-4o-mini")
    events: list = []
    finished = run_experiment(experiment_text(server, cases=5, concurrency=1), db,
                              RunOptions(concurrency=1), events=events)
    assert (finished.status, finished.errors) == ("done", 0)
    with open_workspace(db) as store:
        assert {c["status"] for c in cells(store, finished.run_id).values()} == {"ok"}
    first = next(e.cell for e in events if isinstance(e, CallStarted))
    mine = [e for e in events if getattr(e, "cell", None) == first]
    started = [i for i, e in enumerate(mine) if isinstance(e, CallStarted)]
    assert len(started) == 2  # started over after the cut
    after = "".join(e.text for e in mine[started[1]:] if isinstance(e, CallDelta))
    done = next(e for e in mine if isinstance(e, CallFinished))
    assert after == done.call.response_text and done.call.response_text.startswith("You said:")


def test_a_stream_cut_on_every_retry_keeps_its_partial_text(server, db):
    text = experiment_text(server, cases=1).replace("concurrency = 4", "concurrency = 4\nmax_retries = 1")
    server.script(cut_stream(2), cut_stream(2), model="gpt-4o-mini")
    finished = run_experiment(text, db, RunOptions(concurrency=1))
    with open_workspace(db) as store:
        (cut,) = [c for c in cells(store, finished.run_id).values() if c["status"] == "error"]
    assert cut["error_type"] == "StreamCut"
    assert cut["response_text"] == "You said: "  # what arrived before the last cut is kept


def test_identical_run_is_answered_from_the_cache_and_no_cache_calls_again(server, db):
    text = experiment_text(server, samples=3)
    first = run_experiment(text, db)
    # Samples 2 and 3 of a cell are fresh calls, not sample 1's answer again.
    assert len(server.chat_requests()) == 2 * 3 * 3 and first.cached == 0
    second = run_experiment(text, db)
    assert len(server.chat_requests()) == 18  # no HTTP call at all
    assert (second.status, second.cached, second.calls) == ("done", 18, 18)
    with open_workspace(db) as store:
        again = cells(store, second.run_id)
        assert all(c["cached_from_call_id"] and c["cost_usd"] == 0 for c in again.values())
        assert store.run_totals(second.run_id)["cost_usd"] == 0
    fresh = run_experiment(text, db, RunOptions(no_cache=True))
    assert len(server.chat_requests()) == 36 and fresh.cached == 0


def test_cancel_records_calls_in_flight_and_resume_finishes_the_rest(server, db):
    text = experiment_text(server, concurrency=2)
    server.script(reply(), reply())
    server.default = reply(chunk_delay=20)  # later calls send one chunk, then hang
    events: list = []
    runner = Runner(db, prepare(text, db), on_event=events.append, client_factory=make_client)
    result = runner.start_in_thread()
    wait_for(lambda: sum(isinstance(e, CallFinished) for e in events) == 2
             and len({e.cell for e in events if isinstance(e, CallDelta)}) == 4)
    runner.cancel()
    finished = result.result(timeout=10)
    assert finished.status == "cancelled"
    with open_workspace(db) as store:
        logged = cells(store, finished.run_id)
        assert sorted(c["status"] for c in logged.values()) == ["cancelled", "cancelled", "ok", "ok"]
        cancelled = [c for c in logged.values() if c["status"] == "cancelled"]
        assert all(c["response_text"] == "You " and c["error_type"] == "Cancelled" for c in cancelled)
        assert store.get_run(finished.run_id)["status"] == "cancelled"
        done_before = {k for k, c in logged.items() if c["status"] == "ok"}

    server.default = reply()
    sent = len(server.chat_requests())
    resumed = run_experiment(text, db, resume=finished.run_id)
    assert (resumed.status, resumed.run_id, resumed.calls) == ("done", finished.run_id, 4)
    assert len(server.chat_requests()) - sent == 4  # the 2 finished cells were not repeated
    with open_workspace(db) as store:
        logged = cells(store, finished.run_id)
        assert len(logged) == 6 and all(c["status"] == "ok" for c in logged.values())
        assert done_before <= set(logged)


def test_budget_cap_stops_the_run_and_resume_goes_on(server, db):
    text = experiment_text(server, cases=5, concurrency=1)
    finished = run_experiment(text, db, RunOptions(concurrency=1, budget_usd=1e-9))
    assert finished.status == "budget" and finished.calls == 1
    with open_workspace(db) as store:
        assert len(cells(store, finished.run_id)) == 1
        assert store.get_run(finished.run_id)["status"] == "budget"
    resumed = run_experiment(text, db, RunOptions(budget_usd=1.0), resume=finished.run_id)
    assert resumed.status == "done" and resumed.calls == 9
    assert resumed.spent_usd > finished.spent_usd > 0


def test_a_refused_key_is_not_sent_again_for_every_cell(server, db):
    server.default = http_error(401, code="invalid_api_key", message="Incorrect API key")
    finished = run_experiment(experiment_text(server, concurrency=1), db,
                              RunOptions(concurrency=1))
    assert (finished.status, finished.errors) == ("done", 6)
    assert len(server.chat_requests()) == 1
    with open_workspace(db) as store:
        logged = cells(store, finished.run_id).values()
    assert all(c["error_type"] == "AuthError" for c in logged)
    messages = sorted(c["error_message"] for c in logged)
    assert messages[0].startswith("Not sent: fake: the API key was refused")
    assert sum(not m.startswith("Not sent") for m in messages) == 1


def test_a_workspace_that_cannot_be_written_stops_the_run_with_its_message(server, db, monkeypatch):
    def full(self, records):
        raise WorkspaceError(f"The disk holding {db} is full; nothing was written.")

    monkeypatch.setattr(Store, "save_run_records", full)
    events: list = []
    finished = run_experiment(experiment_text(server), db, events=events)
    assert finished.status == "failed" and "is full" in finished.message
    assert events[-1] == finished


def test_resume_of_a_complete_run_has_nothing_to_do(server, db):
    text = experiment_text(server)
    finished = run_experiment(text, db)
    prepared = prepare(text, db, resume=finished.run_id)
    assert prepared.nothing_to_do and prepared.estimate.calls == 0
    assert prepared.estimate.already_done == 6


def test_resume_asks_the_judge_for_verdicts_it_never_gave(server, db):
    text = experiment_text(server, judge=True)
    server.script(*[http_error(400, message="judge unavailable")] * 6, model=JUDGE_MODEL)
    first = run_experiment(text, db)
    assert first.errors == 6  # the judge calls failed; the outputs themselves are fine
    server.script(*[reply('{"score": 4, "reason": "ok"}')] * 6, model=JUDGE_MODEL)
    prepared = prepare(text, db, resume=first.run_id)
    assert len(prepared.judge_gaps) == 6 and not prepared.work
    resumed = run_experiment(text, db, resume=first.run_id)
    assert resumed.calls == 6 and resumed.errors == 0
    with open_workspace(db) as store:
        assert all(c["checks"]["polite"] for c in store.calls_for_run(first.run_id))


def test_the_runs_concurrency_applies_to_a_provider_that_pins_none(server, db):
    server.latency = 0.2
    events: list = []
    text = experiment_text(server, cases=16, concurrency=None)
    finished = run_experiment(text, db, RunOptions(concurrency=16), events=events)
    assert finished.status == "done" and finished.errors == 0
    assert server.max_concurrent == 16  # a user who types 16 means 16
    limits = [e for e in events if isinstance(e, ProviderLimit)]
    assert limits[0] == ProviderLimit("fake", 16, 16)


def test_a_provider_that_pins_its_concurrency_caps_the_run(server, db):
    server.latency = 0.1
    text = experiment_text(server, cases=8, concurrency=3)
    events: list = []
    finished = run_experiment(text, db, RunOptions(concurrency=16, max_concurrency=32),
                              events=events)
    assert finished.status == "done"
    assert server.max_concurrent == 3
    assert [e for e in events if isinstance(e, ProviderLimit)][0] == ProviderLimit("fake", 3, 3)


def _time_at_limits(stamped: list, end: float) -> dict[int, float]:
    """Seconds spent at each limit, from (time, ProviderLimit) pairs up to `end`."""
    spent: dict[int, float] = {}
    for (at, event), (until, _) in zip(stamped, [*stamped[1:], (end, None)]):
        spent[event.limit] = spent.get(event.limit, 0.0) + until - at
    return spent


def test_a_provider_ceiling_of_8_is_found_without_a_failed_call(server, db):
    """The provider pins nothing and the run asks for 16; the server answers 429 (retry-after
    0.05 s) to calls beyond 8 in flight. The limiter must find that ceiling: every call ends ok,
    and after its first cut the limit stays around 8 (it probes 9 now and then, and halves)."""
    server.latency = 0.25  # long next to the client's own time per call, even on a busy machine
    server.max_concurrent_ok = 8
    server.sdk_checks = False  # its CPU would count as client time here (requests are still checked)
    stamped: list = []

    def on_event(event) -> None:
        if isinstance(event, ProviderLimit):
            stamped.append((time.monotonic(), event))

    runner = Runner(db, prepare(experiment_text(server, cases=30, concurrency=None), db,
                                RunOptions(concurrency=16)), on_event=on_event, client_factory=make_client)
    finished = asyncio.run(runner.run())
    end = time.monotonic()
    assert (finished.status, finished.calls, finished.errors) == ("done", 60, 0)
    with open_workspace(db) as store:
        assert {c["status"] for c in store.calls_for_run(finished.run_id)} == {"ok"}
    assert server.over_ceiling > 0 and server.max_concurrent <= 8  # it did hit the ceiling
    assert stamped[0][1] == ProviderLimit("fake", 16, 16)
    cut = next(i for i, (_, e) in enumerate(stamped) if e.limit < 16)
    spent = _time_at_limits(stamped[cut:], end)
    total = sum(spent.values())
    near = sum(s for limit, s in spent.items() if 5 <= limit <= 8)
    assert near / total >= 0.6, spent  # most of the time at 5..8
    assert 5 <= sum(limit * s for limit, s in spent.items()) / total <= 9, spent
