"""`lab run` and `lab log` as a script uses them: the real entry point in a subprocess, the fake
provider server in this process, and the workspace checked with SQLite afterwards."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
from pathlib import Path

import pytest

from tests.helpers.experiments import JUDGE_MODEL, KEY_ENV, experiment_text
from tests.helpers.fake_provider import (
    API_KEY,
    reply,
)
from tests.helpers.lab_process import (
    ROOT,
    lab,
    ok_calls,
    rows,
    start_lab,
    wait_for,
    write,
)


def test_run_logs_every_call_and_prints_per_variant_figures(server, db, tmp_path):
    server.script(*[reply('{"score": 4, "reason": "friendly"}')] * 6, model=JUDGE_MODEL)
    exp = write(tmp_path, experiment_text(server, judge=True))
    result = lab("run", str(exp), "--db", str(db), "--json")
    assert result.returncode == 0, result.stderr
    assert "Pre-flight: 12 calls to send" in result.stderr and "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert (report["status"], report["cells"], report["cells_done"]) == ("done", 6, 6)
    assert report["judge_calls"] == 6 and report["cost_usd"] > 0
    a, b = report["variants"]
    assert (a["variant"], a["calls"], a["errors"], b["variant"]) == ("A", 3, 0, "B")
    assert a["checks"]["mentions order"]["rate"] == 1.0 and a["checks"]["polite"]["n"] == 3
    assert a["score"]["mean"] == 4.0 and a["latency_p50_ms"] > 0 and a["tokens"] > 0
    calls = rows(db, "SELECT * FROM calls WHERE judged_call_id IS NULL")
    assert len(calls) == 6
    for call in calls:
        assert call["prompt_version_id"] and call["status"] == "ok"
        assert call["input_tokens"] > 0 and call["output_tokens"] > 0 and call["cost_usd"] > 0
        assert API_KEY not in call["request_json"]
        checks = rows(db, "SELECT * FROM check_results WHERE call_id = ?", call["id"])
        assert {c["check_name"] for c in checks} == {"mentions order", "polite"}
        judged = next(c for c in checks if c["check_name"] == "polite")
        assert judged["passed"] == 1 and judged["judge_call_id"]
    assert rows(db, "PRAGMA integrity_check")[0][0] == "ok"


def test_summary_table_and_the_log(server, db, tmp_path):
    exp = write(tmp_path, experiment_text(server))
    result = lab("run", str(exp), "--db", str(db))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Run 1 · tone · done · 6/6 cells done · 6 calls")
    assert lines[2].split()[:3] == ["variant", "calls", "errors"]
    # rich draws a rule under the header
    assert lines[4].split()[:3] == ["A", "3", "0"] and lines[5].split()[:3] == ["B", "3", "0"]
    log = lab("log", "--db", str(db), "--search", "Question 2", "--json")
    assert log.returncode == 0
    found = json.loads(log.stdout)
    assert len(found) == 2 and {r["variant_name"] for r in found} == {"A", "B"}
    assert all(r["run_id"] == 1 for r in found)
    text = lab("log", "--db", str(db), "--limit", "3")
    # header, rich's rule under it, three calls
    assert text.returncode == 0 and len(text.stdout.splitlines()) == 5


def test_a_second_identical_run_makes_no_http_calls_and_no_cache_does(server, db, tmp_path):
    exp = write(tmp_path, experiment_text(server, samples=2))
    assert lab("run", str(exp), "--db", str(db), "--json").returncode == 0
    assert len(server.chat_requests()) == 12  # sample 2 of each cell is a fresh call
    again = lab("run", str(exp), "--db", str(db), "--json")
    assert again.returncode == 0 and len(server.chat_requests()) == 12
    assert json.loads(again.stdout)["cached_calls"] == 12
    assert "Pre-flight: 0 calls to send (12 answered from the cache)" in again.stderr
    fresh = lab("run", str(exp), "--db", str(db), "--no-cache", "--samples", "1", "--json")
    assert fresh.returncode == 0 and len(server.chat_requests()) == 18


MISTAKES = {
    "missing variable": (
        lambda t: t.replace('system = "You are terse."', 'system = "You are terse, {{persona}}."'),
        r"tone\.toml, line 14: Variant 'A', system prompt: \{\{persona\}\} has no value in any "
        r"test case\."),
    "unknown provider": (
        lambda t: t.replace('model = "fake/gpt-4o-mini"\nsystem = "You are w',
                            'model = "faek/gpt-4o-mini"\nsystem = "You are w'),
        r"tone\.toml, line 19: variants\[2\]\.model: no provider named 'faek' .* Did you mean "
        r"'fake'\?"),
    "unknown model": (
        lambda t: t.replace("fake/gpt-4o-mini", "fake/gpt-4o-mini-typo", 1),
        r"tone\.toml, line 13: variants\[1\]\.model: provider 'fake' does not offer a model named "
        r"'gpt-4o-mini-typo' \(it offers: gpt-4o-mini, gpt-4o, o4-mini\)"),
    "malformed TOML": (
        lambda t: t.replace("[cases]", "[cases"),
        r"tone\.toml: not valid TOML: .*line 23"),
    "bad check option": (
        lambda t: t.replace('value = "order"', 'value = "order"\nmode = "most"'),
        r"tone\.toml, line 31: Check 'mentions order': 'mode' must be 'any' or 'all'"),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_bad_input_is_one_clear_line_exit_2_and_no_call(server, db, tmp_path, mistake):
    change, expected = MISTAKES[mistake]
    exp = write(tmp_path, change(experiment_text(server)))
    result = lab("run", str(exp), "--db", str(db))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert re.match(r"lab: .*" + expected, line), line
    assert server.chat_requests() == []


def test_sigkill_mid_run_loses_nothing_finished_and_resume_completes_the_rest(server, db, tmp_path):
    exp = write(tmp_path, experiment_text(server, cases=10, concurrency=2))
    server.script(*[reply()] * 6)
    server.default = reply(latency=30)  # then every call hangs until the process dies
    proc = start_lab("run", str(exp), "--db", str(db), "--json", "--concurrency", "2")
    try:
        wait_for(lambda: ok_calls(db) == 6 and len(server.chat_requests()) == 8)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    assert rows(db, "PRAGMA integrity_check")[0][0] == "ok"
    finished = rows(db, "SELECT * FROM calls")
    assert len(finished) == 6 and {c["status"] for c in finished} == {"ok"}
    assert all(len(rows(db, "SELECT * FROM check_results WHERE call_id = ?", c["id"])) == 1
               for c in finished)
    done_bodies = {c["request_json"] for c in finished}

    server.default = reply()
    before = len(server.chat_requests())
    result = lab("run", str(exp), "--db", str(db), "--resume", "1", "--json")
    assert result.returncode == 0, result.stderr
    assert "(6 already done)" in result.stderr
    resent = server.chat_requests()[before:]
    assert len(resent) == 20 - 6  # only what was missing
    sent_bodies = {json.dumps(r.body, ensure_ascii=False, sort_keys=True) for r in resent}
    assert not sent_bodies & done_bodies  # no finished cell was called again
    report = json.loads(result.stdout)
    assert (report["run_id"], report["status"], report["cells_done"]) == (1, "done", 20)


def test_ctrl_c_cancels_cleanly_keeping_finished_calls(server, db, tmp_path):
    exp = write(tmp_path, experiment_text(server, concurrency=2))
    server.script(reply(), reply())
    server.default = reply(chunk_delay=30)  # one chunk, then silence
    proc = start_lab("run", str(exp), "--db", str(db), "--concurrency", "2")
    try:
        wait_for(lambda: ok_calls(db) == 2 and len(server.chat_requests()) == 4)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert f"Finish with: lab run {exp} --resume 1" in err
    statuses = sorted(r["status"] for r in rows(db, "SELECT status FROM calls"))
    assert statuses == ["cancelled", "cancelled", "ok", "ok"]
    assert rows(db, "SELECT status FROM runs WHERE id = 1")[0][0] == "cancelled"
    assert out.startswith("Run 1 · tone · cancelled · 2/6 cells done")


def test_budget_stops_the_run_with_exit_3(server, db, tmp_path):
    exp = write(tmp_path, experiment_text(server, concurrency=1))
    result = lab("run", str(exp), "--db", str(db), "--budget", "0.000001", "--concurrency", "1")
    assert result.returncode == 3, result.stderr
    assert "Budget: the run stops once it has spent <$0.0001." in result.stderr
    assert "the budget of <$0.0001 was reached" in result.stderr
    assert len(server.chat_requests()) < 6


def test_a_budget_is_refused_when_a_planned_call_has_no_price(server, db, tmp_path):
    text = experiment_text(server, judge=True).replace(
        f'model = "fake/{JUDGE_MODEL}"', 'model = "fake/house-judge-v2"')
    exp = write(tmp_path, text)
    server.models["openai"].append("house-judge-v2")  # offered, just not in the price table
    result = lab("run", str(exp), "--db", str(db), "--budget", "5", "--yes")
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    prices = Path(os.environ["LAB_HOME"]) / "prices.toml"
    assert line.startswith("lab: a budget of $5 cannot be kept: cost unknown for fake/house-judge-v2 "
                           f"— add its price to {prices} "), line
    assert line.endswith('as [openai."house-judge-v2"] with input and output (USD per 1M tokens), '
                         "or run without a budget."), line
    assert server.chat_requests() == [] and not ok_calls(db)
    # Without --budget it runs, and says plainly that the judge's cost is unknown and why.
    result = lab("run", str(exp), "--db", str(db), "--yes")
    assert result.returncode == 0, result.stderr
    assert (f"Cost unknown for fake/house-judge-v2 — add its price to {prices} "
            '([openai."house-judge-v2"] with input and output, USD per 1M tokens).') in result.stderr


def test_the_support_tone_example_runs(server, db, tmp_path):
    text = (ROOT / "examples" / "support-tone.toml").read_text()
    text = text.replace("http://127.0.0.1:8000/v1", server.base_url("openai"))
    text = text.replace('"LOCAL_KEY"', f'"{KEY_ENV}"')  # the fake wants a key; a local server may not
    text = re.sub(r'model = "local/[^"]+"', 'model = "local/gpt-4o-mini"', text)
    exp = write(tmp_path, text, "support-tone.toml")
    shutil.copy(ROOT / "examples" / "cases.csv", tmp_path / "cases.csv")
    result = lab("run", str(exp), "--db", str(db), "--json", "--yes")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [v["variant"] for v in report["variants"]] == ["A · terse", "B · warm"]
    assert report["cells_done"] == 2 * 8 * 3


def test_the_extract_order_example_runs(server, db, tmp_path):
    text = (ROOT / "examples" / "extract-order.toml").read_text()
    text = text.replace('samples = 2\n', f'samples = 2\n\n[providers.ollama]\nkind = "ollama"\n'
                                         f'base_url = "{server.base_url("ollama")}"\n')
    exp = write(tmp_path, text, "extract-order.toml")
    result = lab("run", str(exp), "--db", str(db), "--json", "--trust")  # it has a python check
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["cells_done"] == 16 and report["cost_usd"] == 0  # local: free
    assert report["variants"][0]["checks"]["right intent"]["n"] == 8  # graded, in its workers


@pytest.mark.parametrize("command", [["run"], ["log"]])
def test_help(command):
    result = lab(*command, "--help")
    assert result.returncode == 0 and "--db" in result.stdout and "--json" in result.stdout
