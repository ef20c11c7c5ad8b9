"""Significance: is B really better than A, or is the difference noise — and how much more data
would tell.

The exact sign test for blind pairwise judgements, the exact McNemar test for two variants'
pass/fail on the same test cases, and a verdict in plain words with "collect about N more" when
undecided. Significance is judged at ``alpha = 0.05`` unless the caller says otherwise. Pairwise
ties are excluded from win rates and from the sign test (the sign test's own rule) and reported
beside them, so the win rate reads "of the judgements that picked a side".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

from lab.core.analysis.distributions import betainc
from lab.core.analysis.intervals import wilson_interval

ALPHA = 0.05
POWER = 0.8  # the conventional power for the "collect about N more" hint


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
