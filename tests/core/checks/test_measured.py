"""The cost and latency checks: graded from the logged call, never from the output's text."""

from __future__ import annotations

import pytest
from lab.core.checks.config import validate_check
from lab.core.checks.graders import run_check
from lab.core.checks.result import CheckConfigError
from lab.core.model import Call, Check

COST = Check("cost", {"max_usd": 0.002})
LATENCY = Check("latency", {"max_ms": 1500})


def call(**fields) -> Call:
    return Call(provider="openai", model="gpt-4o-mini", request={}, status="ok", **fields)


def test_cost_passes_at_or_under_the_limit_and_scores_the_cost():
    ok = run_check(COST, "any text", None, call=call(cost_usd=0.002))
    assert ok.passed and ok.score == 0.002 and ok.reason == "cost $0.002 (at most $0.002)"
    over = run_check(COST, "any text", None, call=call(cost_usd=0.0031))
    assert not over.passed and over.reason == "cost $0.0031; expected at most $0.002"


def test_a_free_or_cached_call_costs_nothing_and_an_unknown_price_fails_with_the_reason():
    assert run_check(COST, "x", None, call=call(cost_usd=0.0, cached=True)).reason.startswith("cost $0 ")
    unknown = run_check(COST, "x", None, call=call(cost_usd=None))
    assert not unknown.passed and "no price for openai/gpt-4o-mini" in unknown.reason


def test_latency_uses_the_calls_milliseconds_and_says_when_it_came_from_the_cache():
    assert run_check(LATENCY, "x", None, call=call(latency_ms=1499.6)).passed
    slow = run_check(LATENCY, "x", None, call=call(latency_ms=2400.0, cached=True))
    assert not slow.passed and slow.score == 2400.0
    assert slow.reason == ("took 2,400 ms; expected at most 1,500 ms (from the cache: the latency "
                           "of the call that made it)")


def test_without_the_call_the_check_is_a_config_error_not_a_failure():
    with pytest.raises(CheckConfigError, match="needs the logged call"):
        run_check(LATENCY, "x", None)


def test_limits_are_required_numbers_and_not_negative():
    assert validate_check(Check("cost", {})) == [
        "Check 'cost': 'max_usd' is missing; give the most one call may cost, in USD."]
    assert validate_check(Check("latency", {"max_ms": "fast"})) == [
        "Check 'latency': 'max_ms' must be a number, not 'fast'."]
    assert validate_check(Check("cost", {"max_usd": -1})) == [
        "Check 'cost': 'max_usd' cannot be negative."]
