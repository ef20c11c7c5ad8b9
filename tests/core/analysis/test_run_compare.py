"""Two runs side by side, case by case."""

from __future__ import annotations

import json

from lab.core.analysis.run_compare import compare_runs


def row(index: int, text: str, passed: bool | None, variant: str = "A", q: str | None = None,
        status: str = "ok") -> dict:
    return {"variant_name": variant, "case_index": index, "sample_index": 0,
            "judged_call_id": None, "status": status, "response_text": text,
            "case_vars_json": json.dumps({"q": q or f"q{index}"}),
            "checks": {} if passed is None else {"c": passed}}


def test_cases_are_paired_by_their_inputs_and_judged():
    before = [row(0, "old", False), row(1, "same words", True), row(2, "fine", True),
              row(3, "gone", True)]
    after = [row(0, "new", True), row(1, "same  words", True), row(2, "worse", False),
             row(3, "moved", True, q="new question"),
             row(0, "other variant", True, variant="B")]
    result = compare_runs(before, after, "A", labels={0: "refund"})
    verdicts = [(c.label, c.verdict) for c in result.cases]
    assert verdicts == [("refund", "fixed"), ("Case 2", "same"), ("Case 3", "broke"),
                        ("Case 4", "changed")]
    assert result.cases[0].before_text == "old" and result.cases[0].after_text == "new"
    assert result.summary() == "1 fixed · 1 broke · 1 changed · 1 same"


def test_another_variant_and_cases_only_one_run_has():
    before = [row(0, "x", True, variant="A"), row(1, "y", True, variant="A")]
    after = [row(0, "x", True, variant="B", q="q1")]
    result = compare_runs(before, after, "A", "B")
    # B's case 1 asks what A's case 2 asked: those are paired, by their inputs.
    assert [(c.label, c.verdict) for c in result.cases] == [("Case 1", "changed"),
                                                             ("Case 1 (before)", "only before")]
    assert result.cases[0].before_text == "y" and result.cases[1].after_text == ""
