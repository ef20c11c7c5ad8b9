"""The analysis of a crafted run read back from the store: agreement rates computed in SQL, judge
against human, failure modes with their call ids, links, and the JSON document."""

from __future__ import annotations

import json

import pytest

from lab.core.analysis.analyse import analyse
from lab.core.analysis.scope import Scope, ScopeError
from lab.core.analysis.techniques import techniques
from lab.core.model import Example, Variant
from lab.core.workspace.store import open_workspace
from tests.helpers.analysis_workspace import Output, build, variant_table

approx = pytest.approx
TEXTS = {  # variant A: case 0 agrees exactly; case 1 only once whitespace is normalised
    ("A", 0): ["yes", "yes", "yes"],
    ("A", 1): ["a  b", "a b", "c"],
    ("J", 0): ['{"label": "x", "n": 1}', '{"label": "x", "n": 2}', '```json\n{"label": "y"}\n```'],
    ("J", 1): ['{"label": "z", "n": 1}', '{"label": "z", "n": 1}', '{"label": "z", "n": 1}'],
}


def _output(variant: str, case: int, sample: int) -> Output:
    text = TEXTS[variant, case][sample]
    passed = not (variant == "A" and case == 1 and sample == 2)
    judge = 5.0 if passed else 2.0
    rating = 5 if passed else 1
    return Output(text, passed, judge=judge, rating=rating,
                  tags=() if passed else ("made up facts",))


@pytest.fixture
def analysis(tmp_path):
    crafted = build(tmp_path / "w.db", [variant_table("A"), variant_table("J")], 2, 3, _output,
                    judge=True)
    with open_workspace(crafted.path) as store:
        yield crafted, analyse(store, Scope(run_id=crafted.run_id))


def test_agreement_rates(analysis):
    crafted, a = analysis
    by_variant = {v.variant: v for v in a.consistency.variants}
    A, J = by_variant["A"], by_variant["J"]
    # case 0: 3 equal of 3 -> 1; case 1: exact texts all differ -> 0; normalised "a b" twice:
    # 2·1 / 3·2 = 1/3
    assert A.exact.mean == approx(0.5) and A.normalised.mean == approx((1 + 1 / 3) / 2)
    assert A.exact.fully_consistent == 0.5 and A.normalised.fully_consistent == 0.5
    # check outcomes: case 1 has ok/ok/fail and quality pass/pass/fail -> 1/3
    assert A.checks.mean == approx((1 + 1 / 3) / 2)
    assert J.json_share == 1.0 and A.json_fields == {}
    # label: case 0 x, x, y -> 1/3; case 1 z, z, z -> 1. n: case 0 1, 2, missing -> 0
    assert J.json_fields["label"].mean == approx((1 / 3 + 1) / 2)
    assert J.json_fields["n"].mean == approx((0 + 1) / 2)
    cell = next(c for c in a.consistency.cells if (c.variant, c.case) == ("A", 1))
    assert cell.samples == 3 and cell.normalised == approx(1 / 3)
    assert cell.link.call_ids == tuple(sorted(crafted.ids["A", 1, s] for s in range(3)))


def test_judge_against_human_and_failure_modes(analysis):
    crafted, a = analysis
    [judge] = a.judge_agreement
    assert judge.check == "quality" and judge.pass_fail.n == 12 and judge.scores.n == 12
    assert judge.pass_fail.value == 1.0 and judge.scores.table[4][4] == 11
    assert judge.disagreements.call_ids == ()
    failures = {f.variant: f for f in a.failure_modes}
    modes = {(m.source, m.name): m for m in failures["A"].modes}
    bad = (crafted.ids["A", 1, 2],)
    assert modes["tag", "made up facts"].link.call_ids == bad
    assert modes["tag", "made up facts"].kind == "knowledge"
    assert modes["check", "ok"].link.call_ids == bad and modes["check", "ok"].count == 1
    assert failures["J"].modes == []


def test_variant_figures_and_json_document(analysis):
    crafted, a = analysis
    A = a.variant("A")
    assert (A.calls, A.cases, A.max_samples) == (6, 2, 3)
    assert A.pass_rate.value == approx((1 + 2 / 3) / 2) and A.pass_rate.samples == 6
    assert A.checks["ok"].value == approx((1 + 2 / 3) / 2)
    assert A.judge_score.mean == approx((5 + 4) / 2) and A.judge_score.n == 2
    assert A.latency_ms[50] == approx(100.5) and A.ttft_p50_ms == 20.0
    assert A.link.selection == {"runs": [crafted.run_id], "variants": ["A"]}
    doc = json.loads(json.dumps(a.to_dict()))
    v = doc["variants"][0]
    assert {"name", "calls", "pass_rate", "score", "cost_usd", "latency_ms"} <= set(v)
    assert set(v["pass_rate"]) >= {"value", "low", "high"} and set(v["latency_ms"]) >= {"p50", "p95"}
    assert doc["decision"]["recommendation"] and doc["decision"]["reasons"]
    assert doc["comparisons"][0]["pass_rate"]["test"]


def test_scope_errors_name_what_exists(tmp_path):
    build(tmp_path / "w.db", [variant_table("A")], 1, 1, lambda v, c, s: Output("x"))
    with open_workspace(tmp_path / "w.db") as store:
        with pytest.raises(ScopeError, match="Experiments: crafted"):
            analyse(store, Scope(experiment="nope"))
        assert analyse(store, Scope(experiment="crafted")).runs == [1]


def test_techniques_read_from_the_variants():
    found = {t.key: t for t in techniques([
        Variant("few", "openai/x", examples=[Example("q", "a"), Example("q2", "a2", enabled=False)]),
        Variant("cot", "openai/x", system="Let's think step by step."),
        Variant("fmt", "openai/x", params={"response_format": {"type": "json_schema"}}),
        Variant("plain", "openai/x", system="You are kind."),
    ])}
    assert found["few_shot"].variants == ("few",) and found["few_shot"].evidence["few"] == \
        "1 enabled example"
    assert found["chain_of_thought"].variants == ("cot",)
    assert found["output_format"].evidence["fmt"] == "response_format json_schema"
    assert not found["retrieval"].tried and not found["chaining"].tried
