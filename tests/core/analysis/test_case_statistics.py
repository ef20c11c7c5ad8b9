"""Statistics with the test case as the unit, paired A/B verdicts and Cohen's kappa, on data where
the right answer is known and worked out here by hand."""

from __future__ import annotations

import math

import pytest

from lab.core.analysis.clustered import WILSON, case_mean, case_proportion
from lab.core.analysis.distributions import t_cdf
from lab.core.analysis.intervals import mean_ci, wilson_interval
from lab.core.analysis.kappa import cohen_kappa, describe
from lab.core.analysis.paired import (
    CLUSTERED_MCNEMAR,
    MCNEMAR,
    compare_pass,
    compare_scores,
    paired_t_p,
)
from lab.core.analysis.summary import variant_summary

approx = pytest.approx

# --- pass rates over cases ---------------------------------------------------------------------


def test_one_sample_per_case_is_plain_wilson_over_cases():
    p = case_proportion([(1, 1)] * 8 + [(0, 1)] * 2)
    assert (p.value, p.cases, p.samples, p.method) == (0.8, 10, 10, WILSON)
    assert (p.low, p.high) == wilson_interval(8, 10)
    assert p.design_effect == 1.0 and p.effective_n == 10


def test_effective_n_worked_by_hand():
    # 4 cases × 3 samples; fractions 1, 1, 0, 1/3
    p = case_proportion([(3, 3), (3, 3), (0, 3), (1, 3)])
    mean = (1 + 1 + 0 + 1 / 3) / 4  # 0.5833
    s2 = sum((f - mean) ** 2 for f in (1, 1, 0, 1 / 3)) / 3  # 0.25
    deff = (s2 / 4) / (mean * (1 - mean) / 12)  # 0.0625 / 0.020255 = 3.086
    assert s2 == approx(0.25) and deff == approx(3.0857, abs=1e-4)
    assert p.value == approx(mean) and p.design_effect == approx(deff)
    assert p.effective_n == approx(12 / deff)
    assert (p.low, p.high) == approx(wilson_interval(mean * 12 / deff, 12 / deff))
    assert (p.passed, p.samples, p.cases) == (7, 12, 4)


def test_clustered_interval_is_wider_when_samples_of_a_case_agree():
    # 12 cases × 3 samples, 24 of 36 outputs pass either way
    agree = case_proportion([(3, 3)] * 8 + [(0, 3)] * 4)  # samples of a case agree
    mixed = case_proportion([(2, 3)] * 12)  # every case passes 2 of 3
    naive = wilson_interval(24, 36)  # what counting outputs as independent would claim
    width = lambda p: p.high - p.low
    assert agree.value == mixed.value == approx(2 / 3)
    # fractions 0/1: deff = 3k/(k-1) = 36/11, so the interval counts 11, not 36
    assert agree.design_effect == approx(36 / 11) and agree.effective_n == approx(11)
    assert width(agree) > naive[1] - naive[0]
    assert width(agree) == approx(wilson_interval(2 / 3 * 11, 11)[1] - wilson_interval(
        2 / 3 * 11, 11)[0])
    # no spread between cases: the design effect stays at its floor of 1
    assert mixed.design_effect == 1.0 and (mixed.low, mixed.high) == approx(naive)


def test_all_passing_or_a_single_case_counts_cases_not_samples():
    every = case_proportion([(3, 3)] * 5)
    assert every.effective_n == 5 and every.low == approx(wilson_interval(5, 5)[0])
    single = case_proportion([(2, 4)])
    assert single.effective_n == 1 and single.cases == 1
    assert case_proportion([]) is None and case_proportion([(0, 0)]) is None


def test_case_mean_averages_case_means():
    m = case_mean([4.0, 5.0, 3.0])
    assert m == mean_ci([4.0, 5.0, 3.0]) and m.n == 3
    assert case_mean([]) is None


def test_run_summary_treats_the_case_as_the_unit():
    # 4 cases × 3 samples: A passes cases 0-2 always and case 3 never
    records = [{"variant": "A", "case_index": c, "checks": {"ok": c < 3}, "score": 5 if c < 3
                else 1} for c in range(4) for _ in range(3)]
    [a] = variant_summary(records)
    assert a.overall.rate == 0.75 and (a.overall.passed, a.overall.n, a.overall.cases) == (9, 12, 4)
    expected = case_proportion([(3, 3)] * 3 + [(0, 3)])
    assert (a.overall.low, a.overall.high) == (expected.low, expected.high)
    assert a.overall.low < wilson_interval(9, 12)[0]  # wider than 12 independent outputs
    assert a.score.n == 4 and a.score.mean == 4.0


# --- paired A/B ------------------------------------------------------------------------------


def test_exact_mcnemar_on_discordant_cases():
    # 12 cases: B alone passes 9, A alone passes none, 3 ties
    pairs = [(0.0, 1.0)] * 9 + [(1.0, 1.0)] * 2 + [(0.0, 0.0)]
    d = compare_pass(pairs)
    assert d.test == MCNEMAR and (d.b_higher, d.a_higher, d.ties) == (9, 0, 3)
    assert d.p_value == approx(2 / 2**9)  # both tails of 9-0 under Binomial(9, 1/2)
    assert d.difference == approx(0.75) and d.significant
    ci = mean_ci([1.0] * 9 + [0.0] * 3, bounds=(-1.0, 1.0))
    assert (d.low, d.high) == approx((ci.low, ci.high))
    assert d.verdict.startswith("B passes more often than A: +75 points (95% CI +")
    assert d.verdict.endswith("p = 0.004")


def test_undecided_pass_rates_say_how_many_more_cases():
    pairs = [(0.0, 1.0)] * 5 + [(1.0, 0.0)] * 3 + [(1.0, 1.0)] * 4
    d = compare_pass(pairs)
    assert d.p_value == approx(2 * (1 + 8 + 28 + 56) / 256)  # P(X <= 3) of Binomial(8, 1/2)
    assert not d.significant and d.more_needed
    assert d.verdict.startswith("No detectable difference (p = 0.73)")
    assert d.verdict.endswith("more test cases would settle it")


def test_clustered_pass_comparison_uses_the_sign_test_on_cases():
    # 3 samples per case: B's pass fraction is higher on 7 cases, lower on 1
    pairs = [(1 / 3, 1.0)] * 7 + [(1.0, 2 / 3)] + [(0.5, 0.5)] * 2
    d = compare_pass(pairs, a="old", b="new", single_sample=False)
    assert d.test == CLUSTERED_MCNEMAR and "generalised" in d.test
    assert (d.b_higher, d.a_higher, d.ties) == (7, 1, 2)
    assert d.p_value == approx(2 * 9 / 256)  # P(X <= 1) of Binomial(8, 1/2), doubled


def test_paired_t_on_score_differences():
    pairs = [(3.0, 4.0), (3.0, 5.0), (2.0, 5.0), (1.0, 5.0)]  # differences 1, 2, 3, 4
    d = compare_scores(pairs, "human score", a="A", b="B")
    t = 2.5 / (math.sqrt(5 / 3) / 2)  # mean 2.5, sd √(5/3), n 4: t = 3.873
    assert d.p_value == approx(2 * (1 - t_cdf(t, 3))) and d.p_value == approx(0.0305, abs=5e-4)
    assert d.difference == 2.5 and d.significant
    assert d.verdict.startswith("B scores higher on human score than A: +2.50 (95% CI +")
    assert paired_t_p([0.0, 0.0]) == 1.0 and paired_t_p([1.0]) == 1.0


# --- Cohen's kappa ----------------------------------------------------------------------------


def _pairs(table, cats):
    return [(cats[i], cats[j]) for i, row in enumerate(table) for j, n in enumerate(row)
            for _ in range(n)]


def test_unweighted_kappa_textbook_example():
    # the classic 50 items: yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> p_o 0.7, p_e 0.5
    k = cohen_kappa(_pairs([[20, 5], [10, 15]], (True, False)), (True, False))
    assert (k.observed, k.expected, k.value) == (approx(0.7), approx(0.5), approx(0.4))
    assert k.table == ((20, 5), (10, 15)) and k.n == 50
    # Fleiss, Cohen & Everitt's variance for the unweighted case, written out
    p = [[0.4, 0.1], [0.2, 0.3]]
    rows, cols = [0.5, 0.5], [0.6, 0.4]
    diag = sum(p[i][i] * (1 - (rows[i] + cols[i]) * 0.6) ** 2 for i in range(2))
    off = 0.6 ** 2 * (p[0][1] * (cols[0] + rows[1]) ** 2 + p[1][0] * (cols[1] + rows[0]) ** 2)
    var = (diag + off - (0.4 - 0.5 * 0.6) ** 2) / (50 * 0.25)
    z = 1.959963984540054
    assert (k.low, k.high) == (approx(0.4 - z * math.sqrt(var)), approx(0.4 + z * math.sqrt(var)))
    assert describe(k.value) == "fair"


def test_quadratic_weighted_kappa_equals_the_moment_formula():
    # quadratic-weighted kappa = 2 cov(x, y) / (var x + var y + (mean x - mean y)^2)
    pairs = [(1, 1), (2, 2), (3, 2), (4, 5), (5, 5), (2, 3), (4, 4), (1, 2), (5, 4), (3, 3)]
    k = cohen_kappa(pairs, range(1, 6), "quadratic")
    xs, ys = [a for a, _ in pairs], [b for _, b in pairs]
    mx, my = sum(xs) / 10, sum(ys) / 10
    cov = sum((x - mx) * (y - my) for x, y in pairs) / 10
    vx, vy = sum((x - mx) ** 2 for x in xs) / 10, sum((y - my) ** 2 for y in ys) / 10
    assert k.value == approx(2 * cov / (vx + vy + (mx - my) ** 2))
    assert k.weights == "quadratic" and k.low < k.value < k.high
    assert k.warnings == (
        "Only 10 output(s) have both ratings; fewer than 30 are too few to trust this agreement.",)
    noisy = cohen_kappa(_pairs([[10, 5], [5, 10]], (True, False)), (True, False))
    assert noisy.n == 30 and noisy.value == approx(1 / 3)
    assert noisy.warnings == (("The interval is ±0.34 wide (more than ±0.2): rate more outputs "
                               "to pin the agreement down."),)


def test_kappa_edge_cases():
    perfect = cohen_kappa([(1, 1), (2, 2)] * 20, (1, 2))
    assert perfect.value == 1.0 and not any("fewer" in w for w in perfect.warnings)
    same = cohen_kappa([(True, True)] * 5, (True, False))
    assert same.value is None and "undefined" in same.warnings[0]
    assert cohen_kappa([], (1, 2)).n == 0
    with pytest.raises(ValueError):
        cohen_kappa([(7, 1)], range(1, 6))


def test_enough_cases_and_no_difference_says_the_difference_is_small():
    d = compare_pass([(0.0, 1.0)] * 100 + [(1.0, 0.0)] * 100 + [(1.0, 1.0)] * 800)
    assert d.more_needed is None and d.p_value == 1.0
    assert d.verdict.endswith("with 1,000 cases any real difference is small (95% CI -3 to +3)")
    s = compare_scores([(3.0, 3.1), (3.0, 2.9)] * 500, "judge score")
    assert s.more_needed is None and "any real difference is small" in s.verdict
