"""Blind pairwise judging: which pairs to show, in which order and on which side, and the verdict.

For every test case of a run, every two variants whose outputs came back make a pair. Pairs
already judged are skipped, so a session can stop and carry on. The order of pairs and the side
each output is shown on are shuffled with a seed; the record keeps which call was shown on the
left, so a position bias can be checked later. The tally turns judgements into the sign test
and verdict of significance.pairwise_summary.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from lab.core.analysis.significance import PairwiseSummary, pairwise_summary
from lab.core.model import PairwiseJudgement


@dataclass(frozen=True)
class PairToJudge:
    """Two outputs for the same input, as they will be shown: names hidden, sides chosen."""

    case_index: int
    case_label: str
    input_text: str
    left_call_id: int
    right_call_id: int
    left_text: str
    right_text: str


def pairs_to_judge(calls: Iterable[dict[str, Any]], judged: Iterable[PairwiseJudgement],
                   case_labels: dict[int, str] | None = None, seed: int | None = None) -> list[PairToJudge]:
    """Pairs from a run's calls (store.calls_for_run rows): first samples, successful only."""
    rng = random.Random(seed)
    done = {frozenset((j.left_call_id, j.right_call_id)) for j in judged}
    by_case: dict[int, dict[str, dict[str, Any]]] = {}
    for call in calls:
        if (call.get("status") != "ok" or call.get("case_index") is None
                or call.get("judged_call_id") is not None or call.get("sample_index", 0) != 0):
            continue
        by_case.setdefault(call["case_index"], {})[call["variant_name"]] = call
    pairs = []
    for case_index, by_variant in sorted(by_case.items()):
        for a, b in combinations(sorted(by_variant), 2):
            left, right = by_variant[a], by_variant[b]
            if frozenset((left["id"], right["id"])) in done:
                continue
            if rng.random() < 0.5:
                left, right = right, left
            pairs.append(PairToJudge(
                case_index=case_index,
                case_label=(case_labels or {}).get(case_index, f"Case {case_index + 1}"),
                input_text=_user_message(left),
                left_call_id=left["id"], right_call_id=right["id"],
                left_text=left.get("response_text") or "", right_text=right.get("response_text") or "",
            ))
    rng.shuffle(pairs)
    return pairs


def _user_message(call: dict[str, Any]) -> str:
    """The last user turn of the request, to show what both outputs answer."""
    import json

    try:
        request = json.loads(call.get("request_json") or "{}")
    except json.JSONDecodeError:
        return ""
    messages = request.get("messages") or request.get("contents") or []
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            parts = message.get("parts") or content or []
            return "".join(p.get("text", "") for p in parts if isinstance(p, dict))
    return ""


@dataclass(frozen=True)
class VariantMatchup:
    first: str
    second: str
    summary: PairwiseSummary  # from the second variant's point of view (wins = second won)


def tally(judgements: Iterable[PairwiseJudgement],
          variant_of: dict[int, str]) -> list[VariantMatchup]:
    """Wins, losses and ties for each pair of variants, with the sign test's verdict."""
    counts: dict[tuple[str, str], list[int]] = {}
    for j in judgements:
        left, right = variant_of.get(j.left_call_id), variant_of.get(j.right_call_id)
        if left is None or right is None or left == right:
            continue
        first, second = sorted((left, right))
        wins_losses_ties = counts.setdefault((first, second), [0, 0, 0])
        better = j.better_call_id
        if better is None:
            wins_losses_ties[2] += 1
        elif variant_of[better] == second:
            wins_losses_ties[0] += 1
        else:
            wins_losses_ties[1] += 1
    return [
        VariantMatchup(first, second, pairwise_summary(w, l, t, name=second, other=first))
        for (first, second), (w, l, t) in sorted(counts.items())
    ]
