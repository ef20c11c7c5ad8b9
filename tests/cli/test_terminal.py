"""What `lab run` draws on a terminal: the progress bar, the estimate, amounts of money."""

from __future__ import annotations

import io
import re

from lab.cli.terminal import ProgressBar, estimate_lines, log_lines, money, summary_lines
from lab.core.model import Call
from lab.core.run.events import CallFinished, ProviderLimit, RunFinished, RunStarted
from lab.core.run.plan import Cell
from lab.core.run.preflight import Estimate, EstimateLine


def test_progress_bar_counts_calls_errors_cache_and_money():
    out = io.StringIO()
    bar = ProgressBar(out, enabled=True)
    bar.on_event(RunStarted(1, 1, cells=4, to_call=3, from_cache=1, already_done=0, resumed=False))
    for i, status in enumerate(["ok", "error"]):
        call = Call("p", "m", {}, status=status, cost_usd=0.25 if status == "ok" else None)
        bar._drawn = 0  # redraw every time here; on a terminal it is at most 10 times a second
        bar.on_event(CallFinished(Cell("A", i, 0), call, cached=False))
    bar.on_event(RunFinished(1, "done", calls=2, errors=1, cached=0, spent_usd=0.25))
    last = out.getvalue().split("\r")[-1]
    # rich draws the bar: half of its 24 cells filled, the rest blank without colour
    assert last.startswith("━" * 12 + " " * 12 + " 2/4 calls · 1 error · $0.2500")
    assert last.endswith("\n")


def test_progress_bar_shows_each_providers_limit_as_it_moves():
    out = io.StringIO()
    bar = ProgressBar(out, enabled=True)
    bar.on_event(RunStarted(1, 1, cells=4, to_call=4, from_cache=0, already_done=0, resumed=False))
    bar.on_event(ProviderLimit("openai", 16, 16))
    bar.on_event(ProviderLimit("local", 4, 8))
    bar.on_event(ProviderLimit("openai", 8, 16))  # a rate limit halved it
    bar._drawn = 0
    bar.on_event(CallFinished(Cell("A", 0, 0), Call("p", "m", {}, status="ok"), cached=False))
    assert out.getvalue().split("\r")[-1].endswith("· in flight ≤ openai 8, local 4\033[K")


def test_progress_bar_is_silent_when_not_on_a_terminal():
    out = io.StringIO()  # not a tty
    bar = ProgressBar(out)
    bar.on_event(RunStarted(1, 1, 1, 1, 0, 0, False))
    bar.on_event(RunFinished(1, "done", 1, 0, 0, 0.0))
    assert out.getvalue() == ""


def test_estimate_says_what_is_unknown_and_assumed():
    estimate = Estimate(lines=[
        EstimateLine("A", "openai/gpt-4o-mini", 10, 1200, 500, False, 0.0012),
        EstimateLine("B", "local/x", 10, 1300, 5120, True, None),
    ], cells=20, from_cache=3)
    text = "\n".join(estimate_lines(estimate, budget=0.5))
    assert text.startswith("Pre-flight: 20 calls to send (3 answered from the cache)")
    assert "5,120 (assumed)" in text and "unknown" in text
    assert "$0.0012 + unknown (no price for local/x)" in text
    assert text.endswith("Budget: the run stops once it has spent $0.5000.")


def test_summary_table_says_intervals_treat_the_case_as_the_unit():
    from lab.core.analysis.summary import variant_summary
    from lab.core.run.report import RunReport

    records = [{"variant": v, "case_index": i // 3, "checks": {"ok": (i + (v == "B")) % 2 == 0},
                "latency_ms": 100.0} for v in "AB" for i in range(12)]
    report = RunReport(1, "tone", "done", 24, 24, 24, 0, 0, 0.5,
                       variants=variant_summary(records), check_names=["ok"])
    lines = summary_lines(report)
    assert lines[2].split()[:4] == ["variant", "calls", "errors", "pass"]
    assert set(lines[3]) == {"─"}  # rich's rule under the header
    assert lines[4].split()[:3] == ["A", "12", "0"] and lines[5].split()[0] == "B"
    assert "treat the test case as the unit" in "\n".join(lines)
    assert all("\033" not in line for line in lines)  # no colour in a log


def test_money():
    assert [money(v) for v in (None, 0.0, 0.00001, 0.0123, 12.5)] == [
        "unknown", "$0", "<$0.0001", "$0.0123", "$12.50"]


def _logged(**values):
    row = {"id": 7, "created_at": "2026-01-02T03:04:05.000+00:00", "run_id": 1, "variant_name": "A",
           "provider": "openai", "model": "gpt-4o", "status": "ok", "finish_reason": "stop",
           "latency_ms": 812.0, "cost_usd": 0.0012, "input_tokens": 1200, "output_tokens": 34,
           "response_preview": "Sure.", "error_type": None}
    return {**row, **values}


def test_the_log_marks_a_refusal_and_shows_unknown_tokens_as_a_dash():
    head, refused, unreported, failed = _without_rules(log_lines([
        _logged(finish_reason="refusal", response_preview="I'm sorry, I can't assist with that."),
        _logged(id=6, input_tokens=None, output_tokens=None, cost_usd=None),
        _logged(id=5, status="error", input_tokens=None, output_tokens=None, cost_usd=None,
                latency_ms=None, response_preview="", error_type="QuotaExceeded"),
    ]))
    assert "tokens" in head.split()
    assert " refused " in refused and "1,200 → 34" in refused and "I'm sorry" in refused
    assert " ok " in unreported and " — " in unreported and "0 → 0" not in unreported
    assert " error " in failed and " — " in failed and "QuotaExceeded" in failed


def test_the_summary_shows_unknown_tokens_as_a_dash():
    from lab.cli.terminal import summary_lines
    from lab.core.analysis.summary import variant_summary
    from lab.core.run.report import RunReport

    variants = variant_summary([
        {"variant": "A", "status": "ok", "input_tokens": 1200, "output_tokens": 34},
        {"variant": "A", "status": "ok", "input_tokens": None, "output_tokens": None},
        {"variant": "B", "status": "error"},
    ])
    report = RunReport(1, "tone", "done", cells=3, cells_done=2, calls=3, cached_calls=0, judge_calls=0,
                       cost_usd=None, variants=variants)
    head, a, b = (re.split(r"\s{2,}", line) for line in _without_rules(summary_lines(report))[2:5])
    tokens = head.index("tokens")
    assert a[tokens] == "≥1,234"  # what is known, and that some of it is not
    assert b[tokens] == "—"  # none known: not 0


def _without_rules(lines: list[str]) -> list[str]:
    """The lines of a table without its rule (rich draws one under the header)."""
    return [line for line in lines if not line or set(line.strip()) - {"─", "━"}]
