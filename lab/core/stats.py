"""Statistics an A/B decision can rest on: intervals, exact tests and verdicts in plain words.

What is here: pass-rate and mean-score intervals, the difference of two pass rates, the sign test
for blind pairwise judgements, McNemar's test for two variants on the same test cases, latency
percentiles, consistency of repeated samples, and the per-variant summary the comparison table
and ``lab run --json`` show.

Standard library only (``math``, ``statistics``). Every function names its method and where the
formula comes from, so a user who doubts a verdict can look it up. Conventions:

* ``confidence`` is two-sided (0.95 means a 95% interval).
* Significance is judged at ``alpha = 0.05`` unless the caller says otherwise.
* Pairwise ties are excluded from win rates and from the sign test (the sign test's own rule),
  and reported beside them, so the win rate reads "of the judgements that picked a side".

The probability functions underneath (incomplete beta, Student's t) are in
``lab.core.distributions``.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist, fmean, stdev
from typing import Any

from lab.core.checks import parse_json_output
from lab.core.distributions import betainc, t_quantile

ALPHA = 0.05
POWER = 0.8  # the conventional power for the "collect about N more" hint


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (Wilson 1927; Agresti & Coull 1998 recommend it
    over the textbook Wald interval, which collapses to zero width at 0/n and n/n).
    n = 0 gives (0, 1): nothing is known yet."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return 0.0, 1.0
    z = _z(confidence)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # exact ends when all or none succeeded (the formula gives them up to rounding)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class MeanInterval:
    """A mean with its confidence interval; low/high are None with fewer than two values."""

    mean: float
    low: float | None
    high: float | None
    n: int


def mean_ci(
    values: Sequence[float], confidence: float = 0.95, bounds: tuple[float, float] | None = None
) -> MeanInterval:
    """Mean with a Student-t interval: mean ± t(1-α/2, n-1) · s/√n (Student 1908; any
    statistics textbook). ``bounds`` clips the interval to the possible range, e.g. (1, 5) for
    ratings.
    Raises ValueError for no values: there is no mean to report."""
    n = len(values)
    if n == 0:
        raise ValueError("mean_ci needs at least one value")
    mean = fmean(values)
    if n == 1:
        return MeanInterval(mean, None, None, 1)
    half = t_quantile(1 - (1 - confidence) / 2, n - 1) * stdev(values) / math.sqrt(n)
    low, high = mean - half, mean + half
    if bounds:
        low, high = max(bounds[0], low), min(bounds[1], high)
    return MeanInterval(mean, low, high, n)


def proportion_diff_ci(
    a_successes: int, a_n: int, b_successes: int, b_n: int, confidence: float = 0.95
) -> tuple[float, float, float]:
    """(difference, low, high) of p_B - p_A for two independent proportions, by Newcombe's hybrid
    score interval (Newcombe 1998, "Interval estimation for the difference between independent
    proportions", method 10), built from the two Wilson intervals. Positive means B is higher."""
    if a_n == 0 or b_n == 0:
        raise ValueError("both groups need at least one trial to compare proportions")
    pa, pb = a_successes / a_n, b_successes / b_n
    la, ua = wilson_interval(a_successes, a_n, confidence)
    lb, ub = wilson_interval(b_successes, b_n, confidence)
    diff = pb - pa
    low = diff - math.sqrt((pb - lb) ** 2 + (ua - pa) ** 2)
    high = diff + math.sqrt((ub - pb) ** 2 + (pa - la) ** 2)
    return diff, max(-1.0, low), min(1.0, high)


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign test: the binomial(n, 1/2) probability of a split at least as uneven
    as wins:losses, doubled and capped at 1 (Conover, "Practical Nonparametric Statistics").
    Ties are not passed in: the test excludes them. No decisive outcomes gives p = 1."""
    if wins < 0 or losses < 0:
        raise ValueError("wins and losses cannot be negative")
    n, k = wins + losses, min(wins, losses)
    if n == 0:
        return 1.0
    if n > 5000:
        # P(X <= k) = I_1/2(n-k, k+1): the same tail through the incomplete beta, because the
        # integer sum below grows quadratically (0.6 s at 100,000 judgements); agrees to ~1e-12
        return min(1.0, 2 * betainc(n - k, k + 1, 0.5))
    # exact integer arithmetic: comb(n, i) summed, divided once; big ints keep every digit
    total, term = 0, 1
    for i in range(k + 1):
        total += term
        term = term * (n - i) // (i + 1)
    return min(1.0, 2 * total / 2**n)


def format_p(p: float) -> str:
    """A p-value as users read it: 'p = 0.41', 'p = 0.021', 'p < 0.001'."""
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.2f}" if p >= 0.1 else f"p = {p:.3f}"


def _about(n: float) -> int:
    """Round a sample-size hint so it does not pretend to precision: 7, 40, 190, 1,200."""
    n = max(1, math.ceil(n))
    if n <= 20:
        return n
    digits = int(math.floor(math.log10(n))) - 1
    return int(math.ceil(n / 10**digits) * 10**digits)


def decisive_needed(rate: float, alpha: float = ALPHA, power: float = POWER) -> int:
    """Decisive judgements a sign test needs to detect a true rate ``rate`` (≠ 0.5) with the given
    power: the normal-approximation sample size for one proportion against 1/2 (Fleiss, "Statistical
    Methods for Rates and Proportions", ch. 2), never below 6, the fewest an exact two-sided test at
    0.05 can ever call significant (2/2^6 < 0.05)."""
    za, zb = NormalDist().inv_cdf(1 - alpha / 2), NormalDist().inv_cdf(power)
    n = ((za * 0.5 + zb * math.sqrt(rate * (1 - rate))) / (rate - 0.5)) ** 2
    return max(6, math.ceil(n))


def _more_needed(successes: int, failures: int, per_unit: float) -> tuple[int, bool]:
    """(about how many more units to collect, whether an even split forced a 60/40 assumption).

    The observed rate is pulled into [0.1, 0.9] so a 2-0 start does not promise a quick answer;
    ``per_unit`` is the share of units that turn out decisive (ties and agreements don't count).
    """
    seen = successes + failures
    rate = successes / seen if seen else 0.5
    assumed = abs(rate - 0.5) < 0.02
    rate = 0.6 if assumed else min(0.9, max(0.1, rate))
    needed_units = decisive_needed(rate) / max(per_unit, 0.01)
    done_units = seen / max(per_unit, 0.01)
    return _about(max(1.0, needed_units - done_units)), assumed


@dataclass(frozen=True)
class PairwiseSummary:
    """Blind pairwise judgements of one variant against another, and what they mean."""

    wins: int
    losses: int
    ties: int
    win_rate: float | None  # among decisive judgements; None if there are none
    low: float
    high: float
    p_value: float
    verdict: str
    more_needed: int | None  # rough extra judgements to reach a verdict; None once decided


def pairwise_summary(
    wins: int, losses: int, ties: int, *, name: str = "B", other: str = "A", alpha: float = ALPHA,
    confidence: float = 0.95,
) -> PairwiseSummary:
    """Summarise judgements where ``name`` won ``wins`` times against ``other`` and lost ``losses``.

    Win rate with a Wilson interval over decisive judgements, the exact sign test, and a verdict.
    """
    if ties < 0:
        raise ValueError("ties cannot be negative")
    decisive = wins + losses
    p = sign_test(wins, losses)
    low, high = wilson_interval(wins, decisive, confidence)
    rate = wins / decisive if decisive else None
    if wins + losses + ties == 0:
        return PairwiseSummary(0, 0, 0, None, low, high, p, "No judgements yet.", None)
    if decisive == 0:
        verdict = f"No decisive judgements yet: all {ties} were ties."
        return PairwiseSummary(wins, losses, ties, None, low, high, p, verdict, None)
    if p < alpha:
        winner, loser = (name, other) if wins > losses else (other, name)
        verdict = f"{winner} is better than {loser} ({format_p(p)})"
        return PairwiseSummary(wins, losses, ties, rate, low, high, p, verdict, None)
    more, assumed = _more_needed(wins, losses, decisive / (decisive + ties))
    target = " to detect a 60/40 preference" if assumed else ""
    verdict = (
        f"No detectable difference ({format_p(p)}); "
        f"collect about {more:,} more judgements{target}"
    )
    return PairwiseSummary(wins, losses, ties, rate, low, high, p, verdict, more)


@dataclass(frozen=True)
class PairedComparison:
    """Two variants' pass/fail on the same test cases, compared case by case."""

    cases: int
    a_passed: int
    b_passed: int
    only_a: int  # cases A passed and B failed
    only_b: int
    p_value: float
    verdict: str
    more_needed: int | None  # rough extra test cases to reach a verdict; None once decided


def paired_pass_comparison(
    a_pass: Sequence[bool], b_pass: Sequence[bool], *, a_name: str = "A", b_name: str = "B",
    alpha: float = ALPHA,
) -> PairedComparison:
    """Exact McNemar test (McNemar 1947; the exact form is a sign test on the discordant pairs):
    only the cases where exactly one variant passed carry information about which is better.
    ``a_pass[i]`` and ``b_pass[i]`` must be the same test case."""
    if len(a_pass) != len(b_pass):
        raise ValueError(
            f"need the same test cases for both: {len(a_pass)} vs {len(b_pass)} results"
        )
    n = len(a_pass)
    only_a = sum(1 for a, b in zip(a_pass, b_pass) if a and not b)
    only_b = sum(1 for a, b in zip(a_pass, b_pass) if b and not a)
    a_passed, b_passed = sum(map(bool, a_pass)), sum(map(bool, b_pass))
    p = sign_test(only_b, only_a)

    def result(verdict: str, more: int | None = None) -> PairedComparison:
        return PairedComparison(n, a_passed, b_passed, only_a, only_b, p, verdict, more)

    if n == 0:
        return result("No test cases to compare.")
    split = f"{only_b} cases pass only with {b_name}, {only_a} only with {a_name}"
    if only_a + only_b == 0:
        return result(
            f"No detectable difference: {a_name} and {b_name} passed and failed the same {n} cases."
        )
    if p < alpha:
        better, worse = (b_name, a_name) if only_b > only_a else (a_name, b_name)
        return result(f"{better} passes more often than {worse}: {split} ({format_p(p)})")
    more, _ = _more_needed(only_b, only_a, (only_a + only_b) / n)
    verdict = f"No detectable difference ({format_p(p)}): {split}; "
    return result(verdict + f"collect about {more:,} more test cases", more)


def percentiles(
    values: Sequence[float], ps: Sequence[float] = (50, 90, 95, 99)
) -> dict[float, float]:
    """Percentiles by linear interpolation between closest ranks: rank h = (n-1)·p/100 (Hyndman &
    Fan 1996, definition 7; the default of NumPy, R and spreadsheets). Empty input gives {}."""
    for p in ps:
        if not 0 <= p <= 100:
            raise ValueError(f"percentile must be between 0 and 100, not {p}")
    ordered = sorted(values)
    if not ordered:
        return {}
    out = {}
    for p in ps:
        h = (len(ordered) - 1) * p / 100
        i = math.floor(h)
        j = min(i + 1, len(ordered) - 1)
        out[p] = ordered[i] + (h - i) * (ordered[j] - ordered[i])
    return out


# --- Consistency across repeated samples -----------------------------------------------------


def normalise_text(sample: Any) -> Hashable:
    """The default sameness: text compared after collapsing whitespace and ignoring case."""
    return " ".join(sample.split()).casefold() if isinstance(sample, str) else sample


def json_field(name: str) -> Callable[[str], Hashable]:
    """A key for ``consistency``: samples agree when a field of their JSON has the same value.

    Outputs that are not JSON (or lack the field) are compared by their normalised text, so two
    identical broken outputs still agree and a broken one never matches a good one.
    """

    def key(sample: str) -> Hashable:
        try:
            data = parse_json_output(sample)
        except ValueError:
            return ("not JSON", normalise_text(sample))
        if not isinstance(data, dict) or name not in data:
            return ("no field", normalise_text(sample))
        return json.dumps(data[name], sort_keys=True, ensure_ascii=False)

    return key


@dataclass(frozen=True)
class Consistency:
    """How often repeated samples of one input agree."""

    n: int  # samples
    distinct: int  # different answers after normalising
    modal_share: float | None  # share of samples giving the most common answer
    pairwise_agreement: float | None  # chance two different samples agree; None below 2 samples


def consistency(
    samples: Sequence[Any], normalise: Callable[[Any], Hashable] = normalise_text
) -> Consistency:
    """Agreement among samples of the same input. ``normalise`` maps a sample to what counts as
    "the same answer": the default compares text ignoring whitespace and case; pass ``json_field
    ("label")``, or a check outcome, to compare what matters. Pairwise agreement is
    Σ c(c-1) / n(n-1) over answer counts c (the probability two samples drawn without
    replacement agree; Simpson's index of the answers)."""
    counts = Counter(normalise(s) for s in samples)
    n = len(samples)
    if n == 0:
        return Consistency(0, 0, None, None)
    modal = max(counts.values()) / n
    pairs = sum(c * (c - 1) for c in counts.values()) / (n * (n - 1)) if n > 1 else None
    return Consistency(n, len(counts), modal, pairs)


@dataclass(frozen=True)
class ConsistencyOverview:
    """Consistency over many inputs: inputs with a single sample are counted but not averaged."""

    inputs: int
    single_sample_inputs: int
    fully_consistent: float | None  # share of inputs where every sample agreed
    mean_modal_share: float | None
    agreement: MeanInterval | None  # mean pairwise agreement with a t interval, clipped to [0, 1]


def consistency_overview(
    per_input: Iterable[Consistency], confidence: float = 0.95
) -> ConsistencyOverview:
    """Aggregate per-input consistency; each input weighs the same, however many samples it has."""
    items = list(per_input)
    rated = [c for c in items if c.n >= 2]
    if not rated:
        return ConsistencyOverview(len(items), len(items) - len(rated), None, None, None)
    agreements = [c.pairwise_agreement for c in rated if c.pairwise_agreement is not None]
    return ConsistencyOverview(
        inputs=len(items),
        single_sample_inputs=len(items) - len(rated),
        fully_consistent=sum(1 for c in rated if c.distinct == 1) / len(rated),
        mean_modal_share=fmean(c.modal_share for c in rated if c.modal_share is not None),
        agreement=mean_ci(agreements, confidence, bounds=(0.0, 1.0)),
    )


# --- Per-variant summary of logged calls -----------------------------------------------------


@dataclass(frozen=True)
class PassRate:
    passed: int
    n: int
    rate: float
    low: float
    high: float


def _pass_rate(passed: int, n: int, confidence: float) -> PassRate:
    low, high = wilson_interval(passed, n, confidence)
    return PassRate(passed, n, passed / n, low, high)


@dataclass(frozen=True)
class VariantSummary:
    """The figures the comparison table and ``lab run --json`` show for one variant."""

    variant: str
    calls: int
    errors: int
    checks: dict[str, PassRate]  # per check, over successful calls that ran it
    overall: PassRate | None  # a call passes overall when every check it ran passed
    score: MeanInterval | None
    tokens: int
    cost_usd: float | None  # None when no call had a known price (unknown is not free)
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    ttft_p50_ms: float | None


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


def variant_summary(records: Iterable[Any], confidence: float = 0.95) -> list[VariantSummary]:
    """Summarise per-call records by variant, in order of first appearance.

    A record is a dict or an object with: ``variant`` (or ``variant_name``), ``status`` ('ok',
    'error', ...; default 'ok'), ``checks`` (name -> passed, or a list of CheckResult), ``score``,
    ``tokens`` (or ``input_tokens``/``output_tokens``, or a ``usage``), ``cost`` (or ``cost_usd``),
    ``latency_ms``, ``ttft_ms``. Pass rates, scores and latencies use successful calls only (a
    failed call has no output to grade, and its latency is the error's); errors are counted
    separately, and cost and tokens include them because they may be billed.
    """
    groups: dict[str, list[Any]] = {}
    for record in records:
        groups.setdefault(str(_get(record, "variant", "variant_name") or ""), []).append(record)
    summaries = []
    for variant, rows in groups.items():
        ok = [r for r in rows if (_get(r, "status") or "ok") == "ok"]
        tallies: dict[str, list[int]] = {}
        overall = [0, 0]
        for r in ok:
            outcomes = _check_outcomes(r)
            for name, passed in outcomes.items():
                tally = tallies.setdefault(name, [0, 0])
                tally[0] += passed
                tally[1] += 1
            if outcomes:
                overall[0] += all(outcomes.values())
                overall[1] += 1
        scores = _floats(ok, "score")
        costs = _floats(rows, "cost", "cost_usd")
        latency = percentiles(_floats(ok, "latency_ms"), (50, 95))
        ttft = percentiles(_floats(ok, "ttft_ms"), (50,))
        summaries.append(
            VariantSummary(
                variant=variant,
                calls=len(rows),
                errors=sum(1 for r in rows if _get(r, "status") == "error"),
                checks={k: _pass_rate(p, n, confidence) for k, (p, n) in tallies.items()},
                overall=_pass_rate(overall[0], overall[1], confidence) if overall[1] else None,
                score=mean_ci(scores, confidence) if scores else None,
                tokens=sum(t for r in rows if (t := _tokens(r)) is not None),
                cost_usd=sum(costs) if costs else None,
                latency_p50_ms=latency.get(50),
                latency_p95_ms=latency.get(95),
                ttft_p50_ms=ttft.get(50),
            )
        )
    return summaries
