"""`lab run --batch` as a user or CI job runs it: the real command in a subprocess, the fake's
batch endpoints in this process, the workspace read with SQLite. Polls come every few
milliseconds here (LAB_BATCH_POLL_SECONDS); a real run polls every 10 s, backing off to 5 min.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from lab.core.providers import usage as usage_counts
from lab.core.providers.pricing import PriceTable

from tests.helpers.experiments import KEY_ENV, experiment_text
from tests.helpers.fake_provider import FakeProviderServer, http_error, reply
from tests.helpers.lab_process import lab, rows, start_lab, wait_for, write

MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5"}


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch):
    monkeypatch.setenv("LAB_BATCH_POLL_SECONDS", "0.02")
    monkeypatch.setenv("LAB_BATCH_POLL_MAX_SECONDS", "0.05")


def batch_experiment(server: FakeProviderServer, kind: str, cases: int) -> str:
    """Two variants over `cases` questions at `kind`-shaped fake, with a `contains` check."""
    questions = ",\n".join(f'  {{ question = "Question {i}: where is my order?" }}'
                           for i in range(cases))
    return f'''name = "tone"

[providers.fake]
kind = "{kind}"
base_url = "{server.base_url(kind)}"
api_key_env = "{KEY_ENV}"
local = false

[[variants]]
name = "A"
model = "fake/{MODELS[kind]}"
system = "You are terse."
max_tokens = 50

[[variants]]
name = "B"
model = "fake/{MODELS[kind]}"
system = "You are warm and brief."
max_tokens = 50

[cases]
user = "{{{{question}}}}"
rows = [
{questions}
]

[[checks]]
type = "contains"
name = "mentions order"
value = "order"
'''


def batches_recorded(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        return rows(db, "SELECT count(*) FROM batches WHERE provider_batch_id IS NOT NULL")[0][0]
    except Exception:  # the schema is still being created
        return 0


def assert_batch_priced(db: Path, kind: str) -> float:
    """Every ok call costs exactly the table's batch price for its usage, half the full price.
    Returns the run's total."""
    prices = PriceTable.load()
    total = 0.0
    for call in rows(db, "SELECT * FROM calls WHERE status = 'ok'"):
        counts = usage_counts.normalise(kind, json.loads(call["usage_json"])).usage
        batch = prices.cost(kind, call["model"], counts, batch=True)
        assert call["cost_usd"] == pytest.approx(batch)
        assert batch == pytest.approx(prices.cost(kind, call["model"], counts) / 2)
        total += call["cost_usd"]
    return total


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_a_thousand_cells_survive_a_kill_while_waiting_and_land_at_half_price(
        server, db, tmp_path, monkeypatch, kind):
    monkeypatch.setenv("LAB_BATCH_MAX_REQUESTS", "400")  # 1,000 cells: three batches
    exp = write(tmp_path, batch_experiment(server, kind, cases=500))
    server.batches.hold = True  # the provider takes its time
    proc = start_lab("run", str(exp), "--db", str(db), "--batch", "--json")
    try:
        wait_for(lambda: batches_recorded(db) == 3 and server.batches.polls >= 3, timeout=90)
        proc.send_signal(signal.SIGKILL)  # a closed laptop, a crash
        proc.wait(timeout=10)
    finally:
        proc.kill()
    err = proc.stderr.read()
    assert "Batch: fake (" + kind + "): 1,000 requests in 3 batches" in err, err
    assert "(batch)" in err and "50% off" in err
    assert rows(db, "PRAGMA integrity_check")[0][0] == "ok"
    assert not rows(db, "SELECT * FROM calls")  # nothing came back yet
    stored = rows(db, "SELECT * FROM batches ORDER BY id")
    assert [b["request_count"] for b in stored] == [400, 400, 200]
    assert {b["status"] for b in stored} <= {"submitted", "in_progress"}
    assert rows(db, "SELECT count(*) FROM batch_requests")[0][0] == 1000

    server.batches.hold = False  # the provider finishes while the lab is not running
    result = lab("run", str(exp), "--db", str(db), "--resume", "1", "--json", timeout=180)
    assert result.returncode == 0, result.stderr
    assert "Waiting: 1,000 cells in 3 batches already sent" in result.stderr
    assert "Pre-flight: 0 calls to send" in result.stderr
    report = json.loads(result.stdout)
    assert (report["status"], report["cells_done"], report["calls"]) == ("done", 1000, 1000)
    assert [b["status"] for b in report["batches"]] == ["collected"] * 3
    assert sum(b.total for b in server.batches.created()) == 1000  # nothing was sent twice
    assert not server.chat_requests()
    cells = rows(db, "SELECT variant_name, case_index, sample_index, count(*) AS n, "
                     "min(status) AS status FROM calls GROUP BY 1, 2, 3")
    assert len(cells) == 1000 and {(c["n"], c["status"]) for c in cells} == {(1, "ok")}
    total = assert_batch_priced(db, kind)
    assert report["cost_usd"] == pytest.approx(total)
    assert all(c["latency_ms"] is None for c in rows(db, "SELECT latency_ms FROM calls"))

    # Downstream, the batch's calls are calls like any others.
    analysed = lab("report", "--db", str(db), "--run", "1", "--json")
    assert analysed.returncode == 0, analysed.stderr
    figures = json.loads(analysed.stdout)
    assert [v["name"] for v in figures["variants"]] == ["A", "B"]
    assert all(v["calls"] == 500 and v["pass_rate"] for v in figures["variants"])
    assert sum(v["cost_usd"] for v in figures["variants"]) == pytest.approx(total)
    exported = lab("log", "--db", str(db), "--limit", "5", "--json")
    assert exported.returncode == 0 and len(json.loads(exported.stdout)) == 5


def test_ctrl_c_cancels_the_provider_batch_and_resume_finishes_the_run(server, db, tmp_path):
    exp = write(tmp_path, experiment_text(server, cases=3))
    server.batches.hold = True
    proc = start_lab("run", str(exp), "--db", str(db), "--batch")
    try:
        wait_for(lambda: batches_recorded(db) == 1 and server.batches.polls >= 1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    (batch,) = server.batches.created()
    assert server.batches.cancelled == [batch.id]
    assert "cancelled 1 batch at the provider" in err
    assert f"Finish with: lab run {exp} --resume 1" in err
    assert rows(db, "SELECT status FROM batches")[0][0] == "cancelling"
    assert rows(db, "SELECT status FROM runs")[0][0] == "cancelled"

    server.batches.hold = False
    result = lab("run", str(exp), "--db", str(db), "--resume", "1", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["status"], report["cells_done"]) == ("done", 6)
    # the cancelled batch's requests came back cancelled (not billed), then went in a new batch
    assert [b["outcome"] for b in report["batches"]] == ["cancelled", "completed"]
    assert [b.total for b in server.batches.created()] == [6, 6]
    assert {(r["status"], r["cost_usd"]) for r in rows(
        db, "SELECT status, cost_usd FROM calls WHERE status != 'ok'")} == {("cancelled", 0.0)}
    assert_batch_priced(db, "openai")


def test_cached_cells_are_not_sent_and_new_ones_go_in_a_batch(server, db, tmp_path):
    small = write(tmp_path, experiment_text(server, cases=2), "small.toml")
    assert lab("run", str(small), "--db", str(db), "--json").returncode == 0  # one by one
    sent = len(server.chat_requests())
    exp = write(tmp_path, experiment_text(server, cases=5))
    result = lab("run", str(exp), "--db", str(db), "--batch", "--json")
    assert result.returncode == 0, result.stderr
    assert "Pre-flight: 6 calls to send (4 answered from the cache)" in result.stderr
    report = json.loads(result.stdout)
    assert (report["cells_done"], report["cached_calls"]) == (10, 4)
    assert len(server.chat_requests()) == sent  # nothing more went one by one
    (batch,) = server.batches.created()
    assert batch.total == 6
    fresh = rows(db, "SELECT * FROM calls WHERE run_id = 2 AND cached_from_call_id IS NULL")
    assert len(fresh) == 6 and {c["batch_id"] for c in fresh} == {1}


def test_failed_requests_are_listed_and_resume_sends_them_in_a_new_batch(server, db, tmp_path):
    server.script(reply(), http_error(400, message="max_tokens is too large"), reply(), reply())
    server.batches.expire_next, server.batches.expire_done = 1, 4
    exp = write(tmp_path, experiment_text(server, cases=3))
    first = lab("run", str(exp), "--db", str(db), "--batch")
    assert first.returncode == 4, first.stderr  # calls ended in errors
    assert "3 requests did not succeed in batches (1 errored, 2 expired):" in first.stderr
    assert "v1-c0-s0 (variant B, case 1, sample 1):" in first.stderr
    assert "max_tokens is too large" in first.stderr
    assert (f"Send them again with: lab run {exp} --resume 1 (in a new batch; add --no-batch "
            "to send them one by one)") in first.stderr
    assert "Batches (at the batch price" in first.stdout

    result = lab("run", str(exp), "--db", str(db), "--resume", "1", "--json")
    assert result.returncode == 0, result.stderr
    assert "Pre-flight: 3 calls to send (3 already done)" in result.stderr
    assert [b.total for b in server.batches.created()] == [6, 3]
    assert json.loads(result.stdout)["cells_done"] == 6


def test_no_wait_sends_and_exits_7_and_resume_collects(server, db, tmp_path):
    exp = write(tmp_path, experiment_text(server, cases=2))
    first = lab("run", str(exp), "--db", str(db), "--batch", "--no-wait")
    assert first.returncode == 7, first.stderr
    assert "1 batch is still at the provider" in first.stderr
    assert f"lab run {exp} --resume 1" in first.stderr
    assert rows(db, "SELECT status FROM runs")[0][0] == "waiting"
    result = lab("run", str(exp), "--db", str(db), "--resume", "1", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["cells_done"] == 4 and len(server.batches.created()) == 1


def test_preflight_says_which_providers_have_no_batch_api(server, db, tmp_path):
    text = experiment_text(server, cases=2).replace(
        'model = "fake/gpt-4o-mini"\nsystem = "You are warm', 'model = "local/llama3.2"\nsystem = '
        '"You are warm') + f'\n[providers.local]\nkind = "ollama"\nbase_url = "{server.base_url("ollama")}"\n'
    exp = write(tmp_path, text)
    check = lab("check", str(exp), "--db", str(db), "--batch")
    assert check.returncode == 0, check.stderr
    assert "Batch: fake (openai): 2 requests in 1 batch" in check.stdout
    assert "Not in a batch (2 calls): local: a server on this machine has no batch API" in check.stdout
    result = lab("run", str(exp), "--db", str(db), "--batch", "--json")
    assert result.returncode == 0, result.stderr
    assert len(server.chat_requests("ollama")) == 2 and server.batches.requests_sent() == 2


def test_flags_that_do_not_go_together_are_refused(server, db, tmp_path):
    exp = write(tmp_path, experiment_text(server))
    for args, expected in [
        (["--batch", "--budget", "1"], "a budget cannot stop a batch half-way"),
        (["--no-batch"], "--no-batch goes with --resume"),
        (["--no-wait"], "--no-wait is for batch runs"),
    ]:
        result = lab("run", str(exp), "--db", str(db), *args)
        assert result.returncode == 2 and expected in result.stderr, result.stderr
    assert not server.batch_requests() and not server.chat_requests()
