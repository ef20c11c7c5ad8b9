"""Import → check → run: a promptfoo config and an Evals registry eval pointed at the fake provider
server, converted by `lab import`, passed by `lab check`, and run by `lab run`, with the converted
checks' verdicts read from the workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lab.core.providers.base import ProviderConfig
from lab.core.workspace.providers import save_provider
from lab.core.workspace.store import open_workspace

from tests.helpers.experiments import JUDGE_MODEL, KEY_ENV
from tests.helpers.fake_provider import reply
from tests.helpers.lab_process import lab, rows

DATA = Path(__file__).resolve().parents[1] / "core" / "importers" / "data"


@pytest.fixture
def db(tmp_path, server) -> Path:
    """A workspace whose `openai` provider is the fake server (as a user would configure it)."""
    path = tmp_path / "workspace.db"
    with open_workspace(path) as store:
        save_provider(store, ProviderConfig(name="openai", kind="openai", local=False,
                                            base_url=server.base_url("openai"),
                                            api_key_env=KEY_ENV))
    return path


CONFIG = """
description: Order questions
prompts:
  - file://chat.json
providers:
  - openai:gpt-4o-mini
  - id: openai:chat:o4-mini
    label: big
    config:
      apiBaseUrl: {base_url}
      apiKeyEnvar: {key_env}
      temperature: 0
      max_tokens: 60
defaultTest:
  options:
    provider: openai:{judge}
  assert:
    - type: icontains
      value: ORDER
    - type: latency
      threshold: 60000
    - type: cost
      threshold: 0.5
tests:
  - description: where
    vars:
      question: Where is my order?
    assert:
      - type: starts-with
        value: You said
      - type: llm-rubric
        value: Answers the question
  - description: refund
    vars:
      question: I want a refund for my order
    assert:
      - type: contains-any
        value: [refund, money back]
      - type: equals
        value: nope
"""


def verdicts(db: Path) -> dict[tuple[str, str], list[int]]:
    found: dict[tuple[str, str], list[int]] = {}
    for row in rows(db, "SELECT c.case_vars_json AS vars, r.check_name, r.passed FROM "
                        "check_results r JOIN calls c ON c.id = r.call_id ORDER BY c.id"):
        question = json.loads(row["vars"])["question"].split()[0]
        found.setdefault((question, row["check_name"]), []).append(row["passed"])
    return found


def test_a_promptfoo_config_imports_checks_and_runs(server, db, tmp_path):
    (tmp_path / "chat.json").write_text(json.dumps([
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "{{ question }}"}]))
    (tmp_path / "promptfooconfig.yaml").write_text(CONFIG.format(
        base_url=server.base_url("openai"), key_env=KEY_ENV, judge=JUDGE_MODEL))
    out = tmp_path / "orders.toml"
    imported = lab("import", "promptfoo", str(tmp_path / "promptfooconfig.yaml"), "--out", str(out))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    checked = lab("check", str(out), "--db", str(db), "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    estimate = json.loads(checked.stdout)["estimate"]
    assert estimate["cells"] == 4 and estimate["calls"] == 8  # 4 outputs, 4 judge calls
    assert server.chat_requests() == []  # checking sent nothing
    server.script(*[reply('{"score": 1, "reason": "answers it"}')] * 4, model=JUDGE_MODEL)
    # the imported python checks are code from someone else's file: trusted explicitly
    run = lab("run", str(out), "--db", str(db), "--json", "--trust")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert [v["variant"] for v in report["variants"]] == ["openai:gpt-4o-mini", "big"]
    found = verdicts(db)
    # the fake answers "You said: <question>"
    assert found[("Where", "icontains")] == [1, 1] and found[("I", "icontains")] == [1, 1]
    assert found[("Where", "latency")] == [1, 1] and found[("Where", "cost")] == [1, 1]
    assert found[("Where", "starts-with")] == [1, 1]
    assert found[("I", "contains-any")] == [1, 1] and found[("I", "equals")] == [0, 0]
    assert found[("I", "starts-with")] == [1, 1]  # not this test's assertion: passes
    assert found[("Where", "llm-rubric")] == [1, 1]
    big = [r for r in rows(db, "SELECT request_json FROM calls WHERE variant_name = 'big'")]
    assert all(json.loads(r["request_json"])["temperature"] == 0 for r in big)


def test_an_evals_registry_eval_imports_checks_and_runs(server, db, tmp_path):
    out = tmp_path / "capitals.toml"
    imported = lab("import", "openai-evals", str(DATA / "evals" / "registry" / "evals" /
                                                  "capitals.yaml"), "--out", str(out))
    assert imported.returncode == 6  # the sample ending with an assistant turn
    assert lab("check", str(out), "--db", str(db)).returncode == 0
    # the imported python checks are code from someone else's file: trusted explicitly
    run = lab("run", str(out), "--db", str(db), "--json", "--trust")
    assert run.returncode == 0, run.stderr
    # "You said: Capital of France?" does not start with "Paris": Match fails every sample
    passed = [r["passed"] for r in rows(db, "SELECT passed FROM check_results")]
    assert passed == [0, 0, 0]
