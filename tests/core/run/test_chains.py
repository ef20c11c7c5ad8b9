"""Prompt chains: steps sent in order, each output feeding the next, each step a logged and
cached call, the cell the chain as a whole; a failing step stops the chain."""

from __future__ import annotations

import json

import pytest

from lab.core.experiment.file import dumps, loads
from lab.core.workspace.store import open_workspace
from tests.helpers.experiments import experiment_text, run_experiment
from tests.helpers.fake_provider import FakeProviderServer, http_error, reply


def chain_experiment(server: FakeProviderServer, **kw) -> str:
    text = experiment_text(server, cases=2, concurrency=1, **kw)
    at = text.index('name = "B"')
    end = text.index("[cases]")
    chain = '''name = "B"
model = "fake/gpt-4o-mini"
max_tokens = 50

[[variants.steps]]
name = "extract"
system = "Return the order facts as JSON."
user = "{{question}}"
model = "fake/gpt-4o"

[[variants.steps]]
name = "answer"
user = "Facts: {{steps.extract}} (order {{steps.extract.order}}). Answer: {{question}}"

'''
    return text[:at] + chain + text[end:]


def test_step_two_gets_step_ones_output_and_the_cell_is_the_chain(server, tmp_path):
    server.script(*[reply(json.dumps({"order": "A-17"}))] * 2, model="gpt-4o")
    db = tmp_path / "w.db"
    text = chain_experiment(server)
    spec = loads(text)
    assert [s.name for s in spec.project.variants[1].steps] == ["extract", "answer"]
    assert loads(dumps(spec)).project == spec.project  # round-trips through the file format
    finished = run_experiment(text, db)
    assert (finished.status, finished.errors) == ("done", 0)
    answers = [r.body for r in server.chat_requests() if r.body["model"] == "gpt-4o-mini"
               and r.body["messages"][-1]["content"].startswith("Facts:")]
    assert len(answers) == 2
    assert answers[0]["messages"][-1]["content"].startswith(
        'Facts: {"order": "A-17"} (order A-17). Answer: Question 0')
    assert answers[0]["max_tokens"] == 50  # the variant's parameters, under the step's own
    with open_workspace(db) as store:
        cells = {(c["variant_name"], c["case_index"]): c for c in store.calls_for_run(finished.run_id)}
        b = cells[("B", 0)]
        steps = store.chain_steps(b["id"])  # as the detail panel shows them
        totals = store.run_totals(finished.run_id)
    assert len(cells) == 4  # steps are not cells
    assert [s["step"] for s in steps] == ["extract", "answer"]
    assert [s["model"] for s in steps] == ["gpt-4o", "gpt-4o-mini"]
    assert b["status"] == "ok" and b["response_text"] == steps[1]["response_text"]
    assert b["step"] == "answer"
    assert b["input_tokens"] == steps[0]["input_tokens"] + steps[1]["input_tokens"]
    assert b["cost_usd"] == pytest.approx(steps[0]["cost_usd"] + steps[1]["cost_usd"])
    assert json.loads(steps[1]["request_json"])["messages"][-1]["content"].startswith("Facts:")
    assert b["checks"] == {"mentions order": True}
    assert totals["calls"] == 2 + 2 * 2  # A's two calls and B's four steps


def test_a_failing_step_stops_the_chain_with_the_step_named(server, tmp_path):
    server.script(http_error(400, message="bad step"), reply(json.dumps({"order": "A-1"})),
                  model="gpt-4o")
    db = tmp_path / "w.db"
    finished = run_experiment(chain_experiment(server).replace("concurrency = 1", "concurrency = 1\nmax_retries = 0"), db)
    with open_workspace(db) as store:
        cells = {(c["variant_name"], c["case_index"]): c for c in store.calls_for_run(finished.run_id)}
        failed = cells[("B", 0)]
        steps = list(store.db.query("SELECT step, status FROM calls WHERE chain_call_id = ?", [failed["id"]]))
    assert failed["status"] == "error"
    assert failed["error_message"].startswith("Step 'extract' failed: ")
    assert steps == [{"step": "extract", "status": "error"}]  # step two was never sent
    assert cells[("B", 1)]["status"] == "ok"


def test_each_step_is_answered_from_the_cache_on_its_own(server, tmp_path):
    server.script(*[reply(json.dumps({"order": "A-17"}))] * 4, model="gpt-4o")
    db = tmp_path / "w.db"
    text = chain_experiment(server)
    run_experiment(text, db)
    sent = len(server.chat_requests())
    again = run_experiment(text, db)
    assert len(server.chat_requests()) == sent  # every step found in the cache
    assert again.cached == 4
    edited = text.replace("Answer: {{question}}", "Reply to: {{question}}")
    run_experiment(edited, db)
    new = server.chat_requests()[sent:]
    assert {r.body["model"] for r in new} == {"gpt-4o-mini"}  # only the changed step is sent
    assert len(new) == 2


def test_a_check_can_grade_one_step_and_a_step_naming_a_later_one_is_refused(server, tmp_path):
    from lab.core.run.plan import PlanError

    server.script(*[reply('{"order": "A-17"}')] * 2, model="gpt-4o")
    text = chain_experiment(server) + '\n[[checks]]\ntype = "json"\nname = "extract is JSON"\nstep = "extract"\n'
    finished = run_experiment(text, tmp_path / "w.db")
    with open_workspace(tmp_path / "w.db") as store:
        cells = {(c["variant_name"], c["case_index"]): c for c in store.calls_for_run(finished.run_id)}
    assert cells[("B", 0)]["checks"]["extract is JSON"] is True
    assert "extract is JSON" not in cells[("A", 0)]["checks"]  # A has no such step
    bad = chain_experiment(server).replace('user = "{{question}}"\nmodel = "fake/gpt-4o"',
                                           'user = "{{steps.answer}}"\nmodel = "fake/gpt-4o"')
    with pytest.raises(PlanError, match=r"\{\{steps.answer\}\} names no earlier step"):
        run_experiment(bad, tmp_path / "x.db")
