"""Statistics checked against textbook values, edge cases, and the verdicts a user reads."""

from __future__ import annotations

import math

import pytest
from lab.core.analysis.consistency import (
    Consistency,
    consistency,
    consistency_overview,
    json_field,
)
from lab.core.analysis.distributions import betainc, t_cdf, t_quantile
from lab.core.analysis.intervals import (
    mean_ci,
    percentiles,
    proportion_diff_ci,
    wilson_interval,
)
from lab.core.analysis.significance import (
    decisive_needed,
    format_p,
    paired_pass_comparison,
    pairwise_summary,
    sign_test,
)
from lab.core.analysis.summary import variant_summary
from lab.core.checks.result import CheckResult
from lab.core.model import Call, Usage

approx = pytest.approx

# --- Wilson ---------------------------------------------------------------------------------


def test_wilson_textbook_value_for_8_of_10():
    low, high = wilson_interval(8, 10)
    assert (low, high) == (approx(0.4902, abs=5e-4), approx(0.9433, abs=5e-4))


def test_wilson_all_or_nothing_has_exact_ends_and_closed_form_other_end():
    z2 = 1.959964**2
    assert wilson_interval(0, 10) == (0.0, approx(z2 / (10 + z2), abs=1e-6))  # 0.2775
    assert wilson_interval(10, 10) == (approx(10 / (10 + z2), abs=1e-6), 1.0)


def test_wilson_no_data_is_the_whole_range_and_more_data_narrows_it():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    widths = [h - lo for lo, h in (wilson_interval(8 * k, 10 * k) for k in (1, 10, 100))]
    assert widths[0] > widths[1] > widths[2]
    lo99, hi99 = wilson_interval(8, 10, confidence=0.99)
    assert lo99 < 0.4902 and hi99 > 0.9433


def test_wilson_rejects_impossible_counts():
    with pytest.raises(ValueError):
        wilson_interval(11, 10)
    with pytest.raises(ValueError):
        wilson_interval(1, 10, confidence=95)


# --- t distribution ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "p, df, table",
    [
        (0.975, 1, 12.706),
        (0.975, 2, 4.303),
        (0.975, 5, 2.571),
        (0.975, 30, 2.042),
        (0.995, 10, 3.169),
        (0.95, 2, 2.920),
        (0.9995, 1, 636.619),
        (0.975, 1_000_000, 1.960),
    ],
)
def test_t_quantile_matches_the_printed_table(p, df, table):
    assert t_quantile(p, df) == approx(table, abs=1e-3)


def test_t_quantile_matches_closed_forms_and_is_symmetric():
    for p in (0.6, 0.9, 0.975, 0.999):
        assert t_quantile(p, 1) == approx(math.tan(math.pi * (p - 0.5)), rel=1e-8)
        assert t_quantile(p, 2) == approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-8)
        assert t_quantile(1 - p, 7) == approx(-t_quantile(p, 7), rel=1e-9)
    assert t_cdf(0.0, 3) == 0.5
    assert t_cdf(t_quantile(0.9, 4), 4) == approx(0.9, abs=1e-9)


def test_incomplete_beta_known_identities():
    assert betainc(1, 1, 0.3) == approx(0.3)
    assert betainc(3, 1, 0.5) == approx(0.125)  # I_x(a, 1) = x^a
    assert betainc(4.5, 4.5, 0.5) == approx(0.5)
    assert (betainc(2, 3, 0), betainc(2, 3, 1)) == (0.0, 1.0)


# --- mean with t interval -----------------------------------------------------------------------


def test_mean_ci_hand_computed():
    # mean 3, s = 1.5811, s/sqrt(5) = 0.7071, t(0.975, 4) = 2.7764 -> ±1.9632
    ci = mean_ci([1, 2, 3, 4, 5])
    assert (ci.mean, ci.n) == (3, 5)
    assert (ci.low, ci.high) == (approx(1.0368, abs=1e-4), approx(4.9632, abs=1e-4))


def test_mean_ci_clips_to_the_possible_range():
    ci = mean_ci([5, 5, 4, 5], bounds=(1, 5))
    assert ci.high == 5 and ci.low < 5


def test_mean_ci_single_value_has_no_interval_and_empty_is_an_error():
    assert mean_ci([4.0]) == mean_ci([4.0], bounds=(1, 5))
    assert (mean_ci([4.0]).low, mean_ci([4.0]).high) == (None, None)
    with pytest.raises(ValueError, match="at least one value"):
        mean_ci([])


def test_mean_ci_identical_values_has_zero_width():
    ci = mean_ci([3, 3, 3])
    assert (ci.low, ci.mean, ci.high) == (3, 3, 3)


# --- difference of proportions (Newcombe) -------------------------------------------------------


def test_newcombe_hybrid_score_matches_the_papers_examples():
    # Newcombe (1998), Table II, method 10
    assert proportion_diff_ci(48, 80, 56, 70) == (
        approx(0.2),
        approx(0.0524, abs=1e-4),
        approx(0.3339, abs=1e-4),
    )
    assert proportion_diff_ci(3, 10, 9, 10) == (
        approx(0.6),
        approx(0.1705, abs=1e-4),
        approx(0.8090, abs=1e-4),
    )


def test_newcombe_direction_is_b_minus_a():
    diff, low, high = proportion_diff_ci(56, 70, 48, 80)
    assert (diff, low, high) == (approx(-0.2), approx(-0.3339, abs=1e-4), approx(-0.0524, abs=1e-4))
    with pytest.raises(ValueError):
        proportion_diff_ci(1, 0, 1, 2)


# --- sign test and pairwise verdicts --------------------------------------------------------------


def test_sign_test_exact_values():
    assert sign_test(9, 1) == approx(0.021484375)  # 2 * 11 / 1024
    assert sign_test(1, 9) == sign_test(9, 1)
    assert sign_test(10, 0) == approx(2 / 1024)
    assert sign_test(5, 5) == 1.0
    assert sign_test(0, 0) == 1.0


def test_sign_test_handles_thousands_of_judgements():
    assert sign_test(1000, 1000) == 1.0
    assert sign_test(600, 400) < 1e-9
    # above 5,000 the tail comes from the incomplete beta; it must agree with the exact sum
    # (the expected value was computed with the exact integer sum)
    assert 2 * betainc(9, 2, 0.5) == approx(sign_test(9, 1), rel=1e-12)
    assert sign_test(50_000, 49_000) == approx(0.0014980826229749737, rel=1e-9)


def test_format_p_reads_naturally():
    assert [format_p(p) for p in (0.41, 0.0215, 0.003, 0.0004, 1.0)] == [
        "p = 0.41",
        "p = 0.021",
        "p = 0.003",
        "p < 0.001",
        "p = 1.00",
    ]


def test_pairwise_clear_winner_is_named_with_p_value_and_ties_excluded():
    s = pairwise_summary(9, 1, 5)
    assert s.verdict == "B is better than A (p = 0.021)"
    assert s.win_rate == 0.9  # of the 10 decisive judgements; the 5 ties are reported, not counted
    assert (s.low, s.high) == wilson_interval(9, 10)
    assert s.more_needed is None


def test_pairwise_loser_direction_and_custom_names():
    s = pairwise_summary(1, 9, 0, name="warm", other="terse")
    assert s.verdict == "terse is better than warm (p = 0.021)"


def test_pairwise_no_difference_suggests_how_many_more_judgements():
    s = pairwise_summary(7, 3, 0)
    assert s.verdict == (
        f"No detectable difference (p = 0.34); collect about {s.more_needed} more judgements"
    )
    # at the observed 70% rate, that many more judgements would settle it
    n = 10 + s.more_needed
    assert sign_test(round(0.7 * n), n - round(0.7 * n)) < 0.05


def test_pairwise_hint_grows_with_ties_and_assumes_60_40_when_even():
    assert pairwise_summary(7, 3, 10).more_needed > pairwise_summary(7, 3, 0).more_needed
    even = pairwise_summary(6, 6, 0)
    assert even.verdict.startswith("No detectable difference (p = 1.00); collect about ")
    assert even.verdict.endswith("more judgements to detect a 60/40 preference")
    assert even.more_needed == approx(decisive_needed(0.6) - 12, rel=0.1)


def test_pairwise_edge_cases_read_plainly():
    assert pairwise_summary(0, 0, 0).verdict == "No judgements yet."
    ties = pairwise_summary(0, 0, 4)
    assert ties.verdict == "No decisive judgements yet: all 4 were ties."
    assert (ties.win_rate, ties.low, ties.high, ties.p_value) == (None, 0.0, 1.0, 1.0)


def test_decisive_needed_textbook_sample_size():
    # detecting 60/40 at alpha 0.05 with 80% power needs ~194 decisive judgements (Fleiss)
    assert decisive_needed(0.6) == 194
    assert decisive_needed(0.99) == 6  # never fewer than an exact test can use


# --- paired pass/fail (McNemar) ------------------------------------------------------------------


def _cases(both: int, only_a: int, only_b: int, neither: int) -> tuple[list[bool], list[bool]]:
    a = [True] * both + [True] * only_a + [False] * only_b + [False] * neither
    b = [True] * both + [False] * only_a + [True] * only_b + [False] * neither
    return a, b


def test_mcnemar_uses_only_the_cases_where_one_passed():
    c = paired_pass_comparison(*_cases(both=5, only_a=1, only_b=9, neither=5))
    assert (c.cases, c.a_passed, c.b_passed, c.only_a, c.only_b) == (20, 6, 14, 1, 9)
    assert c.p_value == approx(0.021484375)
    assert c.verdict == (
        "B passes more often than A: 9 cases pass only with B, 1 only with A (p = 0.021)"
    )


def test_mcnemar_not_significant_suggests_more_test_cases():
    a, b = _cases(both=30, only_a=2, only_b=4, neither=4)
    c = paired_pass_comparison(a, b, a_name="v1", b_name="v2")
    assert c.verdict.startswith(
        "No detectable difference (p = 0.69): 4 cases pass only with v2, 2 only with v1; "
        "collect about"
    )
    assert c.verdict.endswith("more test cases") and c.more_needed > 0


def test_mcnemar_identical_results_and_bad_input():
    same = paired_pass_comparison([True, False, True], [True, False, True])
    assert same.verdict == "No detectable difference: A and B passed and failed the same 3 cases."
    assert paired_pass_comparison([], []).verdict == "No test cases to compare."
    with pytest.raises(ValueError, match="same test cases"):
        paired_pass_comparison([True], [True, False])


# --- percentiles ---------------------------------------------------------------------------


def test_percentiles_linear_interpolation_like_numpy():
    values = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5]  # order does not matter
    assert percentiles(values) == {50: 5.5, 90: approx(9.1), 95: approx(9.55), 99: approx(9.91)}
    assert percentiles(values, (0, 100)) == {0: 1, 100: 10}


def test_percentiles_single_and_empty():
    assert percentiles([120.0], (50, 95)) == {50: 120.0, 95: 120.0}
    assert percentiles([]) == {}
    with pytest.raises(ValueError):
        percentiles([1], (101,))


# --- consistency ---------------------------------------------------------------------------


def test_consistency_ignores_whitespace_and_case_by_default():
    c = consistency(["Yes", " yes\n", "No"])
    assert c == Consistency(3, 2, modal_share=approx(2 / 3), pairwise_agreement=approx(1 / 3))
    assert consistency(["A", "A", "A", "A"]).pairwise_agreement == 1.0


def test_consistency_single_and_no_samples():
    assert consistency(["only"]) == Consistency(1, 1, 1.0, None)
    assert consistency([]) == Consistency(0, 0, None, None)


def test_consistency_by_json_field_and_by_check_outcome():
    samples = [
        '{"label": "refund", "why": "asked for money back"}',
        '```json\n{"label": "refund", "why": "wants a refund"}\n```',
        '{"label": "shipping"}',
        "Sorry, I cannot help",
    ]
    c = consistency(samples, json_field("label"))
    assert (c.distinct, c.modal_share) == (3, 0.5)
    by_outcome = consistency(["refund ok", "a refund", "no"], lambda s: "refund" in s)
    assert (by_outcome.distinct, by_outcome.modal_share) == (2, approx(2 / 3))


def test_consistency_overview_over_inputs():
    per_input = [
        consistency(["a", "a", "a"]),
        consistency(["a", "b", "a", "b"]),
        consistency(["solo"]),
    ]
    o = consistency_overview(per_input)
    assert (o.inputs, o.single_sample_inputs, o.fully_consistent) == (3, 1, 0.5)
    assert o.mean_modal_share == approx(0.75)
    assert o.agreement.mean == approx((1 + 4 / 12) / 2)
    assert 0.0 <= o.agreement.low <= o.agreement.high <= 1.0
    assert consistency_overview([]).agreement is None


# --- variant summary ------------------------------------------------------------------------------


def _records():
    rows = []
    for i in range(10):  # A: 8/10 pass "contains", all pass "json", scores 3 and 4
        rows.append(
            {
                "variant": "A",
                "status": "ok",
                "checks": {"contains": i < 8, "json": True},
                "score": 3 + i % 2,
                "tokens": 100,
                "cost": 0.001,
                "latency_ms": 100.0 * (i + 1),
                "ttft_ms": 50.0,
            }
        )
    error = {"variant": "A", "status": "error", "tokens": 40, "cost": 0.0005, "latency_ms": 30000}
    only_b = {"variant": "B", "status": "ok", "checks": [CheckResult("contains", False, None, "x")]}
    return [only_b, *rows, error]


def test_variant_summary_per_variant_figures():
    b, a = variant_summary(_records())  # order of first appearance
    assert (a.variant, a.calls, a.errors) == ("A", 11, 1)
    assert (a.checks["contains"].passed, a.checks["contains"].n) == (8, 10)
    assert (a.checks["contains"].low, a.checks["contains"].high) == wilson_interval(8, 10)
    assert a.checks["json"].rate == 1.0
    assert (a.overall.passed, a.overall.n) == (8, 10)
    assert a.score.mean == 3.5 and a.score.low < 3.5 < a.score.high
    assert a.tokens == 1040  # errors may be billed, so they count
    assert a.cost_usd == approx(0.0105)
    # the error's 30 s latency is left out
    assert (a.latency_p50_ms, a.latency_p95_ms) == (approx(550.0), approx(955.0))
    assert a.ttft_p50_ms == 50.0


def test_variant_summary_with_unknown_cost_and_check_results_list():
    b = variant_summary(_records())[0]
    assert (b.variant, b.calls, b.errors) == ("B", 1, 0)
    assert b.checks["contains"].rate == 0.0
    assert b.cost_usd is None  # no price known: not the same as free
    assert (b.score, b.latency_p50_ms, b.tokens) == (None, None, None)  # no counts: unknown, not 0


def test_variant_summary_reads_logged_call_objects():
    calls = [
        Call("openai", "gpt-4o-mini", {}, status="ok", usage=Usage(10, 5), latency_ms=200.0,
             cost_usd=0.01, variant_name="A"),
        Call("openai", "gpt-4o-mini", {}, status="error", variant_name="A"),
    ]
    [a] = variant_summary(calls)
    assert (a.calls, a.errors, a.tokens, a.cost_usd, a.latency_p50_ms) == (2, 1, 15, 0.01, 200.0)
    assert a.overall is None and a.checks == {}


def test_variant_summary_token_sums_skip_unknown_usage():
    calls = [
        Call("openai", "gpt-4o-mini", {}, status="ok", usage=Usage(10, 5), variant_name="A"),
        Call("openai", "gpt-4o-mini", {}, status="ok", usage=Usage.unknown(), variant_name="A"),
        Call("openai", "gpt-4o-mini", {}, status="error", variant_name="B"),  # never reported usage
        {"variant": "C", "status": "ok", "input_tokens": None, "output_tokens": None},
    ]
    a, b, c = variant_summary(calls)
    assert a.tokens == 15 and a.tokens_unknown == 1
    assert (b.tokens, b.tokens_unknown) == (None, 1) and (c.tokens, c.tokens_unknown) == (None, 1)


def test_variant_summary_of_nothing_is_empty():
    assert variant_summary([]) == []
