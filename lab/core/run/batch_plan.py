"""What a batch run sends: which calls can go as a batch, grouped by provider and model within
each provider's limits, with custom ids per cell; the batch pre-flight (batch prices, limits,
the providers without a batch API); and how a batch's answer is recorded as a logged call.
The runner that sends and follows the batches is `lab.core.run.batch`.

What goes in a batch: every cell still to do whose provider has a batch API (OpenAI, Anthropic,
Gemini; not Ollama nor a server on this machine) and that is one call (a chain's steps depend on
each other and go one by one). Cells the log already answers are answered from it, as in any
run. The rest — cells of providers with no batch API, chains, and every LLM-judge call — are
sent one by one as usual, alongside. Judges grade a batch's outputs as they are logged, at the
judge's ordinary price.

Each provider and model gets its own batches, split to stay under the provider's limits (OpenAI
≤50,000 requests and ≤200 MB per file; Anthropic ≤100,000 requests and ≤256 MB; Gemini inline
≤20 MB). A cell's custom id is `v<variant>-c<case>-s<sample>` (indexes from 0).

Latency. A batch answer has no latency of its own: its call's `latency_ms` and `ttft_ms` are
NULL (so latency figures describe only calls that had one); its `started_at` is when the
provider accepted the batch and `finished_at` when a poll found it ended (the lab's clock, so
at most one poll interval late). The batch row holds the same turnaround (`submitted_at`, and
`ended_at` as the provider stated it).

Cost. Each answer is priced at the batch price (`PriceTable.cost(..., batch=True)`). Requests
that errored, expired or were cancelled in a batch are not billed: their calls cost 0.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from lab.core.model import Call
from lab.core.providers import ProviderConfig
from lab.core.providers.batches import (
    CANCELED,
    BatchClient,
    BatchReply,
    ItemResult,
    batch_limits,
    request_bytes,
    split,
    unsupported_reason,
)
from lab.core.providers.pricing import PriceTable
from lab.core.run.call_records import failed
from lab.core.run.plan import PlanError, PlannedCall
from lab.core.run.preflight import estimate
from lab.core.run.setup import PreparedRun
from lab.core.workspace.rows import now_iso

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store


T = TypeVar("T")
BatchClientFactory = Callable[[ProviderConfig], BatchClient]

POLL_ENV = "LAB_BATCH_POLL_SECONDS"  # the first wait between polls
POLL_MAX_ENV = "LAB_BATCH_POLL_MAX_SECONDS"  # the longest
MAX_REQUESTS_ENV = "LAB_BATCH_MAX_REQUESTS"  # fewer requests per batch than the provider allows



@dataclass
class BatchOptions:
    poll_initial: float = 10.0  # seconds before the first poll and between the first ones
    poll_max: float = 300.0  # the wait grows by `backoff` per poll up to this
    backoff: float = 1.5
    max_requests: int | None = None  # at most this many requests per batch (under the limits)
    wait: bool = True  # False: send the batches and stop; a later session collects them
    cancel_timeout: float = 30.0  # seconds to wait for each provider to take a cancel

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> BatchOptions:
        """Defaults, with the poll pace and batch size from the environment (tests poll in
        milliseconds): LAB_BATCH_POLL_SECONDS, LAB_BATCH_POLL_MAX_SECONDS,
        LAB_BATCH_MAX_REQUESTS."""
        env = os.environ if environ is None else environ
        options = cls(**overrides)
        first = _positive(env.get(POLL_ENV), float)
        if first is not None:
            options.poll_initial = first
            options.poll_max = max(first, min(options.poll_max, first * 30))
        longest = _positive(env.get(POLL_MAX_ENV), float)
        if longest is not None:
            options.poll_max = max(longest, options.poll_initial)
        most = _positive(env.get(MAX_REQUESTS_ENV), int)
        if most is not None:
            options.max_requests = most
        return options


def _positive(raw: str | None, kind: Callable[[str], Any]) -> Any:
    try:
        value = kind((raw or "").strip())
    except ValueError:
        return None
    return value if value > 0 else None


# ----- what goes in a batch ------------------------------------------------------------------


def batchable(planned: PlannedCall) -> bool:
    """Whether a batch run sends this cell in a batch: one call (not a chain) to a provider
    with a batch API."""
    return not planned.steps and unsupported_reason(planned.provider) is None


def custom_ids(prepared: PreparedRun) -> Callable[[PlannedCall], str]:
    order = {v.name: i for i, v in enumerate(prepared.plan.spec.project.variants)}
    return lambda p: f"v{order[p.cell.variant]}-c{p.cell.case_index}-s{p.cell.sample_index}"


def group(calls: list[PlannedCall], options: BatchOptions) -> list[list[PlannedCall]]:
    """The batches these calls go in: one provider and model each, within the provider's
    limits (and `options.max_requests`), in plan order."""
    by_target: dict[tuple[str, str], list[PlannedCall]] = {}
    for planned in calls:
        by_target.setdefault((planned.provider.name, planned.request.model), []).append(planned)
    batches: list[list[PlannedCall]] = []
    for members in by_target.values():
        config = members[0].provider
        limits = batch_limits(config, options.max_requests)
        assert limits is not None, "only batchable calls are grouped"
        sizes = [request_bytes(config, p.request) for p in members]
        batches += [members[start:end] for start, end in split(sizes, limits)]
    return batches


def waiting_cells(store: Store, run_id: int | None) -> dict[tuple[str, int, int], dict[str, Any]]:
    """Cells of `run_id` sitting in batches still at the provider (not logged yet): cell ->
    its batch row."""
    if run_id is None:
        return {}
    found = {}
    for batch in store.open_batches(run_id):
        for request in batch["requests"]:
            if request["call_id"] is None:
                cell = (request["variant_name"], request["case_index"], request["sample_index"])
                found[cell] = batch
    return found


def with_batches(store: Store, prepared: PreparedRun, prices: PriceTable, *,
                 options: BatchOptions | None = None, today: dt.date | None = None) -> PreparedRun:
    """`prepared` as a batch run will do it: priced at the batch price where a batch goes,
    cells already waiting in submitted batches left out of the calls to send, and the
    pre-flight's notes saying how each provider sends (batches and their limits, or one by
    one, and why). Raises PlanError for a budget (a batch cannot be stopped half-way)."""
    options = options or BatchOptions()
    batch_mode = bool(prepared.options.batch)
    if prepared.options.problems():
        raise PlanError(prepared.options.problems())
    waiting = waiting_cells(store, prepared.run_id)
    to_call = [c for c in prepared.to_call if c.cell.key not in waiting]
    p = prepared
    earlier = p.estimate.warnings  # retrieval's notes among them: kept
    p.estimate = estimate(
        p.plan, prices, to_call, from_cache=len(p.work) - len(p.to_call),
        already_done=p.already_done, judge_gaps=[(g.judge, g.planned) for g in p.judge_gaps],
        today=today, batched=batchable if batch_mode else None)
    p.estimate.warnings = list(dict.fromkeys(p.estimate.warnings + earlier))
    notes = p.estimate.notes
    if waiting:
        batches = {b["id"]: b for b in waiting.values()}
        described = ", ".join(f"{b['provider']} {b['provider_batch_id'] or '(not sent)'} "
                              f"({b['provider_status'] or b['status']})" for b in batches.values())
        notes.append(f"Waiting: {len(waiting):,} cell{'s' if len(waiting) != 1 else ''} in "
                     f"{len(batches)} batch{'es' if len(batches) != 1 else ''} already sent: "
                     f"{described}. They are collected first (what they finished is billed at "
                     "the batch price); cells that fail in them are sent again after.")
    if batch_mode:
        notes += _batch_notes(p, to_call, options, prices, today)
    return prepared


def _batch_notes(prepared: PreparedRun, to_call: list[PlannedCall], options: BatchOptions,
                 prices: PriceTable, today: dt.date | None) -> list[str]:
    notes = []
    batched = [c for c in to_call if batchable(c)]
    for members in _by_provider(batched):
        config = members[0].provider
        limits = batch_limits(config, options.max_requests)
        assert limits is not None
        count = len(group(members, options))
        size = sum(request_bytes(config, c.request) for c in members)
        discounts = set()
        for model in {c.request.model for c in members}:
            price = prices.price_for(config.kind, model, today)
            discounts.add(None if price is None else price.batch_discount)
        if None in discounts:
            discount = "batch price unknown for some models (see the price table)"
        else:
            discount = "at the batch price (" + ", ".join(f"{d:.0%} off" for d in sorted(discounts)) + ")"
        notes.append(
            f"Batch: {config.name} ({config.kind}): {len(members):,} request"
            f"{'s' if len(members) != 1 else ''} in {count} batch{'es' if count != 1 else ''} "
            f"(~{_megabytes(size)}; limits {limits.text}"
            + (f", at most {options.max_requests:,} per batch here" if options.max_requests
               and (limits.max_requests is None or options.max_requests <= limits.max_requests)
               else "")
            + f"), {discount}; results within 24 hours.")
    direct = [c for c in to_call if not batchable(c)]
    reasons: dict[str, int] = {}
    for planned in direct:
        why = ("a chain: its steps depend on each other, so they are sent one by one"
               if planned.steps else unsupported_reason(planned.provider) or "")
        reasons[why] = reasons.get(why, 0) + 1
    for why, n in reasons.items():
        notes.append(f"Not in a batch ({n:,} call{'s' if n != 1 else ''}): {why}.")
    if prepared.plan.judges and to_call:
        notes.append("LLM-judge calls are not batched: each output is judged as it is logged, "
                     "one call at a time, at the judge's ordinary price.")
    return notes


def _by_provider(calls: list[PlannedCall]) -> list[list[PlannedCall]]:
    found: dict[str, list[PlannedCall]] = {}
    for planned in calls:
        found.setdefault(planned.provider.name, []).append(planned)
    return list(found.values())


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} KB"


def needs_batch_runner(store: Store, prepared: PreparedRun) -> bool:
    """A batch run, or a resumed run with batches still at a provider (which must be followed
    whatever mode the rest goes in)."""
    return bool(prepared.options.batch) or bool(waiting_cells(store, prepared.run_id))


# ----- a batch answer as a logged call -------------------------------------------------------


def answered(call: Call, reply: BatchReply, submitted_at: str | None, ended_at: str | None) -> None:
    """A cell's call filled from its batch answer: no latency of its own, the batch's
    turnaround in started_at / finished_at, the cost at the batch price."""
    call.status = "ok"
    call.response_text = reply.text
    call.finish_reason = reply.finish_reason
    call.usage = reply.usage
    call.raw_usage = reply.raw_usage
    call.latency_ms = None
    call.ttft_ms = None
    call.cost_usd = reply.cost_usd
    call.request = reply.request_body
    call.started_at = submitted_at or call.started_at
    call.finished_at = ended_at or now_iso()


def unanswered(call: Call, item: ItemResult, submitted_at: str | None,
               ended_at: str | None) -> None:
    """A request that errored, expired or was cancelled in its batch: an error (or cancelled)
    call that cost nothing (providers bill only what succeeded)."""
    assert item.error is not None
    failed(call, item.error, free=True)
    call.status = "cancelled" if item.outcome == CANCELED else "error"
    call.latency_ms = None
    call.started_at = submitted_at or call.started_at
    call.finished_at = ended_at or now_iso()
