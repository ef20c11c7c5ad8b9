"""Can the LLM judge stand in for a human? Its verdicts against human ratings of the same outputs.

For every LLM-judge check with human ratings on the outputs it graded:

* **scores**: the judge's 1–5 score (rounded to the nearest whole point) against the human's 1–5
  rating, by quadratic-weighted Cohen's kappa (judges on a 0–1 scale are compared on pass/fail
  only);
* **pass/fail**: the judge's pass against the human's "good" (rated 4 or more, or a thumbs up
  when the output has no 1–5 rating), by unweighted Cohen's kappa.

Each with its 95% interval (`kappa`: Fleiss, Cohen & Everitt 1969), n, the confusion table
(rows: judge, columns: human) and warnings when n is under 30 or the interval is wider than
±0.2, and a link to the outputs where the two disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lab.core.analysis.kappa import Kappa, cohen_kappa
from lab.core.analysis.links import Link

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store


GOOD_SCORE = 4  # a human 1-5 rating at or above this is "good"


@dataclass(frozen=True)
class JudgeAgreement:
    check: str
    scores: Kappa | None  # judge 1-5 vs human 1-5, quadratic weights
    pass_fail: Kappa | None  # judge pass vs human good, unweighted
    link: Link  # every output rated by both
    disagreements: Link  # outputs where the judge's pass and the human's good differ


def human_good(score: int | None, thumbs: int | None) -> bool | None:
    """The human's verdict: a 1-5 rating decides when there is one, else the thumbs."""
    if score is not None:
        return score >= GOOD_SCORE
    if thumbs is not None:
        return thumbs > 0
    return None


def _point(score: float | None) -> int | None:
    if score is None:
        return None
    return min(5, max(1, int(score + 0.5)))


def judge_agreement(store: Store, judge_scales: dict[str, str], confidence: float = 0.95
                    ) -> list[JudgeAgreement]:
    rows = store.scope_judge_and_human()
    by_check: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_check.setdefault(row["check"], []).append(row)
    out = []
    for check, items in sorted(by_check.items()):
        scale = judge_scales.get(check, "1-5")
        scored = [(_point(r["judge_score"]), r["human_score"]) for r in items
                  if scale == "1-5" and r["judge_score"] is not None and r["human_score"] is not None]
        verdicts = [(bool(r["passed"]), human_good(r["human_score"], r["thumbs"]), r["call_id"])
                    for r in items]
        verdicts = [v for v in verdicts if v[1] is not None]
        out.append(JudgeAgreement(
            check,
            cohen_kappa(scored, range(1, 6), "quadratic", confidence) if scored else None,
            cohen_kappa([(j, h) for j, h, _ in verdicts], (True, False), "none", confidence)
            if verdicts else None,
            Link.calls((r["call_id"] for r in items), f"outputs graded by {check} and a human"),
            Link.calls((i for j, h, i in verdicts if j != h),
                       f"outputs where {check} and the human disagree"),
        ))
    return out
