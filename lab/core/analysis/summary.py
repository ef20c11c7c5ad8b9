"""The per-variant summary of logged calls: what the comparison table and ``lab run --json`` show.

Pass rates per check and overall, the mean score with its interval, tokens, cost and latency
percentiles, from plain records (dicts or objects) so the store, the runner and tests can all
feed it. Rates and scores treat the test case as the unit (`clustered`): each case's pass
fraction or mean score first, then the mean over cases with an interval over cases, so several
samples of one case never count as independent evidence. `lab report` computes the same figures
in SQL through the same functions, so the run summary and the report agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lab.core.analysis.clustered import (
    CaseProportion,
    case_mean,
    case_proportion,
    group_by_case,
)
from lab.core.analysis.intervals import MeanInterval, percentiles


@dataclass(frozen=True)
class PassRate:
    """A pass rate over test cases: ``rate`` is the mean of each case's pass fraction, ``low``
    and ``high`` its interval with the case as the unit; ``passed`` of ``n`` outputs."""

    passed: int
    n: int
    rate: float
    low: float
    high: float
    cases: int = 0
    design_effect: float = 1.0
    effective_n: float = 0.0
    method: str = ""

    @classmethod
    def of(cls, proportion: CaseProportion) -> PassRate:
        p = proportion
        return cls(p.passed, p.samples, p.value, p.low, p.high, p.cases, p.design_effect,
                   p.effective_n, p.method)


def pass_rate(counts: Iterable[tuple[int, int]], confidence: float = 0.95) -> PassRate | None:
    """The case-as-unit pass rate of (passed, samples) per test case (None for no case)."""
    proportion = case_proportion(counts, confidence)
    return PassRate.of(proportion) if proportion else None


@dataclass(frozen=True)
class VariantSummary:
    """The figures the comparison table and ``lab run --json`` show for one variant."""

    variant: str
    calls: int
    errors: int
    checks: dict[str, PassRate]  # per check, over successful calls that ran it
    overall: PassRate | None  # a call passes overall when every check it ran passed
    score: MeanInterval | None  # mean of per-case mean judge scores; n = cases
    tokens: int | None  # over the calls whose usage was reported; None when none was
    cost_usd: float | None  # None when no call had a known price (unknown is not free)
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    ttft_p50_ms: float | None
    tokens_unknown: int = 0  # calls whose usage nobody reported (left out of `tokens`)


def _get(record: Any, *names: str) -> Any:
    for name in names:
        value = record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)
        if value is not None:
            return value
    return None


def _check_outcomes(record: Any) -> dict[str, bool]:
    raw = _get(record, "checks")
    if raw is None:
        return {}
    if isinstance(raw, Mapping):
        return {str(k): bool(v) for k, v in raw.items()}
    return {str(_get(r, "check_name", "name")): bool(_get(r, "passed")) for r in raw}


def _tokens(record: Any) -> int | None:
    total = _get(record, "tokens")
    if total is not None:
        return int(total)
    source = _get(record, "usage") or record  # a Call carries a Usage; plain dicts carry the counts
    parts = [_get(source, "input_tokens"), _get(source, "output_tokens")]
    known = [int(p) for p in parts if p is not None]
    return sum(known) if known else None


def _floats(records: Iterable[Any], *names: str) -> list[float]:
    return [float(v) for v in (_get(r, *names) for r in records) if v is not None]


def _case_of(record: Any) -> Any:
    case = _get(record, "case_index", "case")
    return ("case", case) if case is not None else ("record", id(record))  # alone: its own case


def variant_summary(records: Iterable[Any], confidence: float = 0.95,
                    apart: Iterable[str] = ()) -> list[VariantSummary]:
    """Summarise per-call records by variant, in order of first appearance.

    A record is a dict or an object with: ``variant`` (or ``variant_name``), ``case_index`` (or
    ``case``: the test case; a record without one is a case of its own), ``status`` ('ok',
    'error', ...; default 'ok'), ``checks`` (name -> passed, or a list of CheckResult), ``score``,
    ``tokens`` (or ``input_tokens``/``output_tokens``, or a ``usage``), ``cost`` (or ``cost_usd``),
    ``latency_ms``, ``ttft_ms``. Pass rates, scores and latencies use successful calls only (a
    failed call has no output to grade, and its latency is the error's); errors are counted
    separately, and cost and tokens include them because they may be billed. Checks named in
    ``apart`` (retrieval-hit: how well retrieval worked) have their own pass rates but are left
    out of the overall one, which is about the answer. Token counts a
    provider did not report (None) are left out of the sum and counted in ``tokens_unknown``.
    """
    measured_apart = set(apart)
    groups: dict[str, list[Any]] = {}
    for record in records:
        groups.setdefault(str(_get(record, "variant", "variant_name") or ""), []).append(record)
    summaries = []
    for variant, rows in groups.items():
        ok = [r for r in rows if (_get(r, "status") or "ok") == "ok"]
        # per check, then per case: [passed, samples]
        tallies: dict[str, dict[Any, list[int]]] = {}
        overall: dict[Any, list[int]] = {}
        scores: list[tuple[Any, float]] = []
        for r in ok:
            case = _case_of(r)
            outcomes = _check_outcomes(r)
            for name, passed in outcomes.items():
                tally = tallies.setdefault(name, {}).setdefault(case, [0, 0])
                tally[0] += passed
                tally[1] += 1
            answer = {k: v for k, v in outcomes.items() if k not in measured_apart}
            if answer:
                tally = overall.setdefault(case, [0, 0])
                tally[0] += all(answer.values())
                tally[1] += 1
            if (score := _get(r, "score")) is not None:
                scores.append((case, float(score)))
        costs = _floats(rows, "cost", "cost_usd")
        tokens = [_tokens(r) for r in rows]
        known_tokens = [t for t in tokens if t is not None]
        latency = percentiles(_floats(ok, "latency_ms"), (50, 95))
        ttft = percentiles(_floats(ok, "ttft_ms"), (50,))
        summaries.append(
            VariantSummary(
                variant=variant,
                calls=len(rows),
                errors=sum(1 for r in rows if _get(r, "status") == "error"),
                checks={k: pass_rate(cases.values(), confidence) for k, cases in tallies.items()},
                overall=pass_rate(overall.values(), confidence),
                score=case_mean(group_by_case(scores), confidence),
                tokens=sum(known_tokens) if known_tokens else None,
                cost_usd=sum(costs) if costs else None,
                latency_p50_ms=latency.get(50),
                latency_p95_ms=latency.get(95),
                ttft_p50_ms=ttft.get(50),
                tokens_unknown=len(tokens) - len(known_tokens),
            )
        )
    return summaries
