"""Batch runs: a run's calls sent through the providers' batch APIs, at the batch price, in a
way that survives the lab being closed or killed while it waits.

    prepared = prepare_run(store, plan, RunOptions(batch=True), prices)   # or prepare_resume
    prepared = with_batches(store, prepared, prices)   # batch prices, limits, waiting batches
    runner = BatchRunner(db_path, prepared, on_event=..., prices=prices)
    finished = await runner.run()                      # or runner.start_in_thread()

What goes in a batch: every cell still to do whose provider has a batch API (OpenAI, Anthropic,
Gemini; not Ollama nor a server on this machine) and that is one call (a chain's steps depend on
each other and go one by one). Cells the log already answers are answered from it, as in any
run. The rest — cells of providers with no batch API, chains, and every LLM-judge call — are
sent one by one as usual, alongside. Judges grade a batch's outputs as they are logged, at the
judge's ordinary price.

Each provider and model gets its own batches, split to stay under the provider's limits (OpenAI
≤50,000 requests and ≤200 MB per file; Anthropic ≤100,000 requests and ≤256 MB; Gemini inline
≤20 MB). A cell's custom id is `v<variant>-c<case>-s<sample>` (indexes from 0).

Durability. A batch is written to the workspace before it is sent, with each cell under its
custom id, and gets the provider's id the moment the provider accepts it; every poll records
the provider's status and counts. Results are logged as ordinary calls (`calls.batch_id` says
which batch), each with its batch link in one transaction, so collecting again after a crash
skips what is logged. A later session of the run (`lab run --resume RUN_ID`, or the window)
first follows the run's open batches to their end and logs their results, then sends whatever
is still missing — failed, expired or cancelled requests included — in new batches (the run's
own mode; `RunOptions(batch=False)` sends them one by one instead).

Latency. A batch answer has no latency of its own: its call's `latency_ms` and `ttft_ms` are
NULL (so latency figures describe only calls that had one); its `started_at` is when the
provider accepted the batch and `finished_at` when a poll found it ended (the lab's clock, so
at most one poll interval late). The batch row holds the same turnaround (`submitted_at`, and
`ended_at` as the provider stated it).

Cost. Each answer is priced at the batch price (`PriceTable.cost(..., batch=True)`). Requests
that errored, expired or were cancelled in a batch are not billed: their calls cost 0.

Stopping. `cancel()` cancels the provider's batches that have not ended (what they finished is
still billed and comes back when the run is resumed) and records them as cancelling. Killing the
process leaves them running at the provider; the resume follows them. Polling backs off from
`BatchOptions.poll_initial` to `poll_max` seconds; a poll that fails for a transient reason is
tried again at that pace, and one that cannot succeed (the key refused, the batch unknown)
leaves the batch open with the reason: the run ends "waiting".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from lab.core.model import Call
from lab.core.providers import ProviderConfig, ProviderError
from lab.core.providers.batches import (
    CANCELED,
    ERRORED,
    SUCCEEDED,
    BatchClient,
    BatchItem,
    BatchReply,
    BatchState,
    ItemResult,
    batch_limits,
    request_bytes,
    split,
    unsupported_reason,
)
from lab.core.providers.pricing import PriceTable
from lab.core.run.call_records import failed
from lab.core.run.events import BatchProgress, EventCallback
from lab.core.run.plan import PlanError, PlannedCall
from lab.core.run.preflight import estimate
from lab.core.run.runner import ClientFactory, Runner
from lab.core.run.setup import PreparedRun
from lab.core.workspace.batches import BatchLink, BatchRequestRow
from lab.core.workspace.rows import now_iso
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


# ----- the runner ----------------------------------------------------------------------------


@dataclass
class Followed:
    """A batch this session follows: sent now, or found open in the workspace."""

    id: int  # the workspace's
    config: ProviderConfig
    model: str
    provider_batch_id: str
    info: dict[str, Any]
    requests: list[tuple[str, PlannedCall]]  # custom id -> cell, not logged yet, in order sent
    submitted_at: str | None
    status: str = "submitted"
    seen_ended_at: str | None = None  # when a poll first found it ended (the lab's clock)
    total: int = 0
    counts: tuple[int, int] = (0, 0)  # succeeded, failed (the provider's, last poll)
    ended: bool = False
    provider_status: str = ""


class BatchRunner(Runner):
    """A run that sends its cells in batches (see the module doc). Used like `Runner`; also
    the runner of any resumed run that still has batches at a provider."""

    def __init__(
        self,
        db_path: Any,
        prepared: PreparedRun,
        *,
        on_event: EventCallback | None = None,
        prices: PriceTable | None = None,
        client_factory: ClientFactory | None = None,
        batch_client_factory: BatchClientFactory | None = None,
        batch_options: BatchOptions | None = None,
        writer_batch: int = 200,
        writer_interval: float = 0.05,
    ) -> None:
        super().__init__(db_path, prepared, on_event=on_event, prices=prices,
                         client_factory=client_factory, writer_batch=writer_batch,
                         writer_interval=writer_interval)
        self.batch_options = batch_options or BatchOptions.from_env()
        self._batch_client_factory = batch_client_factory or (
            lambda c: BatchClient(c, prices=prices))
        self._batch_clients: dict[str, BatchClient] = {}
        self._followers: set[asyncio.Task[Any]] = set()
        self._active: dict[int, Followed] = {}  # batches at the provider, not ended
        self.left_open: dict[int, str] = {}  # batches left at the provider: id -> why
        self._custom_id = custom_ids(prepared)

    # ----- the run ------------------------------------------------------------------------

    async def _execute(self) -> None:
        clients = {name: self._client(c) for name, c in self.plan.providers.items()}
        self._maker.clients = clients
        self._queues = {name: asyncio.Queue() for name in clients}
        workers = [asyncio.create_task(self._worker(self._queues[name], client))
                   for name, client in clients.items() for _ in range(client.limiter.max_limit)]
        try:
            await self._collect_open()
            if self._stopping in ("cancelled", "failed"):
                return
            await self._send_the_rest()
            await self._drain()
            if self.left_open and self._stopping is None:
                self._stopping = "waiting"
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            if self._stopping == "cancelled":
                await self._cancel_at_providers()
            await asyncio.gather(*(c.aclose() for c in clients.values()), return_exceptions=True)
            await asyncio.gather(*(c.aclose() for c in self._batch_clients.values()),
                                 return_exceptions=True)

    async def _collect_open(self) -> None:
        """Follow the run's batches left open by an earlier session to their end."""
        run_id = self.run_id
        await self._on_writer(lambda store: store.abandon_unsent_batches(run_id))
        rows = await self._on_writer(lambda store: store.open_batches(run_id))
        if not rows:
            return
        by_cell = {c.cell.key: c for c in self.plan.calls}
        followed = []
        for row in rows:
            config = self.plan.providers.get(row["provider"])
            requests = [(r["custom_id"], by_cell[(r["variant_name"], r["case_index"],
                                                  r["sample_index"])])
                        for r in row["requests"] if r["call_id"] is None
                        and (r["variant_name"], r["case_index"], r["sample_index"]) in by_cell]
            if config is None:
                self.left_open[row["id"]] = f"provider {row['provider']!r} is not configured"
                continue
            followed.append(Followed(
                id=row["id"], config=config, model=row["model"],
                provider_batch_id=row["provider_batch_id"], info=row["info"], requests=requests,
                submitted_at=row["submitted_at"], status=row["status"],
                total=row["request_count"], provider_status=row["provider_status"] or ""))
        await self._follow_all([self._follow(f, resumed=True) for f in followed])

    async def _send_the_rest(self) -> None:
        p = self.prepared
        work = p.work
        cached = p.cached
        collected = await self._on_writer(
            lambda store: (store.done_cells(self.run_id), waiting_cells(store, self.run_id)))
        done, waiting = collected
        work = [c for c in work if c.cell.key not in done and c.cell.key not in waiting]
        if len(work) != len(p.work) and not self.options.no_cache:  # answers may be logged now
            keys = [c.cache_key for c in work]
            cached = await self._on_writer(lambda store: store.cached_calls(keys))
        to_batch: list[PlannedCall] = []
        for planned in work:
            if self._stopping in ("cancelled", "failed"):
                return
            row = cached.get(planned.cache_key)
            if row is not None:
                await self._maker.answer_from_cache(planned, row)
            elif self.options.batch and batchable(planned):
                to_batch.append(planned)
            else:
                self._enqueue(planned.provider.name, planned)
        for gap in p.judge_gaps:
            self._enqueue_judge(gap.planned, gap.call, gap.judge)
        if to_batch:
            await self._follow_all([self._send(members)
                                    for members in group(to_batch, self.batch_options)])

    async def _drain(self) -> None:
        """Wait for the calls sent one by one (and the judges) to end."""
        while self._pending and self._stopping not in ("cancelled", "failed"):
            self._all_done.clear()
            if self._pending == 0:
                break
            await self._all_done.wait()

    async def _follow_all(self, work: list[Awaitable[None]]) -> None:
        tasks = [asyncio.ensure_future(w) for w in work]
        self._followers.update(tasks)
        if self._stopping in ("cancelled", "failed"):
            for task in tasks:
                task.cancel()
        try:
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            self._followers.difference_update(tasks)
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                raise outcome  # a bug: the runner stops the run and shows it

    def _stop(self, reason: str) -> None:
        super()._stop(reason)
        if reason in ("cancelled", "failed"):
            for task in list(self._followers):
                task.cancel()

    # ----- one batch ----------------------------------------------------------------------

    def _batch_client(self, config: ProviderConfig) -> BatchClient:
        client = self._batch_clients.get(config.name)
        if client is None:
            client = self._batch_clients[config.name] = self._batch_client_factory(config)
        return client

    async def _send(self, members: list[PlannedCall]) -> None:
        """Write a batch, send it, record the provider's id, follow it to its end."""
        config = members[0].provider
        model = members[0].request.model
        rows = [BatchRequestRow(self._custom_id(p), *p.cell.key, cache_key=p.cache_key)
                for p in members]
        run_id = self.run_id
        local = await self._on_writer(
            lambda store: store.create_batch(run_id, config.name, config.kind, model, rows))
        client = self._batch_client(config)
        items = [BatchItem(row.custom_id, p.request) for row, p in zip(rows, members)]
        # Once sent, the provider's answer must be recorded even if the run is cancelled
        # meanwhile (the cancel then reaches the provider's batch too).
        sending = asyncio.ensure_future(
            client.submit(items, label=f"prompt-lab run {run_id}, batch {local}"))
        interrupted = False
        while not sending.done():
            try:
                await asyncio.shield(sending)
            except asyncio.CancelledError:
                if sending.cancelled():
                    raise
                interrupted = True
            except ProviderError:
                break
        error = sending.exception()
        if isinstance(error, ProviderError):
            await self._not_submitted(local, config, model, members, rows, error)
            if interrupted:
                raise asyncio.CancelledError
            return
        if error is not None:
            raise error
        submitted = sending.result()
        await self._on_writer(lambda store: store.batch_submitted(
            local, submitted.batch_id, submitted.info, submitted.provider_status))
        followed = Followed(local, config, model, submitted.batch_id, dict(submitted.info),
                            [(row.custom_id, p) for row, p in zip(rows, members)],
                            submitted_at=now_iso(), total=len(members),
                            provider_status=submitted.provider_status)
        self._active[local] = followed
        self._progress(followed, "submitted")
        if interrupted:
            raise asyncio.CancelledError
        if not self.batch_options.wait:
            self._leave(followed, "sent; not waiting for it (a later session collects it)")
            return
        await self._follow(followed)

    async def _not_submitted(self, local: int, config: ProviderConfig, model: str,
                             members: list[PlannedCall], rows: list[BatchRequestRow],
                             error: ProviderError) -> None:
        await self._on_writer(lambda store: store.batch_not_submitted(local, error.message))
        self._emit(BatchProgress(local, config.name, model, None, "not_submitted",
                                 total=len(members), failed=len(members), message=error.message))
        for planned, row in zip(members, rows):
            call = self._maker.new_call(planned)
            failed(call, error, not_sent=True)
            call.error_message = f"Not sent: the batch was refused: {error.message}"
            await self._maker.batch_answer(planned, call, BatchLink(local, row.custom_id, ERRORED))

    async def _follow(self, f: Followed, resumed: bool = False) -> None:
        """Poll `f` until it ends (backing off), then log its results."""
        client = self._batch_client(f.config)
        if resumed and not f.requests and f.status == "ended":  # logged; only not marked so
            await self._on_writer(lambda store: store.batch_collected(f.id))
            return
        self._active[f.id] = f
        opts = self.batch_options
        interval = opts.poll_initial
        first = True
        while True:
            if not (resumed and first):  # a resumed batch is asked at once: it may be over
                await asyncio.sleep(interval)
                interval = min(interval * opts.backoff, opts.poll_max)
            first = False
            try:
                state = await client.poll(f.provider_batch_id, f.info)
            except ProviderError as error:
                if error.retryable:  # an outage: keep trying at the poll's pace
                    self._progress(f, f.status, message=f"{error.message} (trying again)")
                    continue
                self._leave(f, error.message)
                await self._on_writer(lambda store: store.batch_trouble(f.id, error.message))
                return
            await self._record_poll(f, state)
            if state.ended:
                break
            if not opts.wait:
                self._leave(f, "still running; not waiting for it (a later session collects it)")
                return
        await _to_the_end(self._collect(f, client, state))

    async def _record_poll(self, f: Followed, state: BatchState) -> None:
        keep = {k: v for k, v in state.info.items() if isinstance(v, str) or v is None}
        f.status, f.provider_status = state.status, state.provider_status
        f.total = state.total or f.total
        f.counts = (state.succeeded, state.failed)
        f.ended = state.ended
        if state.ended and f.seen_ended_at is None:
            f.seen_ended_at = now_iso()
        await self._on_writer(lambda store: store.batch_polled(
            f.id, status=state.status, provider_status=state.provider_status,
            outcome=state.outcome, total=state.total, succeeded=state.succeeded,
            failed=state.failed, info=keep, error=state.error, ended_at=state.ended_at))
        self._progress(f, state.status, message=state.error)

    async def _collect(self, f: Followed, client: BatchClient, state: BatchState) -> None:
        """Log every result of an ended batch as a call (graded; judged later), then mark the
        batch collected. Runs to its end even if the run is cancelled meanwhile."""
        self._active.pop(f.id, None)
        try:
            items = await client.results(state, {cid: p.request for cid, p in f.requests})
        except ProviderError as error:
            self._leave(f, f"its results could not be read: {error.message}")
            await self._on_writer(lambda store: store.batch_trouble(f.id, error.message))
            return
        ended_at = f.seen_ended_at or now_iso()
        succeeded = sum(item.outcome == SUCCEEDED for item in items)
        if not (f.counts[0] or f.counts[1]):  # a provider that reports no counts
            f.counts = (succeeded, len(items) - succeeded)
        for item, (custom_id, planned) in zip(items, f.requests):
            call = self._maker.new_call(planned)
            if item.outcome == SUCCEEDED and item.reply is not None:
                answered(call, item.reply, f.submitted_at, ended_at)
            else:
                unanswered(call, item, f.submitted_at, ended_at)
            await self._maker.batch_answer(planned, call, BatchLink(f.id, custom_id, item.outcome))
        await self._on_writer(lambda store: store.batch_collected(f.id))
        self._progress(f, "collected")

    def _leave(self, f: Followed, why: str) -> None:
        self._active.pop(f.id, None)
        self.left_open[f.id] = why
        self._progress(f, "waiting", message=why)

    async def _cancel_at_providers(self) -> None:
        """Cancel the batches still running at their providers (the run was cancelled)."""
        for f in list(self._active.values()):
            if f.ended:
                continue
            client = self._batch_client(f.config)
            try:
                await asyncio.wait_for(client.cancel(f.provider_batch_id),
                                       self.batch_options.cancel_timeout)
            except (ProviderError, TimeoutError) as error:
                message = getattr(error, "message", "") or "no answer in time"
                self.left_open[f.id] = f"could not be cancelled: {message}"
                self._progress(f, f.status, message=f"could not be cancelled: {message}")
                continue
            await self._on_writer(lambda store, i=f.id: store.batch_cancelling(i))
            self.left_open[f.id] = "cancelled; a later session collects what it finished"
            self._progress(f, "cancelling")

    def _progress(self, f: Followed, status: str, message: str = "") -> None:
        done, failed_ = f.counts
        self._emit(BatchProgress(
            f.id, f.config.name, f.model, f.provider_batch_id, status,
            provider_status=f.provider_status, total=f.total, done=done, failed=failed_,
            pending=max(f.total - done - failed_, 0), message=message))


async def _to_the_end(work: Awaitable[T]) -> T:
    """Await `work` to its end even if our task is cancelled meanwhile, then re-raise."""
    task = asyncio.ensure_future(work)
    interrupted = False
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                raise
            interrupted = True
            continue
        if interrupted:
            raise asyncio.CancelledError
        return result
