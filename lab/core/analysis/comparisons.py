"""The A/B verdict for every pair of variants: pass rate, judge score and human score paired by
test case (`paired`), and the blind pairwise judgements' sign test (`significance`).

Variants are paired in the experiment's order: (A, B), (A, C), (B, C), ...; each difference is
B − A, "second minus first".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from lab.core.analysis.figures import CaseTable
from lab.core.analysis.links import Link
from lab.core.analysis.paired import (
    PairedDifference,
    compare_pass_columns,
    compare_scores_columns,
)
from lab.core.analysis.significance import PairwiseSummary, pairwise_summary


@dataclass(frozen=True)
class Blind:
    """Blind pairwise judgements of B against A: wins are B's."""

    summary: PairwiseSummary
    link: Link  # the judged outputs of both variants


@dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    pass_rate: PairedDifference | None
    judge_score: PairedDifference | None
    human_score: PairedDifference | None
    blind: Blind | None

    @property
    def verdicts(self) -> list[str]:
        found = [d.verdict for d in (self.pass_rate, self.judge_score, self.human_score) if d]
        if self.blind:
            found.append("Blind judgements: " + self.blind.summary.verdict)
        return found


def paired_values(table: CaseTable, a: str, b: str, value) -> list[tuple[float, float]]:
    out = []
    for case, va in table.get(a, {}).items():
        vb = table.get(b, {}).get(case)
        if vb is None:
            continue
        xa, xb = value(va), value(vb)
        if xa is not None and xb is not None:
            out.append((xa, xb))
    return out


def pass_fraction(values) -> float | None:
    return values.passed / values.graded if values.graded else None


def blind_tallies(judgements: Sequence[tuple[int, int, str]],
                  placed: dict[int, tuple[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per unordered pair of variant names (sorted): wins of the second, losses, ties, call ids."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for left, right, winner in judgements:
        lv, rv = placed[left][0], placed[right][0]
        if lv == rv:
            continue
        first, second = sorted((lv, rv))
        entry = out.setdefault((first, second), {"wins": 0, "losses": 0, "ties": 0, "ids": set()})
        entry["ids"].update((left, right))
        if winner == "tie":
            entry["ties"] += 1
        else:
            better = placed[left if winner == "left" else right][0]
            entry["wins" if better == second else "losses"] += 1
    return out


def _per_case(table: CaseTable, name: str) -> tuple[dict, dict, dict]:
    """A variant's per-case pass fraction, judge score and human score (cases that have one),
    in the table's case order: what `paired_values` pairs, computed once per variant."""
    cases = table.get(name, {})
    return ({c: v.passed / v.graded for c, v in cases.items() if v.graded},
            {c: v.judge for c, v in cases.items() if v.judge is not None},
            {c: v.human for c, v in cases.items() if v.human is not None})


def _paired(a: dict, b: dict) -> tuple[Sequence[float], Sequence[float]]:
    """As `paired_values`, from two `_per_case` maps, as the A column and the B column (the
    same cases in the same order, the usual case: the values as they are)."""
    if len(a) == len(b) and a.keys() == b.keys() and list(a) == list(b):
        return list(a.values()), list(b.values())
    a_values, b_values = [], []
    for case, x in a.items():
        y = b.get(case)
        if y is not None:
            a_values.append(x)
            b_values.append(y)
    return a_values, b_values


def compare_all(table: CaseTable, order: Sequence[str], tallies: dict[tuple[str, str], dict],
                confidence: float = 0.95) -> list[Comparison]:
    comparisons = []
    values = {name: _per_case(table, name) for name in order}
    single_sample = {name: all(v.graded <= 1 for v in table.get(name, {}).values())
                     for name in order}
    for a, b in combinations(order, 2):
        single = single_sample[a] and single_sample[b]
        (pass_a, pass_b), (judge_a, judge_b), (human_a, human_b) = (
            _paired(x, y) for x, y in zip(values[a], values[b]))
        blind = None
        key = tuple(sorted((a, b)))
        if key in tallies:
            t = tallies[key]
            wins, losses = (t["wins"], t["losses"]) if key[1] == b else (t["losses"], t["wins"])
            blind = Blind(pairwise_summary(wins, losses, t["ties"], name=b, other=a,
                                           confidence=confidence),
                          Link.calls(t["ids"], f"outputs of {a} and {b} judged blind"))
        comparisons.append(Comparison(
            a, b,
            compare_pass_columns(pass_a, pass_b, a=a, b=b, single_sample=single,
                                 confidence=confidence) if pass_a else None,
            compare_scores_columns(judge_a, judge_b, "judge score", a=a, b=b,
                                   confidence=confidence) if judge_a else None,
            compare_scores_columns(human_a, human_b, "human score", a=a, b=b,
                                   confidence=confidence) if human_a else None,
            blind,
        ))
    return comparisons
