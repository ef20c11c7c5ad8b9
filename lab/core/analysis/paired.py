"""A/B verdicts paired by test case: is B really better than A on the same inputs?

Both variants ran the same test cases, so each case is compared with itself and only the
differences between the variants remain (the case's difficulty cancels out):

* **Pass/fail** (`compare_pass`): per case, each variant's pass fraction. With one sample per
  case this is the exact McNemar test (McNemar 1947; its exact form is the sign test on the
  discordant cases, where exactly one variant passed). With several samples per case the same
  exact sign test runs on the cases where one variant's pass fraction is higher than the
  other's: the generalisation of McNemar's test to clustered data (the case is the unit, ties are
  left out as McNemar leaves out concordant pairs). The difference in pass rate is the mean of
  the per-case differences, with a Student-t interval over cases.
* **Scores** (`compare_scores`): per case, each variant's mean score; the paired t-test and
  t-interval of the per-case differences (Student 1908), df = cases − 1.

Each result carries a verdict a user reads: "B passes more often than A: +18 points (95% CI +6
to +30), p = 0.004", or "No detectable difference (p = 0.41); about 40 more test cases would
settle it" (the sample size for 80% power at the observed effect, pulled towards a modest one so
a lucky start promises nothing, as `significance` does), or, when the cases done would already
have shown a modest effect, "with 1,000 cases any real difference is small (95% CI −1 to +2)".
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist, fmean

from lab.core.analysis.distributions import t_cdf
from lab.core.analysis.intervals import mean_ci, sample_sd
from lab.core.analysis.significance import (
    ALPHA,
    POWER,
    _about,
    decisive_needed,
    format_p,
    sign_test,
)

MCNEMAR = "exact McNemar test (sign test on the cases where exactly one variant passed)"
CLUSTERED_MCNEMAR = ("exact sign test on the cases where one variant's pass fraction is higher "
                     "(McNemar's test generalised to several samples per case)")
PAIRED_T = "paired t-test on the per-case difference of mean scores"


@dataclass(frozen=True)
class PairedDifference:
    """B − A on one measure over the cases both variants have, and what it means."""

    measure: str  # "pass rate", "judge score", "human score"
    a: str
    b: str
    cases: int  # paired cases
    a_value: float | None  # mean over the paired cases
    b_value: float | None
    difference: float | None  # B − A (pass rate as a fraction: 0.18 is 18 points)
    low: float | None
    high: float | None
    p_value: float
    test: str
    b_higher: int  # cases where B did better
    ties: int
    a_higher: int
    significant: bool
    verdict: str
    more_needed: int | None  # about how many more test cases would settle it; None once decided


def _signed(value: float, points: bool) -> str:
    return f"{value * 100:+.0f}" if points else f"{value:+.2f}"


def _interval(low: float | None, high: float | None, points: bool, flip: bool) -> str:
    if low is None or high is None:
        return ""
    if flip:
        low, high = -high, -low
    return f" (95% CI {_signed(low, points)} to {_signed(high, points)})"


def _verdict(measure: str, a: str, b: str, diff: float, low: float | None, high: float | None,
             p: float, points: bool) -> str:
    better, worse, flip = (b, a, False) if diff > 0 else (a, b, True)
    amount = _signed(abs(diff), points) + (" points" if points else "")
    what = "passes more often than" if points else f"scores higher on {measure} than"
    return f"{better} {what} {worse}: {amount}{_interval(low, high, points, flip)}, {format_p(p)}"


def _undecided(p: float, more: int | None, note: str = "") -> str:
    text = f"No detectable difference ({format_p(p)})"
    if note:
        text += f": {note}"
    if more:
        text += f"; about {more:,} more test case{'s' if more != 1 else ''} would settle it"
    return text


def _small(k: int, low: float | None, high: float | None, points: bool) -> str:
    """The verdict's note when the cases already suffice to detect a modest effect."""
    where = _interval(low, high, points, False).strip(" ()")
    return f"with {k:,} cases any real difference is small ({where})" if where else \
        f"with {k:,} cases any real difference is small"


def _pass_cases_needed(b_higher: int, a_higher: int, k: int) -> int | None:
    """More test cases for 80% power at the observed split of the decisive cases (pulled into
    60/40–90/10, as `significance`), or None when the cases done already suffice."""
    seen = b_higher + a_higher
    rate = b_higher / seen
    rate = 0.6 if abs(rate - 0.5) < 0.02 else min(0.9, max(0.1, rate))
    needed = decisive_needed(rate) / max(seen / k, 0.01)
    return _about(needed - k) if needed > k else None


def _columns(pairs: Sequence[tuple[float, float]]) -> tuple[Sequence[float], Sequence[float]]:
    """The A values and the B values of (A, B) pairs (transposed in C: 45 comparisons of a
    large run pair 1,000 cases each, three measures over)."""
    if not pairs:
        return (), ()
    a_values, b_values = zip(*pairs)
    return a_values, b_values


def _signs(diffs: Sequence[float]) -> tuple[int, int]:
    """How many differences are positive (B higher) and how many negative (A higher)."""
    return sum(map(_ZERO.__lt__, diffs)), sum(map(_ZERO.__gt__, diffs))


_ZERO = 0.0


def compare_pass(
    pairs: Sequence[tuple[float, float]], *, a: str = "A", b: str = "B", single_sample: bool = True,
    alpha: float = ALPHA, confidence: float = 0.95,
) -> PairedDifference:
    """Pass fractions (A, B) per test case both variants have. ``single_sample``: every case had
    one sample each (the test is then exactly McNemar's)."""
    a_values, b_values = _columns(pairs)
    return compare_pass_columns(a_values, b_values, a=a, b=b, single_sample=single_sample,
                                alpha=alpha, confidence=confidence)


def compare_pass_columns(
    a_values: Sequence[float], b_values: Sequence[float], *, a: str = "A", b: str = "B",
    single_sample: bool = True, alpha: float = ALPHA, confidence: float = 0.95,
) -> PairedDifference:
    """`compare_pass` of the A values and the B values, case i of each paired."""
    k = len(a_values)
    test = MCNEMAR if single_sample else CLUSTERED_MCNEMAR
    # of finite floats, fb > fa exactly when fb - fa > 0
    diffs = list(map(operator.sub, b_values, a_values))
    b_higher, a_higher = _signs(diffs)
    ties = k - b_higher - a_higher
    p = sign_test(b_higher, a_higher)
    if k == 0:
        return PairedDifference("pass rate", a, b, 0, None, None, None, None, None, 1.0, test,
                                0, 0, 0, False, "No test cases graded for both variants.", None)
    a_value, b_value = fmean(a_values), fmean(b_values)
    ci = mean_ci(diffs, confidence, bounds=(-1.0, 1.0))
    diff = ci.mean
    significant = p < alpha and diff != 0
    if significant:
        verdict, more = _verdict("pass rate", a, b, diff, ci.low, ci.high, p, True), None
    elif b_higher + a_higher == 0:
        verdict, more = (f"No detectable difference: {a} and {b} did equally well on each of the "
                         f"{k} cases"), None
    else:
        more = _pass_cases_needed(b_higher, a_higher, k)
        split = f"{b_higher} case(s) favour {b}, {a_higher} favour {a}"
        if more is None:
            split += "; " + _small(k, ci.low, ci.high, True)
        verdict = _undecided(p, more, split)
    return PairedDifference("pass rate", a, b, k, a_value, b_value, diff, ci.low, ci.high, p,
                            test, b_higher, ties, a_higher, significant, verdict, more)


def paired_t_p(diffs: Sequence[float], mean: float | None = None,
               sd: float | None = None) -> float:
    """Two-sided p of the paired t-test that the mean difference is 0 (df = n − 1).
    ``mean`` and ``sd``: the differences' mean and sample SD when the caller has them."""
    n = len(diffs)
    if n < 2:
        return 1.0
    mean = fmean(diffs) if mean is None else mean
    sd = sample_sd(diffs, mean) if sd is None else sd
    if sd == 0:
        return 1.0 if mean == 0 else 0.0
    t = mean / (sd / math.sqrt(n))
    return min(1.0, 2 * (1 - t_cdf(abs(t), n - 1)))


def _score_cases_needed(diffs: Sequence[float], alpha: float = ALPHA,
                        power: float = POWER, mean: float | None = None,
                        sd: float | None = None) -> int | None:
    """Cases a paired t-test needs for the observed effect (standardised, clamped to 0.2–0.8 so a
    lucky or unlucky start does not decide), by the normal approximation, minus those done;
    None when the cases done already suffice."""
    mean = fmean(diffs) if mean is None else mean
    if sd is None:
        sd = sample_sd(diffs, mean) if len(diffs) > 1 else 0.0
    effect = abs(mean) / sd if sd > 0 else 0.2
    effect = min(0.8, max(0.2, effect))
    za, zb = NormalDist().inv_cdf(1 - alpha / 2), NormalDist().inv_cdf(power)
    needed = ((za + zb) / effect) ** 2 + za * za / 2
    return _about(needed - len(diffs)) if needed > len(diffs) else None


def compare_scores(
    pairs: Sequence[tuple[float, float]], measure: str, *, a: str = "A", b: str = "B",
    alpha: float = ALPHA, confidence: float = 0.95,
) -> PairedDifference:
    """Mean scores (A, B) per test case both variants have: the paired t-test."""
    a_values, b_values = _columns(pairs)
    return compare_scores_columns(a_values, b_values, measure, a=a, b=b, alpha=alpha,
                                  confidence=confidence)


def compare_scores_columns(
    a_values: Sequence[float], b_values: Sequence[float], measure: str, *, a: str = "A",
    b: str = "B", alpha: float = ALPHA, confidence: float = 0.95,
) -> PairedDifference:
    """`compare_scores` of the A values and the B values, case i of each paired."""
    k = len(a_values)
    if k == 0:
        return PairedDifference(measure, a, b, 0, None, None, None, None, None, 1.0, PAIRED_T,
                                0, 0, 0, False, f"No test case has a {measure} for both variants.",
                                None)
    diffs = list(map(operator.sub, b_values, a_values))
    mean = fmean(diffs)
    sd = sample_sd(diffs, mean) if k > 1 else 0.0
    ci = mean_ci(diffs, confidence, mean=mean, sd=sd)
    p = paired_t_p(diffs, mean, sd)
    b_higher, a_higher = _signs(diffs)
    a_value, b_value = fmean(a_values), fmean(b_values)
    significant = k >= 2 and p < alpha and ci.mean != 0
    if significant:
        verdict, more = _verdict(measure, a, b, ci.mean, ci.low, ci.high, p, False), None
    else:
        more = _score_cases_needed(diffs, mean=mean, sd=sd)
        note = "" if k >= 2 else "only one case scored for both"
        if more is None:
            note = _small(k, ci.low, ci.high, False)
        verdict = _undecided(p, more, note)
    return PairedDifference(measure, a, b, k, a_value, b_value, ci.mean, ci.low, ci.high, p,
                            PAIRED_T, b_higher, k - b_higher - a_higher, a_higher, significant,
                            verdict, more)
