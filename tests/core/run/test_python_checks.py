"""Python checks in a run, in-process against the fake provider: the time and memory limits end a
check, not the run; grading never stalls the run's loop; the workers end with the run; and an
untrusted source's python checks do not run at all."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest
from lab.core.run.events import CallFinished
from lab.core.run.runner import Runner
from lab.core.workspace.store import open_workspace

from tests.helpers.experiments import experiment_text, make_client, prepare, run_experiment
from tests.helpers.fake_provider import http_error
from tests.helpers.processes import child_workers, cpu_seconds

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")

ENDLESS = "sum(range(10**13)) > 0"
MEMORY_BOMB = "len('x' * (2 * 1024**3)) > 0"
# The restricted builtins are no sandbox: this reaches os.system through a class every Python has.
ESCAPE = ("[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0]"
          ".__init__.__globals__['system']('touch {marker}') == 0")


def python_check(name: str, expression: str, timeout: float | None = None) -> str:
    limit = f"\ntimeout = {timeout}" if timeout is not None else ""
    return f'\n[[checks]]\ntype = "python"\nname = "{name}"\nexpression = "{expression}"{limit}\n'


def checks_by_cell(db) -> dict[tuple, dict[str, dict]]:
    with open_workspace(db) as store:
        return {(c["variant_name"], c["case_index"]):
                {r["check_name"]: r for r in c["check_results"]} for c in store.calls_for_run(1)}


def test_an_endless_check_fails_with_its_limit_and_every_cell_still_completes(server, db):
    before = child_workers()
    seen_workers: set[int] = set()
    events: list = []

    def on_event(event):
        events.append(event)
        if isinstance(event, CallFinished):
            seen_workers.update(child_workers() - before)

    text = experiment_text(server, extra=python_check("endless", ENDLESS, timeout=0.5)
                           + python_check("short", "len(output) < 500"))
    prepared = prepare(text, db, trusted=True)
    runner = Runner(db, prepared, on_event=on_event, client_factory=make_client)
    began = time.monotonic()
    finished = asyncio.run(runner.run())
    assert time.monotonic() - began < 60
    assert (finished.status, finished.calls, finished.errors) == ("done", 6, 0)
    graded = checks_by_cell(db)
    assert len(graded) == 6
    for checks in graded.values():
        assert checks["mentions order"]["passed"] == 1 and checks["short"]["passed"] == 1
        endless = checks["endless"]
        assert endless["passed"] == 0
        assert endless["reason"].startswith("python check took longer than 0.5 s; stopped")
    assert seen_workers, "the checks ran in worker processes"
    assert child_workers() - before == set()  # none left once the run returned
    assert runner.warnings == []


def test_a_memory_bomb_fails_its_check_not_the_run(server, db):
    text = experiment_text(server, cases=1, extra=python_check("bomb", MEMORY_BOMB))
    finished = run_experiment(text, db, trusted=True)
    assert finished.status == "done" and finished.calls == 2
    for checks in checks_by_cell(db).values():
        assert checks["bomb"]["passed"] == 0
        assert checks["bomb"]["reason"] == "python check used more than 1 GiB of memory; stopped"
        assert checks["mentions order"]["passed"] == 1


def test_grading_never_stalls_the_runs_event_loop(server, db):
    text = experiment_text(server, extra=python_check("slow", ENDLESS, timeout=1.2))
    runner = Runner(db, prepare(text, db, trusted=True), client_factory=make_client)
    gaps = []

    async def main():
        async def ticker():
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        tick = asyncio.create_task(ticker())
        try:
            return await runner.run()
        finally:
            tick.cancel()

    finished = asyncio.run(main())
    assert finished.status == "done" and finished.calls == 6
    assert sum(gaps) > 3.0  # six 1.2 s checks on two workers: the loop ran all along
    assert max(gaps) < 0.8, max(gaps)  # never stalled for one check's time


def test_cancel_stops_a_running_check_at_once_and_keeps_the_output(server, db):
    before = child_workers()
    text = experiment_text(server, cases=1, concurrency=1,
                           extra=python_check("slow", ENDLESS, timeout=120))
    runner = Runner(db, prepare(text, db, trusted=True), client_factory=make_client)
    done = runner.start_in_thread()
    deadline = time.monotonic() + 30
    while not any(cpu_seconds(pid) > 0.3 for pid in child_workers() - before):
        assert time.monotonic() < deadline, "no check started"
        time.sleep(0.02)
    cancelled_at = time.monotonic()
    runner.cancel()
    finished = done.result(timeout=30)
    assert time.monotonic() - cancelled_at < 10  # not the check's 120 s
    assert finished.status == "cancelled"
    [checks] = checks_by_cell(db).values()  # the output being graded is logged, paid for...
    assert set(checks) == {"mentions order"}  # ...without a verdict from the stopped check
    assert runner.warnings == ["Check 'slow' was not graded on an output that arrived as the run "
                               "was stopped."]
    assert child_workers() - before == set()


def test_an_untrusted_sources_python_checks_do_not_run(server, db, tmp_path):
    marker = tmp_path / "escaped"
    before = child_workers()
    text = experiment_text(server, cases=1, extra=python_check("sneaky", ESCAPE.format(
        marker=marker)))
    prepared = prepare(text, db)  # a new run is untrusted unless the caller says otherwise
    assert prepared.trusted is False
    runner = Runner(db, prepared, client_factory=make_client)
    finished = asyncio.run(runner.run())
    assert finished.status == "done" and finished.calls == 2
    assert not marker.exists()
    assert runner.warnings == ["Check 'sneaky' did not run: a python check is code, and this "
                               "experiment's file is not trusted."]
    for checks in checks_by_cell(db).values():
        assert set(checks) == {"mentions order"}  # the others are graded as usual
    assert child_workers() - before == set()  # no worker was even started


def test_trust_is_the_only_barrier_the_same_expression_trusted_does_run(server, db, tmp_path):
    marker = tmp_path / "escaped"
    text = experiment_text(server, cases=1, extra=python_check("sneaky", ESCAPE.format(
        marker=marker)))
    assert run_experiment(text, db, trusted=True).status == "done"
    assert marker.exists()  # which is why files must be trusted first


def test_a_resume_decides_trust_from_the_runs_source(server, db):
    text = experiment_text(server, cases=2, extra=python_check("short", "len(output) < 500"))
    server.script(http_error(400, message="not now"))  # one cell fails: the resume redoes it
    assert run_experiment(text, db, trusted=True).errors == 1
    # Its source, "tone.toml", is no file here, so nothing says the checks are trusted now.
    resumed = prepare(text, db, resume=1)
    assert (resumed.run_id, len(resumed.work), resumed.trusted) == (1, 1, False)
    assert prepare(text, db, resume=1, trusted=True).trusted is True
