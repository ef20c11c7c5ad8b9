"""Batch runs: a run's calls sent through the providers' batch APIs, at the batch price, in a
way that survives the lab being closed or killed while it waits.

    prepared = prepare_run(store, plan, RunOptions(batch=True), prices)   # or prepare_resume
    prepared = with_batches(store, prepared, prices)   # batch prices, limits, waiting batches
    runner = BatchRunner(db_path, prepared, on_event=..., prices=prices)
    finished = await runner.run()                      # or runner.start_in_thread()

Durability. A batch is written to the workspace before it is sent, with each cell under its
custom id, and gets the provider's id the moment the provider accepts it; every poll records
the provider's status and counts. Results are logged as ordinary calls (`calls.batch_id` says
which batch), each with its batch link in one transaction, so collecting again after a crash
skips what is logged. A later session of the run (`lab run --resume RUN_ID`, or the window)
first follows the run's open batches to their end and logs their results, then sends whatever
is still missing — failed, expired or cancelled requests included — in new batches (the run's
own mode; `RunOptions(batch=False)` sends them one by one instead).

What goes in a batch, its limits, latency and cost: see `lab.core.run.batch_plan`.

Stopping. `cancel()` cancels the provider's batches that have not ended (what they finished is
still billed and comes back when the run is resumed) and records them as cancelling. Killing the
process leaves them running at the provider; the resume follows them. Polling backs off from
`BatchOptions.poll_initial` to `poll_max` seconds; a poll that fails for a transient reason is
tried again at that pace, and one that cannot succeed (the key refused, the batch unknown)
leaves the batch open with the reason: the run ends "waiting".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from lab.core.providers import ProviderConfig, ProviderError
from lab.core.providers.batches import (
    ERRORED,
    SUCCEEDED,
    BatchClient,
    BatchItem,
    BatchState,
)
from lab.core.providers.pricing import PriceTable
from lab.core.run.batch_plan import (
    BatchOptions,
    answered,
    batchable,
    custom_ids,
    group,
    unanswered,
    waiting_cells,
)
from lab.core.run.call_records import failed
from lab.core.run.events import BatchProgress, EventCallback
from lab.core.run.plan import PlannedCall
from lab.core.run.runner import ClientFactory, Runner
from lab.core.run.setup import PreparedRun
from lab.core.runtime.despite_cancel import to_the_end
from lab.core.workspace.batches import BatchLink, BatchRequestRow
from lab.core.workspace.rows import now_iso

T = TypeVar("T")
BatchClientFactory = Callable[[ProviderConfig], BatchClient]



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
                trouble = error.message
                self._leave(f, trouble)
                await self._on_writer(lambda store: store.batch_trouble(f.id, trouble))
                return
            await self._record_poll(f, state)
            if state.ended:
                break
            if not opts.wait:
                self._leave(f, "still running; not waiting for it (a later session collects it)")
                return
        await to_the_end(self._collect(f, client, state))

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
            trouble = error.message
            self._leave(f, f"its results could not be read: {trouble}")
            await self._on_writer(lambda store: store.batch_trouble(f.id, trouble))
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

