"""Statistics that respect the design of a run: the test case is the unit, not the output.

A run samples each test case several times. Samples of one case are not independent (a prompt
that fails a hard case tends to fail it every time), so 12 cases × 3 samples do not carry the
information of 36 independent outputs. Every figure here is built from per-case values first,
then summarised across cases:

* **Pass rate** (`case_proportion`): each case's pass fraction (passed samples / samples), then
  the mean over cases, so every case weighs the same however many samples it has.

  Its 95% interval is the Wilson score interval (Wilson 1927). When every case has exactly one
  sample that is the whole story: Wilson over the cases. With several samples per case the
  Wilson interval is computed with an *effective sample size* in place of the number of outputs
  (Kish 1965, "Survey Sampling", §8.2; Korn & Graubard 1998, "Confidence intervals for
  proportions with small expected number of positive counts estimated from survey data"):

      design effect  deff  = Var_cases(p̂) / Var_srs(p̂),  never below 1
      Var_cases(p̂)  = s² / k      (s²: sample variance of the k case fractions)
      Var_srs(p̂)    = p̂(1 − p̂) / n (n: all samples, as if they were independent)
      effective n    n_eff = n / deff

  When samples of a case agree with each other, the case fractions spread out (0 or 1), the
  design effect grows towards the number of samples per case and n_eff falls towards the number
  of cases: the interval is as wide as the number of cases allows. When samples disagree within
  cases as much as across them, deff is 1 and the samples count in full.

  Two edge cases are settled conservatively: with a single case, or with every output passing
  (or none), the spread between cases says nothing, so n_eff is the number of cases (Korn &
  Graubard would count every output there; a lab verdict should not rest on repeated samples of
  the same few inputs). The degrees-of-freedom correction Korn & Graubard add for few clusters
  is not applied.

* **Mean score** (`case_mean`): each case's mean score over its samples, then the mean of those
  with a Student-t interval over the case means (n = cases, df = cases − 1).

Standard library only.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lab.core.analysis.intervals import (
    MeanInterval,
    mean_ci,
    wilson_interval,
)

WILSON = "Wilson over cases"
WILSON_EFFECTIVE_N = "Wilson with the effective sample size (Kish design effect)"


@dataclass(frozen=True)
class CaseProportion:
    """A rate over test cases (the mean of each case's fraction) with its interval."""

    value: float
    low: float
    high: float
    cases: int
    samples: int  # outputs behind the figure
    passed: int  # outputs that passed
    design_effect: float  # 1 when every case has one sample
    effective_n: float  # n / design effect: what the interval counts
    method: str


def _wilson(rate: float, n: float, confidence: float) -> tuple[float, float]:
    """Wilson's interval for a rate observed over a (possibly fractional) effective n."""
    successes = min(n, max(0.0, rate * n))
    if rate <= 0:
        successes = 0
    elif rate >= 1:
        successes = n
    return wilson_interval(successes, n, confidence)


def case_proportion(
    counts: Iterable[tuple[int, int]], confidence: float = 0.95
) -> CaseProportion | None:
    """The pass rate of (passed, samples) pairs, one per test case; cases with no samples are
    left out. None when there is no case at all. See the module's docstring for the method."""
    cases = [(int(p), int(n)) for p, n in counts if n > 0]
    k = len(cases)
    if k == 0:
        return None
    for p, n in cases:
        if not 0 <= p <= n:
            raise ValueError(f"a case cannot pass {p} of {n} samples")
    fractions = [p / n for p, n in cases]
    return case_proportion_of_sums(
        CaseSums(k, sum([n for _, n in cases]), sum([p for p, _ in cases]), math.fsum(fractions),
                 math.fsum(map(operator.mul, fractions, fractions))), confidence)


@dataclass(frozen=True)
class CaseSums:
    """What a case-as-unit pass rate needs of its cases, summed (SQL can sum them for a whole
    variant without handing over a row per case): cases with samples, samples, passed
    samples, and the sum and the sum of squares of the case fractions (passed / samples)."""

    cases: int
    samples: int
    passed: int
    fraction_sum: float
    fraction_squares: float


def case_proportion_of_sums(sums: CaseSums, confidence: float = 0.95) -> CaseProportion | None:
    """`case_proportion` from the sums of its cases. None when there is no case."""
    k, total, passed = sums.cases, sums.samples, sums.passed
    if k == 0:
        return None
    if total == k:  # every case has exactly one sample (each has at least one)
        low, high = wilson_interval(passed, k, confidence)
        return CaseProportion(passed / k, low, high, k, total, passed, 1.0, float(k), WILSON)
    value = sums.fraction_sum / k
    if passed == 0:
        value = 0.0
    elif passed == total:
        value = 1.0
    if k == 1 or value <= 0 or value >= 1:
        deff = total / k  # no between-case information: count cases, not outputs
    else:
        # sample variance of the fractions from their sums (fractions lie in [0, 1]: no
        # cancellation worth a second pass), never below 0 by rounding
        variance = max(0.0, (sums.fraction_squares - k * value * value) / (k - 1))
        between = variance / k
        independent = value * (1 - value) / total
        deff = max(1.0, between / independent)
    effective = total / deff
    low, high = _wilson(value, effective, confidence)
    return CaseProportion(value, low, high, k, total, passed, deff, effective, WILSON_EFFECTIVE_N)


def case_mean(
    case_means: Sequence[float], confidence: float = 0.95,
    bounds: tuple[float, float] | None = None,
) -> MeanInterval | None:
    """The mean of per-case mean scores with a t interval over cases (n = cases). None for no
    case; low/high are None for a single case."""
    values = [float(v) for v in case_means if v is not None]
    if not values:
        return None
    return mean_ci(values, confidence, bounds)


def group_by_case(values: Iterable[tuple[object, float]]) -> list[float]:
    """Per-case means of (case key, value) pairs, in order of each case's first value."""
    sums: dict[object, list[float]] = {}
    for case, value in values:
        entry = sums.setdefault(case, [0.0, 0])
        entry[0] += value
        entry[1] += 1
    return [s / n for s, n in sums.values()]
