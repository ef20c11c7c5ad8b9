"""Per-variant figures of a scope, from the store's per-(variant, case) aggregates.

The same case-as-unit statistics as `summary.variant_summary` (which `lab run` prints), fed by
SQL instead of per-call records: pass rate and per-check pass rates (`clustered.case_proportion`),
mean judge and human scores over case means (`clustered.case_mean`), the human approval rate
(outputs rated good among those rated), cost, tokens, latency and time-to-first-token
percentiles of successful calls. `CaseTable` keeps the per-case values the A/B comparisons pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lab.core.analysis.clustered import (
    CaseProportion,
    CaseSums,
    case_mean,
    case_proportion,
    case_proportion_of_sums,
)
from lab.core.analysis.intervals import MeanInterval
from lab.core.analysis.links import Link
from lab.core.analysis.scope import ResolvedScope

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store


LATENCY_PERCENTILES = (5, 25, 50, 75, 95)
TOTALS = ("calls", "errors", "cost", "priced", "tokens", "input_tokens", "output_tokens",
          "usage_calls")  # per variant, from read_cases


@dataclass
class CaseValues:
    """One variant on one test case."""

    calls: int = 0
    ok: int = 0
    graded: int = 0
    passed: int = 0
    judge: float | None = None  # mean judge score of its outputs
    human: float | None = None  # mean human 1-5 score
    rated: int = 0
    good: int = 0


CaseTable = dict[str, dict[Any, CaseValues]]  # variant -> case key -> values


@dataclass(frozen=True)
class VariantFigures:
    name: str
    model: str
    calls: int  # cells of the matrix (the newest call of each), errors included
    errors: int
    cases: int
    max_samples: int  # the most successful outputs any one case has
    pass_rate: CaseProportion | None  # every check passed
    checks: dict[str, CaseProportion]
    judge_score: MeanInterval | None  # n = cases
    human_score: MeanInterval | None
    approval: CaseProportion | None  # rated good (score >= 4, or thumbs up) among rated outputs
    cost_usd: float | None  # None: no call had a known price
    tokens: int
    latency_ms: dict[float, float]  # percentiles 5, 25, 50, 75, 95 of successful calls
    ttft_p50_ms: float | None
    link: Link
    mean_input_tokens: float | None = None  # per successful call with usage
    mean_output_tokens: float | None = None


def read_cases(store: Store) -> tuple[CaseTable, dict[str, dict[str, Any]]]:
    """The per-case table and per-variant totals (calls, errors, cost, tokens)."""
    table: CaseTable = {}
    for (variant, case, calls, ok, graded, passed, judge, human, rated,
         good) in store.scope_case_figures():
        cases = table.get(variant)
        if cases is None:
            cases = table[variant] = {}
        cases[case] = CaseValues(calls or 0, ok or 0, graded or 0, passed or 0, judge, human,
                                 rated or 0, good or 0)
    totals = {variant: dict(zip(TOTALS, (value or 0 for value in row)))
              for variant, *row in store.scope_variant_totals()}
    return table, totals


def variant_order(resolved: ResolvedScope, table: CaseTable) -> list[str]:
    """The experiment's order, then any other variant the runs logged."""
    names = [v.name for v in resolved.variants if v.name in table]
    return names + sorted(set(table) - set(names))


def variant_figures(store: Store, resolved: ResolvedScope, table: CaseTable,
                    totals: dict[str, dict[str, Any]], confidence: float = 0.95
                    ) -> list[VariantFigures]:
    latency = store.scope_percentiles("latency", LATENCY_PERCENTILES)
    ttft = store.scope_percentiles("ttft", (50,))
    models = {**store.scope_models(), **{v.name: v.model for v in resolved.variants}}
    per_check: dict[str, dict[str, CaseProportion]] = {}
    for variant, check, *sums in sorted(store.scope_check_sums(resolved.check_names)):
        found = case_proportion_of_sums(CaseSums(*sums), confidence)
        if found is not None:
            per_check.setdefault(variant, {})[check] = found
    out = []
    for name in variant_order(resolved, table):
        cases = table[name]
        graded = [(c.passed, c.graded) for c in cases.values()]
        checks = per_check.get(name, {})
        t = totals[name]
        out.append(VariantFigures(
            name=name, model=models.get(name, ""), calls=t["calls"], errors=t["errors"],
            cases=sum(1 for c in cases.values() if c.ok),
            max_samples=max((c.ok for c in cases.values()), default=0),
            pass_rate=case_proportion(graded, confidence), checks=checks,
            judge_score=case_mean([c.judge for c in cases.values() if c.judge is not None],
                                  confidence),
            human_score=case_mean([c.human for c in cases.values() if c.human is not None],
                                  confidence, bounds=(1.0, 5.0)),
            approval=case_proportion([(c.good, c.rated) for c in cases.values()], confidence),
            cost_usd=t["cost"] if t["priced"] else None, tokens=t["tokens"],
            latency_ms=latency.get(name, {}), ttft_p50_ms=ttft.get(name, {}).get(50),
            link=Link.select(f"every output of {name}", **resolved.selection(name)),
            mean_input_tokens=t["input_tokens"] / t["usage_calls"] if t["usage_calls"] else None,
            mean_output_tokens=t["output_tokens"] / t["usage_calls"] if t["usage_calls"] else None,
        ))
    return out
