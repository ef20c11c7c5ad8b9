"""Confidence intervals and percentiles: how sure a rate, a mean or a difference is.

Wilson intervals for pass rates, Student-t intervals for mean scores, Newcombe's interval for the
difference of two rates, and interpolated percentiles for latency and cost. Standard library only;
every function names its method and where the formula comes from, so a user who doubts a figure
can look it up. ``confidence`` is two-sided (0.95 means a 95% interval).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist, fmean

from lab.core.analysis.distributions import t_quantile


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


def sample_sd(values: Sequence[float], mean: float | None = None) -> float:
    """Sample standard deviation (n − 1), in floating point with the two-pass formula: the
    standard library's `statistics.stdev` computes in exact fractions, 100× slower, for digits
    no interval needs. Needs two or more values."""
    m = fmean(values) if mean is None else mean
    deviations = list(map(float(m).__rsub__, values))  # x - m, looped in C: it runs per pair
    return math.sqrt(math.fsum(map(operator.mul, deviations, deviations)) / (len(values) - 1))


@dataclass(frozen=True)
class MeanInterval:
    """A mean with its confidence interval; low/high are None with fewer than two values."""

    mean: float
    low: float | None
    high: float | None
    n: int


def mean_ci(
    values: Sequence[float], confidence: float = 0.95, bounds: tuple[float, float] | None = None,
    *, mean: float | None = None, sd: float | None = None,
) -> MeanInterval:
    """Mean with a Student-t interval: mean ± t(1-α/2, n-1) · s/√n (Student 1908; any
    statistics textbook). ``bounds`` clips the interval to the possible range, e.g. (1, 5) for
    ratings. ``mean`` and ``sd``: the values' mean and sample SD, when the caller has them.
    Raises ValueError for no values: there is no mean to report."""
    n = len(values)
    if n == 0:
        raise ValueError("mean_ci needs at least one value")
    mean = fmean(values) if mean is None else mean
    if n == 1:
        return MeanInterval(mean, None, None, 1)
    sd = sample_sd(values, mean) if sd is None else sd
    half = t_quantile(1 - (1 - confidence) / 2, n - 1) * sd / math.sqrt(n)
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
