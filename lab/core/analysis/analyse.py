"""What a run means: the one entry point `lab report` and the window's Analysis view call.

    analysis = analyse(store, Scope(run_id=3), AnalysisOptions(calls_per_month=50_000))
    analysis.variants        # per-variant figures, case as the unit (figures.VariantFigures)
    analysis.comparisons     # A/B verdicts for every pair (comparisons.Comparison)
    analysis.consistency     # samples agreement and the heat map (sample_agreement), or None
    analysis.judge_agreement # LLM judge against humans (judge_agreement.JudgeAgreement)
    analysis.failure_modes   # tags and failed checks per variant (failure_modes.VariantFailures)
    analysis.decision        # the recommendation and its reasons (decision.Decision)
    analysis.to_dict()       # one JSON-ready document (`lab report --json`)

Every figure a user may want to look behind carries a `links.Link` (call ids or an export
selection). Plain dataclasses, no Qt; the aggregation runs in SQL (`AnalysisRows`).
"""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.core.analysis.clustered import CaseProportion
from lab.core.analysis.comparisons import (
    Comparison,
    blind_tallies,
    compare_all,
    paired_values,
    pass_fraction,
)
from lab.core.analysis.decision import Decision, Evidence, decide
from lab.core.analysis.economics import DEFAULT_CALLS_PER_MONTH, economics
from lab.core.analysis.failure_modes import (
    KNOWLEDGE_WORDS,
    VariantFailures,
    failure_modes,
)
from lab.core.analysis.figures import (
    VariantFigures,
    read_cases,
    variant_figures,
    variant_order,
)
from lab.core.analysis.intervals import MeanInterval
from lab.core.analysis.judge_agreement import JudgeAgreement, judge_agreement
from lab.core.analysis.links import Link
from lab.core.analysis.paired import PairedDifference, compare_pass, compare_scores
from lab.core.analysis.sample_agreement import (
    AgreementCell,
    ConsistencyReport,
    consistency_report,
)
from lab.core.analysis.scope import ResolvedScope, Scope, resolve
from lab.core.analysis.techniques import techniques
from lab.core.analysis.training_data import GoodBy, TrainingData, training_data
from lab.core.analysis.tuning_prices import tuning_price
from lab.core.model import Example, Variant
from lab.core.providers.pricing import ModelPrice, PriceTable

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store


BUILT_IN_KINDS = ("openai", "anthropic", "gemini", "ollama")


@dataclass(frozen=True)
class AnalysisOptions:
    calls_per_month: int = DEFAULT_CALLS_PER_MONTH  # the user's expected volume
    good_by: GoodBy = "rating"  # "rating" (4+ or thumbs up) or "checks" (every check passed)
    knowledge_words: tuple[str, ...] = KNOWLEDGE_WORDS
    confidence: float = 0.95
    prices: PriceTable | None = None  # None: prices are unknown
    price_paths: tuple[Path, ...] = ()  # price files to read fine-tuning prices from


@dataclass
class Analysis:
    scope: str  # "run 3 of tone"
    runs: list[int]
    calls: int
    variants: list[VariantFigures]
    comparisons: list[Comparison]
    consistency: ConsistencyReport | None
    judge_agreement: list[JudgeAgreement]
    failure_modes: list[VariantFailures]
    decision: Decision
    case_labels: dict[Any, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def variant(self, name: str) -> VariantFigures:
        return next(v for v in self.variants if v.name == name)

    def to_dict(self) -> dict[str, Any]:
        """One JSON-ready document."""
        decision = self.decision
        return {
            "scope": self.scope, "runs": self.runs, "calls": self.calls, "notes": self.notes,
            "variants": [_variant_dict(v) for v in self.variants],
            "comparisons": plain(self.comparisons),
            "consistency": plain(self.consistency),
            "judge_agreement": plain(self.judge_agreement),
            "failure_modes": plain(self.failure_modes),
            "decision": {
                "recommendation": decision.recommendation,
                "headline": decision.headline,
                "reasons": [r.to_dict() for r in decision.reasons],
                "more_examples_needed": decision.more_examples_needed,
                "good_examples": decision.evidence.data.examples,
                "evidence": plain(decision.evidence),
            },
        }


def plain(value: Any) -> Any:
    """Dataclasses, links, tuples and dicts as JSON-ready values (NaN as None)."""
    if isinstance(value, (Link, AgreementCell)):
        return value.to_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rate(p: CaseProportion | None) -> dict[str, Any] | None:
    return None if p is None else {"value": p.value, **plain(p)}


def _mean(m: MeanInterval | None) -> dict[str, Any] | None:
    return None if m is None else plain(m)


def _variant_dict(v: VariantFigures) -> dict[str, Any]:
    return {
        "name": v.name, "model": v.model, "calls": v.calls, "errors": v.errors, "cases": v.cases,
        "samples_per_case": v.max_samples, "pass_rate": _rate(v.pass_rate),
        "checks": {k: _rate(c) for k, c in v.checks.items()}, "score": _mean(v.judge_score),
        "human_score": _mean(v.human_score), "approval": _rate(v.approval),
        "cost_usd": v.cost_usd, "tokens": v.tokens,
        "latency_ms": {f"p{p:g}": value for p, value in v.latency_ms.items()},
        "ttft_p50_ms": v.ttft_p50_ms, "link": v.link.to_dict(),
    }


def _rank(v: VariantFigures) -> tuple:
    def value(x: Any) -> float:
        return -1.0 if x is None else float(x)

    first = v.pass_rate.value if v.pass_rate else (v.approval.value if v.approval else None)
    return (value(first), value(v.human_score.mean if v.human_score else None),
            value(v.judge_score.mean if v.judge_score else None))


def _ahead(table, runner: str, best: str, confidence: float) -> PairedDifference | None:
    passes = paired_values(table, runner, best, pass_fraction)
    if passes:
        single = all(c.graded <= 1 for n in (runner, best) for c in table[n].values())
        return compare_pass(passes, a=runner, b=best, single_sample=single, confidence=confidence)
    for measure, get in (("human score", lambda c: c.human), ("judge score", lambda c: c.judge)):
        pairs = paired_values(table, runner, best, get)
        if pairs:
            return compare_scores(pairs, measure, a=runner, b=best, confidence=confidence)
    return None


def _price(resolved: ResolvedScope, variant: Variant, options: AnalysisOptions
           ) -> tuple[ModelPrice | None, Any]:
    providers = (resolved.runs[-1]["config"].get("providers") or {})
    table = providers.get(variant.provider) or {}
    kind = table.get("kind") or (variant.provider if variant.provider in BUILT_IN_KINDS else "")
    if table.get("local") or kind == "ollama":
        return ModelPrice(0.0, 0.0), tuning_price(kind, variant.model_name, options.prices,
                                                  options.price_paths)
    price = options.prices.price_for(kind, variant.model_name) if options.prices and kind else None
    return price, tuning_price(kind, variant.model_name, options.prices, options.price_paths) \
        if kind else None


def _from_prompt(store: Store, figures: VariantFigures) -> Variant:
    """A variant the stored experiment does not define, rebuilt from its logged prompt."""
    system, examples_json = store.scope_prompts().get(figures.name, ("", "[]"))
    try:
        examples = [Example(str(e.get("input", "")), str(e.get("output", "")),
                            enabled=bool(e.get("enabled", True)))
                    for e in json.loads(examples_json or "[]") if isinstance(e, dict)]
    except json.JSONDecodeError:
        examples = []
    return Variant(figures.name, figures.model, system=system, examples=examples)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """An analysis makes a few hundred thousand small objects and no reference cycles; the
    cycle collector would walk them again and again (a fifth of the time at 100,000 calls)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def analyse(store: Store, scope: Scope | None = None,
            options: AnalysisOptions | None = None) -> Analysis:
    """Everything the report shows, for one run (default: the newest) or every run of an
    experiment or project. Raises scope.ScopeError when there is nothing to analyse."""
    with _no_cycle_collection():
        return _analyse(store, scope, options or AnalysisOptions())


def _analyse(store: Store, scope: Scope | None, options: AnalysisOptions) -> Analysis:
    conf = options.confidence
    resolved = resolve(store, scope)
    table, totals = read_cases(store)
    order = variant_order(resolved, table)
    figures = variant_figures(store, resolved, table, totals, conf)
    judgements, placed = store.scope_pairwise()
    comparisons = compare_all(table, order, blind_tallies(judgements, placed), conf)
    consistency = consistency_report(store, table, order, resolved.case_labels, conf)
    judges = judge_agreement(store, resolved.judge_scales, conf)
    outputs = {name: sum(c.ok for c in table[name].values()) for name in order}
    failures = failure_modes(store, order, outputs, resolved.check_names,
                             options.knowledge_words)
    data: TrainingData = training_data(store, options.good_by)

    ranked = sorted(figures, key=_rank, reverse=True)
    best = ranked[0] if ranked else None
    runner = ranked[1] if len(ranked) > 1 else None
    definitions = {v.name: v for v in resolved.variants}
    money = None
    if best is not None:
        variant = definitions.get(best.name) or _from_prompt(store, best)
        price, tuning = _price(resolved, variant, options)
        money = economics(variant, price, tuning, calls_per_month=options.calls_per_month,
                          mean_input=best.mean_input_tokens, mean_output=best.mean_output_tokens,
                          examples=data.examples, tokens_per_example=data.mean_tokens)
    evidence = Evidence(
        best=best, runner_up=runner,
        best_vs_runner_up=_ahead(table, runner.name, best.name, conf) if best and runner else None,
        techniques=techniques(resolved.variants, resolved.variant_tables),
        variants=len(order), cases=len({case for cases in table.values() for case in cases}),
        failures=next((f for f in failures if best and f.variant == best.name), None),
        data=data, economics=money,
        consistency=next((c for c in consistency.variants if best and c.variant == best.name),
                         None) if consistency else None,
        scope_link=Link.select(f"every output of {resolved.label}", **resolved.selection()),
    )
    notes = [("Intervals are 95% and treat the test case as the unit: several samples of one "
              "case are not counted as independent outputs.")]
    return Analysis(resolved.label, resolved.run_ids, resolved.calls, figures, comparisons,
                    consistency, judges, failures, decide(evidence), resolved.case_labels, notes)
