"""A variant's output format, and the implicit schema check a variant with a schema gets."""

from __future__ import annotations

from lab.core.model import Variant
from lab.core.run.output_format import (
    output_format,
    output_schema,
    schema_check,
    with_output_format,
)
from lab.core.workspace.store import open_workspace
from tests.core.run.test_plan import EXPERIMENT, plan_of, problems_of
from tests.helpers.experiments import KEY_ENV, experiment_text, run_experiment
from tests.helpers.fake_provider import API_KEY, FakeProviderServer

SCHEMA = {"type": "object", "required": ["answer"],
          "properties": {"answer": {"type": "string"}}}


def test_formats_round_trip_through_params():
    params = {"temperature": 0.2}
    assert output_format(params) == "text"
    as_json = with_output_format(params, "json")
    assert as_json == {"temperature": 0.2, "response_format": "json"}
    assert output_format(as_json) == "json"
    with_schema = with_output_format(as_json, "schema", SCHEMA)
    assert with_schema["response_format"] == {"type": "json_schema", "name": "reply",
                                              "schema": SCHEMA}
    assert output_format(with_schema) == "schema" and output_schema(with_schema) == SCHEMA
    assert with_output_format(with_schema, "text") == {"temperature": 0.2}


def test_only_a_variant_with_a_schema_gets_the_check():
    plan = plan_of(EXPERIMENT.replace('response_format = "json"',
                                      'response_format = { type = "json_schema", name = "r", '
                                      'schema = { type = "object" } }'))
    a, b = plan.spec.project.variants
    assert [name for _, name in plan.checks_for(a)] == ["contains"]
    assert [name for _, name in plan.checks_for(b)] == ["contains", "output schema"]
    check = plan.checks_for(b)[1][0]
    assert check.type == "json-schema" and check.config == {"schema": {"type": "object"}}
    assert schema_check(Variant("x", "a/b", params={"response_format": "json"})) is None


def test_a_bad_schema_is_a_problem_before_the_run():
    problems = problems_of(EXPERIMENT.replace(
        'response_format = "json"',
        'response_format = { type = "json_schema", schema = { type = "objekt" } }'))
    assert len(problems) == 1
    assert "variant 'B'" in problems[0] and "'schema' is not a valid JSON Schema" in problems[0]


def test_every_output_is_graded_against_the_schema(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, API_KEY)
    server = FakeProviderServer().start()
    try:
        text = experiment_text(server, cases=2).replace(
            'system = "You are warm and brief."',
            'system = "You are warm and brief."\n'
            'response_format = { type = "json_schema", name = "r", schema = { type = "object", '
            'required = ["answer"] } }')
        db = tmp_path / "w.db"
        outcome = run_experiment(text, db)
    finally:
        server.stop()
    assert outcome.status == "done"
    with open_workspace(db) as store:
        rows = store.calls_for_run(outcome.run_id)
    by_variant = {}
    for row in rows:
        by_variant.setdefault(row["variant_name"], []).append(row["checks"])
    assert all(set(c) == {"mentions order"} for c in by_variant["A"])
    assert all(set(c) == {"mentions order", "output schema"} for c in by_variant["B"])
    # The fake replies in prose, not JSON: the schema check fails with a reason.
    assert not any(c["output schema"] for c in by_variant["B"])
