"""Python checks in worker processes: time and memory limits, reuse, replacement, shutdown."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest
from lab.core.checks.config import DEFAULT_TIMEOUT_S, expression_timeout, validate_check
from lab.core.checks.graders import run_check
from lab.core.checks.workers import EvaluationStopped, ExpressionPool
from lab.core.model import Check, TestCase

from tests.helpers.processes import child_workers, cpu_seconds

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")

ENDLESS = "sum(range(10**13)) > 0"  # one C call: no signal handler or thread gets a turn
MEMORY_BOMB = "len('x' * (2 * 1024**3)) > 0"  # 2 GiB, touched: allowed in-process, not in a worker


@pytest.fixture
def pool():
    with ExpressionPool(2) as p:
        yield p


def test_an_expression_past_its_time_limit_fails_and_the_pool_goes_on(pool):
    began = time.monotonic()
    passed, score, reason = pool.evaluate(ENDLESS, "out", {}, timeout=0.5)
    assert time.monotonic() - began < 15  # the limit, plus a worker's start on a busy machine
    assert (passed, score) == (False, None)
    assert reason.startswith("python check took longer than 0.5 s; stopped")
    assert pool.evaluate("len(output) == 3", "out", {}) == (
        True, None, "expression `len(output) == 3` is True")


def test_a_memory_bomb_fails_its_check_and_the_worker_lives_on(pool):
    passed, _, reason = pool.evaluate(MEMORY_BOMB, "out", {})
    assert not passed and reason == "python check used more than 1 GiB of memory; stopped"
    [pid] = pool.pids
    assert pool.evaluate("output == 'out'", "out", {})[0] and pool.pids == [pid]


def test_workers_are_reused_and_an_overrunning_one_is_replaced(pool):
    for _ in range(20):
        assert pool.evaluate("vars['a'] in output", "abc", {"a": "b"})[0]
    [first] = pool.pids  # one caller at a time: one worker does it all
    pool.evaluate(ENDLESS, "", {}, timeout=0.3)
    assert pool.pids == []  # killed, not kept
    assert pool.evaluate("True", "", {})[0]
    [second] = pool.pids
    assert second != first and not os.path.exists(f"/proc/{first}")


def test_concurrent_callers_share_at_most_size_workers(pool):
    results = []

    def grade(i: int) -> None:
        results.append(pool.evaluate("int(output) % 2 == 0", str(i), {}))

    threads = [threading.Thread(target=grade, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [r[0] for r in results].count(True) == 6
    assert 1 <= len(pool.pids) <= 2


def test_a_worker_that_dies_fails_its_check_and_is_replaced(pool):
    outcome = []
    thread = evaluate_in_thread(pool, outcome, timeout=30)
    deadline = time.monotonic() + 20
    while not (pool.pids and cpu_seconds(pool.pids[0]) > 0.2):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(pool.pids[0], signal.SIGKILL)  # as the kernel's OOM killer would
    thread.join(10)
    [(passed, _, reason)] = outcome
    assert not passed and reason.startswith("python check stopped: it was killed")
    assert pool.evaluate("True", "", {})[0]


def evaluate_in_thread(pool, outcome, expression=ENDLESS, timeout=60) -> threading.Thread:
    def run():
        try:
            outcome.append(pool.evaluate(expression, "", {}, timeout=timeout))
        except EvaluationStopped as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_close_stops_every_worker_even_a_busy_one_and_leaves_no_process():
    before = child_workers()
    pool = ExpressionPool(2)
    outcome = []
    busy = evaluate_in_thread(pool, outcome)
    assert pool.evaluate("True", "", {})[0]
    deadline = time.monotonic() + 20
    while len(pool.pids) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert len(child_workers() - before) == 2
    began = time.monotonic()
    pool.close()
    busy.join(10)
    assert time.monotonic() - began < 10 and not busy.is_alive()
    assert isinstance(outcome[0], EvaluationStopped)  # no verdict: the output was not graded
    assert child_workers() - before == set()
    with pytest.raises(EvaluationStopped):
        pool.evaluate("True", "", {})  # closed: nothing runs any more
    pool.close()  # twice is fine


def test_abort_stops_a_busy_evaluation_at_once_without_waiting():
    before = child_workers()
    pool = ExpressionPool(1)
    outcome = []
    busy = evaluate_in_thread(pool, outcome)
    deadline = time.monotonic() + 20
    while not (pool.pids and cpu_seconds(pool.pids[0]) > 0.3):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    began = time.monotonic()
    pool.abort()
    busy.join(10)
    assert time.monotonic() - began < 5 and isinstance(outcome[0], EvaluationStopped)
    pool.close()
    assert child_workers() - before == set()


def test_a_worker_ignores_ctrl_c_sent_to_the_whole_process_group(pool):
    assert pool.evaluate("True", "", {})[0]
    [pid] = pool.pids
    os.kill(pid, signal.SIGINT)
    time.sleep(0.2)
    assert pool.evaluate("True", "", {})[0] and pool.pids == [pid]


def test_run_check_uses_the_checks_timeout_option(pool):
    check = Check("python", {"expression": ENDLESS, "timeout": 0.4}, name="endless")
    result = run_check(check, "x", TestCase(vars={}), expressions=pool)
    assert not result.passed and "took longer than 0.4 s" in result.reason
    assert expression_timeout(Check("python", {"expression": "True"})) == DEFAULT_TIMEOUT_S == 2


def test_timeout_option_is_validated_like_the_others():
    def errors(timeout):
        return validate_check(Check("python", {"expression": "True", "timeout": timeout}))

    assert errors(5) == [] and errors(0.5) == []
    assert errors("5") == ["Check 'python': 'timeout' must be a number, not '5'."]
    assert errors(True) == ["Check 'python': 'timeout' must be a number, not true."]
    assert errors(0) == [
        "Check 'python': 'timeout' must be more than 0 and at most 600 seconds, not 0."
    ]
    assert errors(601) == [
        "Check 'python': 'timeout' must be more than 0 and at most 600 seconds, not 601."
    ]
