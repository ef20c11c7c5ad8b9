"""Two runs side by side: the same variant before and after an edit (or two variants), case by
case. Which outputs changed, which checks now pass that failed (fixed) or fail that passed
(broke), and the word-level difference of each pair of outputs.

Cases are paired by their variables (the same inputs), falling back to their position when the
test cases were edited between the runs; a case only one run has is listed as such. Rows are
`calls_for_run` rows (sample 1 of each cell is compared).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = Literal["fixed", "broke", "changed", "same", "only before", "only after"]


@dataclass
class ComparedCase:
    label: str
    before: dict[str, Any] | None  # the call row, or None
    after: dict[str, Any] | None
    verdict: Verdict

    @property
    def before_text(self) -> str:
        return _text(self.before)

    @property
    def after_text(self) -> str:
        return _text(self.after)


@dataclass
class RunComparison:
    cases: list[ComparedCase] = field(default_factory=list)

    def count(self, verdict: Verdict) -> int:
        return sum(1 for c in self.cases if c.verdict == verdict)

    def summary(self) -> str:
        parts = [f"{self.count(v)} {v}" for v in ("fixed", "broke", "changed", "same",
                                                  "only before", "only after") if self.count(v)]
        return " · ".join(parts) or "nothing to compare"


def _text(row: dict[str, Any] | None) -> str:
    if row is None:
        return ""
    return row.get("response_text") or row.get("error_message") or ""


def _passed(row: dict[str, Any] | None) -> bool | None:
    """All checks passed (None: an error, or no checks)."""
    if row is None or row.get("status") != "ok" or not row.get("checks"):
        return None
    return all(row["checks"].values())


def _cells(rows: Iterable[dict[str, Any]], variant: str) -> dict[int, dict[str, Any]]:
    return {r["case_index"]: r for r in rows
            if r.get("variant_name") == variant and (r.get("sample_index") or 0) == 0
            and r.get("case_index") is not None and r.get("judged_call_id") is None}


def _key(row: dict[str, Any]) -> str:
    try:
        return json.dumps(json.loads(row.get("case_vars_json") or "{}"), sort_keys=True)
    except json.JSONDecodeError:
        return ""


def compare_runs(before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]],
                 variant_before: str, variant_after: str | None = None,
                 labels: dict[int, str] | None = None) -> RunComparison:
    """Compare `variant_before`'s outputs in the run `before` with `variant_after`'s (default:
    the same name) in the run `after`. `labels`: case index (in `after`) -> what to call it."""
    old = _cells(before, variant_before)
    new = _cells(after, variant_after or variant_before)
    by_vars = {}
    for index, row in old.items():
        by_vars.setdefault(_key(row), index)
    result = RunComparison()
    used: set[int] = set()
    for index in sorted(new):
        row = new[index]
        match = by_vars.get(_key(row))
        if match is None or match in used:
            match = index if index in old and index not in used else None
        partner = old.get(match) if match is not None else None
        if match is not None:
            used.add(match)
        label = (labels or {}).get(index) or f"Case {index + 1}"
        result.cases.append(ComparedCase(label, partner, row, _verdict(partner, row)))
    for index in sorted(set(old) - used):
        result.cases.append(ComparedCase(f"Case {index + 1} (before)", old[index], None,
                                         "only before"))
    return result


def _verdict(before: dict[str, Any] | None, after: dict[str, Any] | None) -> Verdict:
    if before is None:
        return "only after"
    if after is None:
        return "only before"
    was, now = _passed(before), _passed(after)
    if was is False and now is True:
        return "fixed"
    if was is True and now is False:
        return "broke"
    return "same" if " ".join(_text(before).split()) == " ".join(_text(after).split()) else "changed"
