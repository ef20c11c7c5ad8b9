"""Blind pairwise judging: pairs, hidden sides, resuming a session, and the verdict."""

from __future__ import annotations

import json

from lab.core.analysis.pairwise import pairs_to_judge, tally
from lab.core.model import PairwiseJudgement


def calls(cases: int = 3, variants=("A", "B")) -> list[dict]:
    rows, next_id = [], 1
    for case in range(cases):
        for variant in variants:
            rows.append({"id": next_id, "status": "ok", "case_index": case, "sample_index": 0,
                         "variant_name": variant, "judged_call_id": None,
                         "response_text": f"{variant} answers {case}",
                         "request_json": json.dumps({"messages": [
                             {"role": "system", "content": "s"},
                             {"role": "user", "content": f"question {case}"}]})})
            next_id += 1
    return rows


def test_one_pair_per_case_and_variant_pair_with_random_sides():
    pairs = pairs_to_judge(calls(cases=40), [], seed=1)
    assert len(pairs) == 40
    assert {p.input_text for p in pairs} == {f"question {i}" for i in range(40)}
    left_is_a = sum(p.left_text.startswith("A") for p in pairs)
    assert 10 < left_is_a < 30  # sides are shuffled, not always A on the left
    assert pairs_to_judge(calls(cases=40), [], seed=1) == pairs  # the seed makes it repeatable


def test_three_variants_make_three_pairs_per_case_and_judged_pairs_are_skipped():
    rows = calls(cases=2, variants=("A", "B", "C"))
    pairs = pairs_to_judge(rows, [], seed=0)
    assert len(pairs) == 6
    first = pairs[0]
    done = [PairwiseJudgement(left_call_id=first.right_call_id, right_call_id=first.left_call_id,
                              winner="left")]
    assert len(pairs_to_judge(rows, done, seed=0)) == 5


def test_failed_outputs_and_judge_calls_are_not_judged():
    rows = calls(cases=2)
    rows[0]["status"] = "error"
    rows[3]["judged_call_id"] = 1
    assert pairs_to_judge(rows, [], seed=0) == []


def test_tally_gives_the_sign_test_verdict():
    variant_of = {1: "A", 2: "B"}
    judgements = [PairwiseJudgement(1, 2, "right") for _ in range(9)]
    judgements += [PairwiseJudgement(2, 1, "right"), PairwiseJudgement(1, 2, "tie")]
    (matchup,) = tally(judgements, variant_of)
    assert (matchup.first, matchup.second) == ("A", "B")
    s = matchup.summary
    assert (s.wins, s.losses, s.ties) == (9, 1, 1)
    assert s.verdict.startswith("B is better than A (p = 0.02")
