"""Exporting one step of a prompt chain: the step's own prompt and output as sent, for the
chains the selection picks by their final outputs (rating, tags, checks), through `lab export
--step` as a user types it."""

from __future__ import annotations

import json

import pytest

from lab.core.export.plan import EmptySelection, ExportOptions, UnsupportedData, plan_export
from lab.core.export.selection import Selection
from lab.core.export.write import write_export
from lab.core.model import Rating
from lab.core.workspace.store import open_workspace
from tests.core.run.test_chains import chain_experiment
from tests.helpers.experiments import run_experiment
from tests.helpers.fake_provider import reply
from tests.helpers.lab_process import lab


@pytest.fixture
def chained(server, tmp_path):
    """A run where variant B is a two-step chain (extract → answer); B's first case rated 5."""
    server.script(*[reply(json.dumps({"order": f"A-{n}"})) for n in (1, 2)], model="gpt-4o")
    db = tmp_path / "w.db"
    finished = run_experiment(chain_experiment(server), db)
    with open_workspace(db) as store:
        cells = {(c["variant_name"], c["case_index"]): c
                 for c in store.calls_for_run(finished.run_id)}
        store.set_rating(Rating(cells[("B", 0)]["id"], score=5, tags=["good facts"]))
    return db, cells


def test_a_step_exports_its_own_prompt_and_output(chained, tmp_path):
    db, cells = chained
    with open_workspace(db) as store:
        step = plan_export(store, Selection(min_score=5, step="extract"), "openai-sft",
                           ExportOptions(train_fraction=1.0, force=True))  # OpenAI wants 10
        final = plan_export(store, Selection(min_score=5), "openai-sft",
                            ExportOptions(train_fraction=1.0))
        result = write_export(step, tmp_path / "out")
    record = json.loads(result.files["train.jsonl"].read_text().splitlines()[0])
    assert len(step.examples) == len(final.examples) == 1
    # the extract step: its system prompt, the question, the JSON it returned
    assert record["messages"][0] == {"role": "system",
                                     "content": "Return the order facts as JSON."}
    assert record["messages"][-2]["content"].startswith("Question 0")
    assert json.loads(record["messages"][-1]["content"]) == {"order": "A-1"}
    # not the chain's final output, which the plain selection exports
    final_record = final.target.record(final.examples[0], "sft")
    assert final_record["messages"][-2]["content"].startswith("Facts: ")
    card = (result.out_dir / "README.md").read_text()
    assert "step “extract” of each chain" in card
    assert '"step": "extract"' in card


def test_a_step_that_no_chain_has_and_preference_data_are_refused(chained):
    db, _ = chained
    with open_workspace(db) as store:
        with pytest.raises(EmptySelection, match="Steps in this workspace: “answer”, “extract”"):
            plan_export(store, Selection(step="extrakt"), "openai-sft")
        with pytest.raises(UnsupportedData, match="sft data only"):
            plan_export(store, Selection(step="extract"), "openai-dpo")


def test_lab_export_step_on_the_command_line(chained, tmp_path):
    db, _ = chained
    out = tmp_path / "cli"
    done = lab("export", "--db", str(db), "--format", "sharegpt", "--out", str(out),
               "--min-score", "5", "--step", "extract", "--split", "1")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["system"] == "Return the order facts as JSON."
    wrong = lab("export", "--db", str(db), "--format", "sharegpt", "--out", str(out),
                "--step", "nope")
    assert wrong.returncode == 2
    assert "No chain has a step named “nope”" in wrong.stderr
