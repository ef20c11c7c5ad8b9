"""Consistency of a scope: how often repeated samples of one test case agree, per variant, and the
cases × variants agreement matrix a heat map draws.

Agreement of one case is the chance that two different samples of it agree: Σ c(c − 1) /
n(n − 1) over groups of c agreeing samples out of n (as `consistency.consistency`; Simpson's
index of the answers). A variant's figure is the mean over its cases with two or more samples
(each case weighs the same), with a Student-t interval over cases clipped to [0, 1], and the
share of cases where every sample agreed. Samples agree when they have:

* the exact same text;
* the same text with whitespace normalised (runs of spaces, tabs and line breaks as one space,
  ends trimmed; letter case still counts);
* the same check outcomes (the same checks passed and failed);
* for JSON outputs (a variant at least half of whose outputs are one JSON object, bare or in a
  ```json fence), the same value of each top-level field, field by field; among the JSON
  outputs of a case, a missing field is a value of its own.

Counting happens in SQL (`AnalysisRows.scope_text_agreement` and friends).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import TYPE_CHECKING, Any

from lab.core.analysis.figures import CaseTable
from lab.core.analysis.intervals import mean_ci
from lab.core.analysis.links import Link

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store


MAX_FIELDS = 20  # the JSON fields reported per variant, most common first


@dataclass(frozen=True)
class Agreement:
    measure: str
    mean: float | None  # mean over cases of the chance two samples agree
    low: float | None
    high: float | None
    fully_consistent: float | None  # share of cases where every sample agreed
    cases: int  # cases with two or more samples behind the figure


@dataclass(frozen=True)
class VariantConsistency:
    variant: str
    cases: int  # cases with two or more successful samples
    exact: Agreement
    normalised: Agreement
    checks: Agreement | None
    json_share: float  # share of successful outputs that are one JSON object
    json_fields: dict[str, Agreement]


@dataclass(slots=True)  # not frozen: 10,000 of them for a large run, made 4× faster
class AgreementCell:
    case: Any  # the case key (row index within a run; the test case's values across runs)
    case_label: str
    variant: str
    samples: int
    exact: float | None
    normalised: float | None
    checks: float | None
    call_ids: Sequence[int]  # its samples' calls, sorted

    @property
    def link(self) -> Link:
        """The samples, to open side by side (made when asked for: a large run has 10,000
        cells and a view opens one)."""
        return Link(tuple(self.call_ids), None, f"samples of {self.variant} on {self.case_label}")

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.case, "case_label": self.case_label, "variant": self.variant,
                "samples": self.samples, "exact": self.exact, "normalised": self.normalised,
                "checks": self.checks, "link": self.link.to_dict()}


@dataclass(frozen=True)
class ConsistencyReport:
    variants: list[VariantConsistency]
    cells: list[AgreementCell]  # case by case, variant by variant (the heat map)
    method: str = ("chance two samples of a case agree (Σ c(c−1) / n(n−1)), mean over cases with "
                   "two or more samples, Student-t interval over cases")


def _rate(pairs: int, n: int) -> float | None:
    return pairs / (n * (n - 1)) if n >= 2 else None


def _agreement(measure: str, per_case: Iterable[tuple[float | None, bool]],
               confidence: float) -> Agreement:
    values = [(v, full) for v, full in per_case if v is not None]
    if not values:
        return Agreement(measure, None, None, None, None, 0)
    ci = mean_ci([v for v, _ in values], confidence, bounds=(0.0, 1.0))
    return Agreement(measure, ci.mean, ci.low, ci.high,
                     fmean([1.0 if f else 0.0 for _, f in values]), len(values))


def consistency_report(store: Store, table: CaseTable, order: list[str],
                       case_labels: dict[Any, str], confidence: float = 0.95
                       ) -> ConsistencyReport | None:
    """None when no case of any variant has two successful samples."""
    if not any(c.ok >= 2 for cases in table.values() for c in cases.values()):
        return None
    texts = store.scope_text_agreement()
    checks = store.scope_check_agreement()
    json_counts, json_fields = store.scope_json_fields()
    calls = store.scope_cell_calls()
    fields: dict[str, dict[str, list[tuple[float | None, bool]]]] = {}
    field_seen: dict[str, dict[str, int]] = {}
    for variant, case, name, pairs, present in json_fields:
        n = json_counts.get((variant, case), 0)
        missing = n - present
        agreeing = pairs + missing * (missing - 1)
        rate = _rate(agreeing, n)
        fields.setdefault(variant, {}).setdefault(name, []).append((rate, agreeing == n * (n - 1)))
        seen = field_seen.setdefault(variant, {})
        seen[name] = seen.get(name, 0) + present

    json_outputs: dict[str, int] = {}
    for (v, _), n in json_counts.items():
        json_outputs[v] = json_outputs.get(v, 0) + n
    variants, cells = [], []
    no_texts, no_checks = (0, 0, 0, 0), (0, 0)
    for variant in order:
        cases = table.get(variant, {})
        per_exact, per_normal, per_checks = [], [], []
        for case, values in cases.items():
            n = values.ok
            key = (variant, case)
            e_pairs, e_distinct, n_pairs, n_distinct = texts.get(key, no_texts)
            checked = checks.get(key)
            c_pairs, c_distinct = checked or no_checks
            pairs_of_n = n * (n - 1)  # (_rate, inlined: it runs for every cell)
            e = e_pairs / pairs_of_n if n >= 2 else None
            nm = n_pairs / pairs_of_n if n >= 2 else None
            ck = _rate(c_pairs, values.graded) if checked is not None else None
            per_exact.append((e, e_distinct == 1))
            per_normal.append((nm, n_distinct == 1))
            per_checks.append((ck, c_distinct == 1))
            if n >= 1:
                label = case_labels.get(case)
                # the store gives each cell's ids sorted, one per sample
                cells.append(AgreementCell(case, str(case) if label is None else label, variant,
                                           n, e, nm, ck, calls.get(key, ())))
        ok = sum(c.ok for c in cases.values())
        json_n = json_outputs.get(variant, 0)
        json_share = json_n / ok if ok else 0.0
        named = {}
        if json_share >= 0.5:
            seen = field_seen.get(variant, {})
            for name in sorted(seen, key=lambda f: (-seen[f], f))[:MAX_FIELDS]:
                named[name] = _agreement(f"field {name}", fields[variant][name], confidence)
        check_agreement = _agreement("check outcomes", per_checks, confidence)
        variants.append(VariantConsistency(
            variant, sum(1 for c in cases.values() if c.ok >= 2),
            _agreement("exact text", per_exact, confidence),
            _agreement("text, whitespace normalised", per_normal, confidence),
            check_agreement if check_agreement.cases else None, json_share, named))
    return ConsistencyReport(variants, cells)
