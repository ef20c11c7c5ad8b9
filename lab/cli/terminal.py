"""What the `lab` command shows on a terminal: the progress bar, the pre-flight estimate, the
summary table at the end of a run and the call log, drawn with rich. Plain text, no colours when
the output is not a terminal, so it reads the same in a CI log; wide enough that a table never
wraps in a log file.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from rich import box
from rich.console import Console, RenderableType
from rich.progress_bar import ProgressBar as RichBar
from rich.table import Table

from lab.core.analysis.summary import PassRate
from lab.core.model import REFUSAL
from lab.core.run.events import (
    BatchProgress,
    CallFinished,
    JudgeFinished,
    ProviderLimit,
    RunFinished,
    RunStarted,
)
from lab.core.run.preflight import Estimate
from lab.core.run.report import RunReport

PLAIN_WIDTH = 240  # off a terminal: wide enough that tables never wrap
CASE_NOTE = "Intervals are 95% and treat the test case as the unit (samples of one case are not " \
            "independent)."


def render(*items: RenderableType, color: bool = False, width: int | None = None) -> list[str]:
    """Rich renderables as lines of text (trailing spaces trimmed)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width or PLAIN_WIDTH, force_terminal=color,
                      color_system="standard" if color else None, highlight=False,
                      emoji=False, markup=False, soft_wrap=False)
    for item in items:
        console.print(item)
    return [line.rstrip() for line in buffer.getvalue().rstrip("\n").split("\n")]


def make_table(headers: Sequence[str], right: set[int] = frozenset()) -> Table:
    """A plain table: a rule under the header, no outer border; `right` columns are numbers."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for i, header in enumerate(headers):
        table.add_column(header, justify="right" if i in right else "left", no_wrap=True)
    return table


def money(value: float | None) -> str:
    if value is None:
        return "unknown"
    if value == 0:
        return "$0"
    if value < 0.0001:
        return "<$0.0001"
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def table(rows: Sequence[Sequence[str]], right: set[int] = frozenset()) -> list[str]:
    """The first row as the header, the rest as rows, drawn by rich; `right`: number columns."""
    t = make_table(rows[0], right)
    for row in rows[1:]:
        t.add_row(*row)
    return render(t)


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = self.done = self.errors = self.cached = self.judged = 0
        self.spent = 0.0
        self.limits: dict[str, int] = {}  # provider -> calls allowed in flight now
        self.batches: dict[int, BatchProgress] = {}  # a batch run's batches, as last reported
        self._drawn = 0.0
        self._color = bool(getattr(self.stream, "isatty", lambda: False)())

    def on_event(self, event: Any) -> None:
        if isinstance(event, RunStarted):
            self.total = event.to_call + event.from_cache
        elif isinstance(event, CallFinished):
            self.done += 1
            self.errors += event.call.status == "error"
            self.cached += event.cached
            self.spent += event.call.cost_usd or 0.0
        elif isinstance(event, JudgeFinished):
            self.judged += 1
            self.spent += event.call.cost_usd or 0.0
        elif isinstance(event, ProviderLimit):
            self.limits[event.provider] = event.limit
        elif isinstance(event, BatchProgress):
            before = self.batches.get(event.batch)
            self.batches[event.batch] = event
            if before is None or (before.status, before.provider_status, before.message) != (
                    event.status, event.provider_status, event.message):
                self._line(batch_line(event))  # a batch's news stays on screen (and in CI logs)
        else:
            if isinstance(event, RunFinished) and self.enabled:
                self._draw()
                self.stream.write("\n")
                self.stream.flush()
            return
        if self.enabled and time.monotonic() - self._drawn >= 0.1:
            self._draw()

    def _line(self, text: str) -> None:
        if self.enabled:
            self.stream.write("\r\033[K" + text + "\n")
            self._draw()
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def _draw(self) -> None:
        self._drawn = time.monotonic()
        width = 24
        bar = RichBar(total=self.total or 1, completed=self.done if self.total else 1, width=width)
        parts = [f"{self.done}/{self.total} calls"]
        if self.errors:
            parts.append(f"{self.errors} error{'s' if self.errors != 1 else ''}")
        if self.cached:
            parts.append(f"{self.cached} cached")
        if self.judged:
            parts.append(f"{self.judged} judged")
        parts.append(money(self.spent))
        waiting = [b for b in self.batches.values()
                   if b.status in ("submitted", "in_progress", "cancelling", "ended")]
        if waiting:
            parts.append(f"{len(waiting)} batch{'es' if len(waiting) != 1 else ''} waiting: "
                         f"{sum(b.done for b in waiting):,} done, "
                         f"{sum(b.pending for b in waiting):,} pending")
        if self.limits:  # a rate-limited provider shows here as its limit drops
            parts.append("in flight ≤ " + ", ".join(f"{name} {n}" for name, n in self.limits.items()))
        drawn = render(bar, color=self._color, width=width)[0]
        line = (drawn if self._color else drawn.ljust(width)) + " " + " · ".join(parts)
        self.stream.write("\r" + line + "\033[K")
        self.stream.flush()


def batch_line(event: BatchProgress) -> str:
    """One batch's news: "Batch 2 (fake, batch_abc): in_progress — 300 done, 2 failed, 698
    pending"."""
    where = ", ".join(x for x in (event.provider, event.provider_batch_id) if x)
    status = event.status + (f" ({event.provider_status})" if event.provider_status
                             and event.provider_status != event.status else "")
    line = f"Batch {event.batch} ({where}): {status}"
    if event.total:
        line += (f" — {event.total:,} requests: {event.done:,} done, {event.failed:,} failed, "
                 f"{event.pending:,} pending")
    if event.message:
        line += f". {event.message}"
    return line


def estimate_lines(estimate: Estimate, budget: float | None = None) -> list[str]:
    head = f"Pre-flight: {estimate.calls} call{'s' if estimate.calls != 1 else ''} to send"
    notes = []
    if estimate.from_cache:
        notes.append(f"{estimate.from_cache} answered from the cache")
    if estimate.already_done:
        notes.append(f"{estimate.already_done} already done")
    if notes:
        head += f" ({', '.join(notes)})"
    rows = [["", "model", "calls", "input tokens", "output budget", "cost at most"]]
    for line in estimate.lines:
        out = f"{line.output_tokens:,}" + (" (assumed)" if line.output_assumed else "")
        rows.append([line.label, line.model, str(line.calls), f"~{line.input_tokens:,}", out,
                     money(line.cost_usd) + (" (batch)" if line.batch else "")])
    total = money(estimate.cost_usd)
    if estimate.unpriced:
        total += f" + unknown (no price for {', '.join(estimate.unpriced)})"
    rows.append(["total", "", str(estimate.calls), f"~{estimate.input_tokens:,}",
                 f"{estimate.output_tokens:,}", total])
    lines = [head, *("  " + r for r in table(rows, right={2, 3, 4}))] if estimate.lines else [head]
    lines += [message[0].upper() + message[1:] + "." for message in estimate.unknown_cost]
    lines += [f"Warning: {warning}" for warning in estimate.warnings]
    lines += estimate.notes
    if budget is not None:
        lines.append(f"Budget: the run stops once it has spent {money(budget)}.")
    return lines


UNKNOWN = "—"  # a figure the provider did not report (not zero)


def token_sum(known: int | None, unknown_calls: int = 0) -> str:
    """A sum of token counts: "—" when none was reported, "≥1,234" when some calls' were not."""
    if known is None:
        return UNKNOWN
    return f"≥{known:,}" if unknown_calls else f"{known:,}"


def tokens(input_tokens: int | None, output_tokens: int | None) -> str:
    """"1,200 → 34", or "—" when the provider reported no usage (a failed call, a stream
    without a usage chunk): unknown is not zero."""
    if input_tokens is None and output_tokens is None:
        return UNKNOWN
    def count(n: int | None) -> str:
        return UNKNOWN if n is None else f"{n:,}"
    return f"{count(input_tokens)} → {count(output_tokens)}"


def call_status(row: dict[str, Any]) -> str:
    """The status a reader needs: a reply in which the model declined shows as "refused"."""
    if row["status"] == "ok" and row.get("finish_reason") == REFUSAL:
        return "refused"
    return row["status"]


def _rate(rate: PassRate | None) -> str:
    if rate is None:
        return "-"
    return f"{rate.rate:.0%} ({rate.low:.0%}–{rate.high:.0%})"


def summary_lines(report: RunReport) -> list[str]:
    head = (f"Run {report.run_id} · {report.experiment} · {report.status} · "
            f"{report.cells_done}/{report.cells} cells done · {report.calls} calls")
    extras = [f"{n} {what}" for n, what in ((report.cached_calls, "cached"),
                                            (report.judge_calls, "judge")) if n]
    head += (f" ({', '.join(extras)})" if extras else "") + f" · {money(report.cost_usd)}"
    lines = [head, ""]
    rows = [["variant", "calls", "errors", "pass (95% CI)", "score", "tokens", "cost",
             "p50 ms", "p95 ms", "ttft ms"]]
    for v in report.variants:
        rows.append([
            v.variant, str(v.calls), str(v.errors), _rate(v.overall),
            f"{v.score.mean:.2f}" if v.score else "-", token_sum(v.tokens, v.tokens_unknown),
            money(v.cost_usd),
            *(f"{x:,.0f}" if x is not None else "-"
              for x in (v.latency_p50_ms, v.latency_p95_ms, v.ttft_p50_ms)),
        ])
    lines += table(rows, right={1, 2, 5, 6, 7, 8, 9})
    if report.check_names:
        rows = [["check", *(v.variant for v in report.variants)]]
        for name in report.check_names:
            rows.append([name, *(_rate(v.checks.get(name)) for v in report.variants)])
        lines += ["", *table(rows)]
    if any(v.overall or v.score or v.checks for v in report.variants):
        lines += ["", CASE_NOTE]
    problems = [f"{variant}: {n} × {kind}" for variant, kinds in report.errors_by_type.items()
                for kind, n in kinds.items()]
    if problems:
        lines += ["", "Not ok: " + "; ".join(problems) + " (details: `lab log`)"]
        lines += [f"  {kind}: {message}" for kind, message in report.error_examples.items()]
    return lines


def log_lines(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["No calls logged yet."]
    table_rows = [["id", "when", "run", "variant", "model", "status", "tokens", "ms", "cost", "output"]]
    for r in rows:
        preview = " ".join((r["response_preview"] or r.get("error_type") or "").split())
        table_rows.append([
            str(r["id"]), (r["created_at"] or "")[:19].replace("T", " "),
            str(r["run_id"] or "-"), r["variant_name"] or "", f"{r['provider']}/{r['model']}",
            call_status(r), tokens(r.get("input_tokens"), r.get("output_tokens")),
            f"{r['latency_ms']:,.0f}" if r["latency_ms"] is not None else "-",
            money(r["cost_usd"]), preview[:60] + ("…" if len(preview) > 60 else ""),
        ])
    return table(table_rows, right={0, 2, 6, 7})
