"""`lab run` and python checks, the code inside experiment files: an untrusted file is refused
before anything is sent, `--trust` trusts it (until it changes), and a check that never ends or
eats memory fails on its own while the run completes, leaving no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from lab.core.workspace.trust import TRUST_FILENAME

from tests.helpers.lab_process import LAB, lab, rows, start_lab, write
from tests.helpers.experiments import KEY_ENV, experiment_text
from tests.helpers.fake_provider import API_KEY
from tests.helpers.processes import cpu_seconds, workers_with_env

ENDLESS = "sum(range(10**13)) > 0"
ESCAPE = ("[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0]"
          ".__init__.__globals__['system']('touch {marker}') == 0")


def python_check(name: str, expression: str, timeout: float | None = None) -> str:
    limit = f"\ntimeout = {timeout}" if timeout is not None else ""
    return f'\n[[checks]]\ntype = "python"\nname = "{name}"\nexpression = "{expression}"{limit}\n'


def check_rows(db, name: str) -> list:
    return rows(db, "SELECT r.* FROM check_results r JOIN calls c ON c.id = r.call_id "
                    "WHERE r.check_name = ? AND c.judged_call_id IS NULL", name)


def test_an_untrusted_file_is_refused_before_anything_is_sent(server, db, tmp_path):
    exp = write(tmp_path, experiment_text(server, extra=python_check("short", "len(output) < 500")))
    result = lab("run", str(exp), "--db", str(db), "--yes")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line == (
        f"lab: {exp}: python check 'short' would run code on this machine, and this file is not "
        f"trusted; nothing was sent. If you trust it, run: lab run {exp} --trust (once: trust is "
        "remembered until the file changes)")
    assert server.requests == []  # not even the model list
    assert not db.exists()


def test_the_escape_from_the_restricted_builtins_does_not_run_untrusted(server, db, tmp_path):
    marker = tmp_path / "escaped"
    exp = write(tmp_path, experiment_text(
        server, extra=python_check("sneaky", ESCAPE.format(marker=marker))))
    result = lab("run", str(exp), "--db", str(db))
    assert result.returncode == 2 and "'sneaky'" in result.stderr
    assert not marker.exists() and server.requests == []


def test_trust_runs_the_file_and_lasts_until_one_byte_changes(server, db, tmp_path, lab_home):
    text = experiment_text(server, extra=python_check("short", "len(output) < 500"))
    exp = write(tmp_path, text)
    trusted = lab("run", str(exp), "--db", str(db), "--trust", "--json")
    assert trusted.returncode == 0, trusted.stderr
    assert f"lab: trusted {exp}: its python checks will run" in trusted.stderr
    assert [r["passed"] for r in check_rows(db, "short")] == [1] * 6
    stored = json.loads((lab_home / TRUST_FILENAME).read_text())
    assert [e["path"] for e in stored["trusted"]] == [str(exp.resolve())]

    again = lab("run", str(exp), "--db", str(db), "--json")  # no flag needed any more
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["cached_calls"] == 6

    exp.write_text(text.replace("< 500", "< 501"))  # one byte
    sent = len(server.requests)
    edited = lab("run", str(exp), "--db", str(db))
    assert edited.returncode == 2 and "is not trusted; nothing was sent" in edited.stderr
    assert len(server.requests) == sent


def test_a_file_without_python_checks_needs_no_trust(server, db, tmp_path, lab_home):
    exp = write(tmp_path, experiment_text(server))
    assert lab("run", str(exp), "--db", str(db)).returncode == 0
    assert not (lab_home / TRUST_FILENAME).exists()


def test_resuming_a_run_of_a_file_no_longer_trusted_needs_trust_again(server, db, tmp_path,
                                                                        lab_home):
    exp = write(tmp_path, experiment_text(server, concurrency=1,
                                          extra=python_check("short", "len(output) < 500")))
    stopped = lab("run", str(exp), "--db", str(db), "--trust", "--budget", "0.000001",
                  "--concurrency", "1")
    assert stopped.returncode == 3, stopped.stderr
    (lab_home / TRUST_FILENAME).unlink()  # as if trusted on another machine
    sent = len(server.requests)
    refused = lab("run", str(exp), "--db", str(db), "--resume", "1")
    assert refused.returncode == 2 and "'short'" in refused.stderr
    assert len(server.requests) == sent
    resumed = lab("run", str(exp), "--db", str(db), "--resume", "1", "--trust", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["cells_done"] == 6
    assert len(check_rows(db, "short")) == 6


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_an_endless_check_fails_its_cells_the_run_completes_and_no_worker_remains(
        server, db, tmp_path, lab_home):
    exp = write(tmp_path, experiment_text(server, extra=python_check("endless", ENDLESS, 0.5)))
    result = lab("run", str(exp), "--db", str(db), "--trust", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "done" and report["cells_done"] == 6
    assert report["variants"][0]["checks"]["endless"] == {**report["variants"][0]["checks"][
        "endless"], "passed": 0, "n": 3}
    reasons = {r["reason"] for r in check_rows(db, "endless")}
    assert reasons == {"python check took longer than 0.5 s; stopped (its 'timeout' option "
                       "allows more)"}
    assert {r["passed"] for r in check_rows(db, "mentions order")} == {1}
    assert workers_with_env(f"LAB_HOME={lab_home}") == set()


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc and rlimits")
def test_a_worker_does_not_outlive_a_run_killed_outright(server, db, tmp_path, lab_home):
    # The parent would stop the check after 2 s, but it dies first: the worker's own CPU limit
    # (a second past the time limit) ends it.
    exp = write(tmp_path, experiment_text(server, cases=1, concurrency=1,
                                          extra=python_check("endless", ENDLESS, 2)))
    proc = start_lab("run", str(exp), "--db", str(db), "--trust", "--concurrency", "1")
    mine = f"LAB_HOME={lab_home}"
    try:
        deadline = time.monotonic() + 30
        # past its start (about 0.1 s of CPU): evaluating
        while not [p for p in workers_with_env(mine) if cpu_seconds(p) > 0.4]:
            assert time.monotonic() < deadline, "no check started"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
        # not communicate(): the orphan holds the pipes open until it ends
        proc.stdout.close()
        proc.stderr.close()
    assert workers_with_env(mine), "the busy worker outlived its parent for a moment"
    deadline = time.monotonic() + 30
    while workers_with_env(mine):
        assert time.monotonic() < deadline, "an orphaned worker kept running"
        time.sleep(0.1)


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_ctrl_c_at_a_terminal_stops_a_running_check_quietly(server, db, tmp_path, lab_home):
    # A terminal's Ctrl-C goes to the whole process group: the run and its workers.
    exp = write(tmp_path, experiment_text(server, cases=2, concurrency=1,
                                          extra=python_check("endless", ENDLESS, 120)))
    proc = subprocess.Popen([*LAB, "run", str(exp), "--db", str(db), "--trust", "--concurrency",
                             "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, start_new_session=True,
                            env={**os.environ, KEY_ENV: API_KEY})
    mine = f"LAB_HOME={lab_home}"
    try:
        deadline = time.monotonic() + 30
        while not [p for p in workers_with_env(mine) if cpu_seconds(p) > 0.4]:
            assert time.monotonic() < deadline, "no check started"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)  # not the check's 120 s
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "lab: warning: Check 'endless' was not graded on an output" in err
    assert f"Finish with: lab run {exp} --resume 1" in err
    assert workers_with_env(mine) == set()
