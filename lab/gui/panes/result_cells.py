"""What one cell of the results grid holds: the call that answers it (sample 1), every sample when
a run asks each cell several times, checks, judgement; filled from runner events or from the log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SampleOutput:
    """One sample of a cell: its output and how the checks judged it."""

    index: int  # 0-based sample index
    status: str
    text: str
    checks: dict[str, bool] = field(default_factory=dict)
    call_id: int | None = None


@dataclass
class CellResult:
    """What one cell shows. Filled from runner events while running, or from the log."""

    status: str = "pending"  # pending, running, waiting (in a batch), ok, error, cancelled
    text: str = ""
    call_id: int | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached: bool = False
    error: str = ""
    checks: dict[str, bool] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    request: dict[str, Any] | None = None
    model: str = ""
    samples_done: int = 0
    call: Any = None  # the runner's Call object: its id arrives once the writer has saved it
    thumbs: int | None = None
    score: int | None = None
    note: str = ""
    tags: list[str] = field(default_factory=list)
    samples: dict[int, SampleOutput] = field(default_factory=dict)  # every finished sample

    @property
    def logged_id(self) -> int | None:
        if self.call_id is None and self.call is not None:
            self.call_id = getattr(self.call, "id", None)
        return self.call_id

    def judgement(self) -> str:
        parts = []
        if self.thumbs:
            parts.append("👍" if self.thumbs > 0 else "👎")
        if self.score:
            parts.append("★" * self.score)
        if self.tags:
            parts.append(", ".join(self.tags))
        return " ".join(parts)

    def ordered_samples(self) -> list[SampleOutput]:
        return [self.samples[i] for i in sorted(self.samples)]

    def samples_marker(self) -> str:
        """"3 samples · 2 agree" when the cell has several samples; "" otherwise."""
        if len(self.samples) < 2:
            return ""
        # imported when first needed: the statistics it brings are not needed for the first paint
        from lab.core.analysis.consistency import agreeing

        done = [s for s in self.ordered_samples() if s.status == "ok"]
        agree = agreeing([s.text for s in done])
        if len(done) < 2:
            return f"{len(self.samples)} samples"
        if agree == len(done):
            words = "all agree"
        elif agree <= 1:
            words = "all differ"
        else:
            words = f"{agree} agree"
        return f"{len(self.samples)} samples · {words}"

    def footer(self) -> str:
        parts = []
        if self.checks:
            passed = sum(self.checks.values())
            parts.append(f"{'✓' if passed == len(self.checks) else '✗'} {passed}/{len(self.checks)}")
        if self.latency_ms is not None:
            parts.append(f"{self.latency_ms / 1000:.1f} s")
        if self.cached:
            parts.append("cached")
        elif self.cost_usd is not None:
            parts.append(f"${self.cost_usd:.4f}")
        marker = self.samples_marker()
        if marker:
            parts.append(marker)
        judged = self.judgement()
        if judged:
            parts.append(judged)
        return " · ".join(parts)

    # ---- filling from runner events

    def wait_in_batch(self, model: str) -> None:
        """Sent in a batch: its answer comes when the batch ends (within 24 hours)."""
        self.status, self.text, self.error, self.checks = "waiting", "", "", {}
        self.model = model

    def start(self, model: str) -> None:
        self.status, self.text, self.error, self.checks = "running", "", "", {}
        self.model = model

    def finish(self, call: Any, checks: list[Any], cached: bool, sample_index: int) -> None:
        """A call of this cell ended (`checks`: its CheckResults)."""
        self.samples_done += 1
        outcomes = {r.check_name: r.passed for r in checks}
        self.samples[sample_index] = SampleOutput(sample_index, call.status, call.response_text,
                                                  dict(outcomes), call.id)
        if sample_index != 0:
            return
        self.status, self.text = call.status, call.response_text
        self.call_id, self.cached = call.id, cached
        self.latency_ms, self.ttft_ms, self.cost_usd = call.latency_ms, call.ttft_ms, call.cost_usd
        self.input_tokens = call.usage.input_tokens
        self.output_tokens = call.usage.output_tokens
        self.error = call.error_message or ""
        self.request, self.model = call.request, f"{call.provider}/{call.model}"
        self.call, self.thumbs, self.score, self.note, self.tags = call, None, None, "", []
        self.checks = outcomes
        self.reasons = {r.check_name: r.reason for r in checks if r.reason}

    def judged(self, check_name: str, passed: bool, reason: str, sample_index: int) -> None:
        sample = self.samples.get(sample_index)
        if sample is not None:
            sample.checks[check_name] = passed
        if sample_index == 0:
            self.checks[check_name] = passed
            self.reasons[check_name] = reason

    def add_logged(self, row: dict[str, Any]) -> None:
        """Another sample of this cell, as the log has it (sample 0 is the cell itself)."""
        index = row.get("sample_index") or 0
        self.samples[index] = SampleOutput(index, row["status"], row.get("response_text") or "",
                                           dict(row.get("checks", {})), row["id"])
        self.samples_done = len(self.samples)


def cell_from_row(row: dict[str, Any]) -> CellResult:
    """A cell as the log has it (store.calls_for_run rows)."""
    reasons = {r["check_name"]: r["reason"] for r in row.get("check_results", []) if r["reason"]}
    try:
        request = json.loads(row.get("request_json") or "{}")
    except json.JSONDecodeError:
        request = None
    cell = CellResult(
        status=row["status"], text=row.get("response_text") or "", call_id=row["id"],
        latency_ms=row.get("latency_ms"), ttft_ms=row.get("ttft_ms"), cost_usd=row.get("cost_usd"),
        input_tokens=row.get("input_tokens"), output_tokens=row.get("output_tokens"),
        cached=row.get("cached_from_call_id") is not None, error=row.get("error_message") or "",
        checks=dict(row.get("checks", {})), reasons=reasons, request=request,
        model=f"{row.get('provider')}/{row.get('model')}", samples_done=1,
    )
    cell.add_logged(row)
    return cell
