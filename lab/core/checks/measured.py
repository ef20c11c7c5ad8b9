"""Checks graded from how a call went rather than what it said: its cost and its latency.

They need the logged call, so the runner passes it to `run_check` (`call=`); graded without one
(a bare output), they raise `CheckConfigError`, which the runner reports as a warning and never
counts against a variant. An answer from the cache costs nothing this time and keeps the latency
of the call that made it, as the log records them.
"""

from __future__ import annotations

from lab.core.checks.config import prefix
from lab.core.checks.result import CheckConfigError
from lab.core.model import Call, Check


def _needs_call(check: Check, what: str) -> CheckConfigError:
    return CheckConfigError(
        f"{prefix(check)} grades the call's {what}, so it needs the logged call; run it through "
        "the runner (lab run, or Run in the window)."
    )


def grade_cost(check: Check, call: Call | None) -> tuple[bool, float | None, str]:
    if call is None:
        raise _needs_call(check, "cost")
    limit = float(check.config["max_usd"])
    cost = call.cost_usd
    if cost is None:
        return False, None, (
            f"the cost of this call is unknown (no price for {call.provider}/{call.model} in the "
            f"price table), so it cannot be held to ${limit:g}; add the price to prices.toml"
        )
    shown = f"${cost:.6f}".rstrip("0").rstrip(".") if cost else "$0"
    if cost <= limit:
        return True, cost, f"cost {shown} (at most ${limit:g})"
    return False, cost, f"cost {shown}; expected at most ${limit:g}"


def grade_latency(check: Check, call: Call | None) -> tuple[bool, float | None, str]:
    if call is None:
        raise _needs_call(check, "latency")
    limit = float(check.config["max_ms"])
    latency = call.latency_ms
    if latency is None:
        return False, None, "the latency of this call was not recorded"
    cached = " (from the cache: the latency of the call that made it)" if call.cached else ""
    if latency <= limit:
        return True, latency, f"took {latency:,.0f} ms (at most {limit:,.0f} ms){cached}"
    return False, latency, f"took {latency:,.0f} ms; expected at most {limit:,.0f} ms{cached}"
