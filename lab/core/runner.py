"""The runner: makes a prepared run's calls, grades them, and logs each one as it ends.

Concurrency. One asyncio loop; one `ProviderClient` (one httpx pool, one adaptive limiter) per
provider; each provider has its own queue and as many workers as its concurrency allows, and
every call also takes a slot of the run's global limit. A slow or rate-limited provider thus
never holds up the others' queues.

Logging. Each call goes to the `CallWriter` the moment it ends, with its check results; the
writer commits in batches on its own thread. LLM-judge checks are calls too: they go through
the judge provider's queue, the cache and the log like any other call, and their verdict is
stored against the graded call with `judge_call_id` pointing at the judge's call.

Stopping. `cancel()` (from any thread) stops new calls at once and records the calls in flight
as cancelled, with the text they had streamed. A budget cap stops new calls when the spent cost
reaches it and lets the calls in flight finish (they are paid for). Either way the cells not run
are simply missing, and `prepare_resume` finds them.

A provider that refuses the key or has no credit would refuse every call: after the first such
error, its remaining calls are logged as "Not sent" with that error instead of being sent (the
same for a model the provider does not have).

Events (see run_events) go to `on_event` on the loop's thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from lab.core import run_calls
from lab.core.call_writer import CallWriter
from lab.core.checks import CheckConfigError, run_check
from lab.core.judge import parse_judge_reply
from lab.core.model import Call
from lab.core.pricing import PriceTable
from lab.core.providers import (
    AuthError,
    ChatRequest,
    ModelNotFound,
    ProviderClient,
    ProviderConfig,
    ProviderError,
    QuotaExceeded,
)
from lab.core.run_events import (
    BudgetReached,
    CallDelta,
    CallFinished,
    CallStarted,
    EventCallback,
    JudgeFinished,
    RunFinished,
    RunStarted,
)
from lab.core.run_plan import (
    JUDGE_LABEL,
    JudgeCheck,
    PlannedCall,
    cache_key,
    judge_request,
    wire_body,
)
from lab.core.run_setup import PreparedRun, experiment_config
from lab.core.store import Store, WorkspaceError, open_workspace
from lab.core.store_runs import CallRecord, CheckRecord, LoggedCheck

T = TypeVar("T")
ClientFactory = Callable[[ProviderConfig], ProviderClient]


@dataclass
class _JudgeWork:
    planned: PlannedCall  # the cell whose output is graded
    call: Call  # its logged call
    judge: JudgeCheck


class Runner:
    def __init__(
        self,
        db_path: str | Path,
        prepared: PreparedRun,
        *,
        on_event: EventCallback | None = None,
        prices: PriceTable | None = None,
        client_factory: ClientFactory | None = None,
        writer_batch: int = 200,
        writer_interval: float = 0.05,
    ) -> None:
        self.prepared = prepared
        self.plan = prepared.plan
        self.options = prepared.options
        self.run_id = prepared.run_id
        self.spent_usd = prepared.spent_usd
        self.warnings: list[str] = []  # checks that could not run, one line each
        self._on_event = on_event or (lambda event: None)
        self._client_factory = client_factory or (lambda c: ProviderClient(c, prices=prices))
        self._writer = CallWriter(lambda: open_workspace(db_path), batch_size=writer_batch,
                                  interval=writer_interval, on_error=self._writer_failed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cancel_requested = False
        self._stopping: str | None = None  # why no new call may start: cancelled, budget, failed
        self._failure: BaseException | None = None
        self._blocked: dict[tuple[str, str | None], ProviderError] = {}
        self._counts = {"calls": 0, "errors": 0, "cached": 0}
        self._pending = 0
        self._experiment_id = 0
        self._versions: dict[str, int] = {}

    # ----- control, from any thread ----------------------------------------------------------

    def cancel(self) -> None:
        """Stop the run: no new calls, calls in flight recorded as cancelled. Thread-safe."""
        self._cancel_requested = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._stop, "cancelled")

    def start_in_thread(self) -> Future[RunFinished]:
        """Run on a new thread with its own event loop (what the GUI does)."""
        future: Future[RunFinished] = Future()

        def main() -> None:
            try:
                future.set_result(asyncio.run(self.run()))
            except BaseException as exc:
                future.set_exception(exc)

        threading.Thread(target=main, name="lab-run", daemon=True).start()
        return future

    # ----- the run -----------------------------------------------------------------------------

    async def run(self) -> RunFinished:
        self._loop = asyncio.get_running_loop()
        interrupted = False
        self._all_done = asyncio.Event()
        self._global = asyncio.Semaphore(self.options.concurrency)
        await asyncio.to_thread(self._writer.start)
        try:
            self.run_id, self._experiment_id, self._versions = await self._on_writer(self._setup)
            p = self.prepared
            self._emit(RunStarted(self.run_id, self._experiment_id, len(self.plan.calls),
                                  len(p.to_call), len(p.work) - len(p.to_call), p.already_done,
                                  resumed=p.run_id is not None))
            if self._cancel_requested:
                self._stop("cancelled")
            await self._execute()
        except asyncio.CancelledError:
            # The task running us was cancelled rather than `cancel()` called: same outcome.
            interrupted = True
            self._stopping = self._stopping or "cancelled"
        except Exception as exc:
            self._failure = self._failure or exc
            self._stopping = "failed"
        status = self._stopping or "done"
        try:
            if self.run_id is not None:
                await self._on_writer(lambda store: store.finish_run(self.run_id, status))
        finally:
            await asyncio.to_thread(self._writer.stop)
        failure = self._failure or self._writer.error
        finished = RunFinished(self.run_id or 0, "failed" if failure else status,
                               spent_usd=self.spent_usd,
                               message=str(failure) if failure else "", **self._counts)
        self._emit(finished)
        if failure is not None and not isinstance(failure, WorkspaceError):
            raise failure  # a bug, not something the user can fix: let it show
        if interrupted:
            raise asyncio.CancelledError
        return finished

    def _setup(self, store: Store) -> tuple[int, int, dict[str, int]]:
        p, spec = self.prepared, self.plan.spec
        versions = {}
        for call in self.plan.calls:
            if call.variant.name not in versions:
                versions[call.variant.name] = store.prompt_version_id(call.prompt_version,
                                                                      call.variant.id)
        if p.run_id is not None:
            store.reopen_run(p.run_id)
            return p.run_id, store.get_run(p.run_id)["experiment_id"], versions
        experiment_id = store.create_experiment(spec.project.name, experiment_config(spec),
                                                p.source, p.project_id)
        run_id = store.create_run(
            experiment_id, samples=self.plan.samples, planned_calls=len(self.plan.calls),
            settings={"no_cache": self.options.no_cache, "concurrency": self.options.concurrency},
            estimated_cost_usd=None if p.estimate.unpriced else p.estimate.cost_usd,
            budget_usd=self.options.budget_usd,
        )
        return run_id, experiment_id, versions

    async def _execute(self) -> None:
        clients = {name: self._client_factory(c) for name, c in self.plan.providers.items()}
        self._queues: dict[str, asyncio.Queue[Any]] = {name: asyncio.Queue() for name in clients}
        workers = [
            asyncio.create_task(self._worker(self._queues[name], clients[name]))
            for name, config in self.plan.providers.items()
            for _ in range(min(config.concurrency, self.options.concurrency))
        ]
        try:
            for planned in self.prepared.work:
                row = self.prepared.cached.get(planned.cache_key)
                if row is not None:  # answered at once: it costs nothing and fills the table
                    call = self._new_call(planned)
                    run_calls.from_cache(call, row)
                    self._matrix_done(planned, call, cached_from=row["id"])
                else:
                    self._enqueue(planned.provider.name, planned)
            for gap in self.prepared.judge_gaps:
                self._enqueue_judge(gap.planned, gap.call, gap.judge)
            if self._pending == 0:
                self._all_done.set()
            await self._all_done.wait()
        finally:
            for worker in workers:
                worker.cancel()  # calls in flight record themselves as cancelled
            await asyncio.gather(*workers, return_exceptions=True)
            await asyncio.gather(*(c.aclose() for c in clients.values()), return_exceptions=True)

    def _enqueue(self, provider: str, work: PlannedCall | _JudgeWork) -> None:
        self._pending += 1
        self._queues[provider].put_nowait(work)

    def _enqueue_judge(self, planned: PlannedCall, call: Call, judge_check: JudgeCheck) -> None:
        provider, _ = self.plan.judge_target(judge_check, planned.variant)
        self._enqueue(provider.name, _JudgeWork(planned, call, judge_check))

    async def _worker(self, queue: asyncio.Queue[Any], client: ProviderClient) -> None:
        while True:
            work = await queue.get()
            try:
                if self._stopping is None:
                    async with self._global:
                        if self._stopping is None:  # it may have stopped while we waited
                            if isinstance(work, _JudgeWork):
                                await self._judge(work, client)
                            else:
                                await self._call(work, client)
            except Exception as exc:  # a bug: stop the run, keep everything already saved
                self._failure = exc
                self._stop("failed")
            finally:
                self._pending -= 1
                if self._pending == 0:
                    self._all_done.set()

    # ----- one matrix call ---------------------------------------------------------------------

    def _new_call(self, planned: PlannedCall) -> Call:
        return run_calls.started_call(
            provider=planned.provider.name, model=planned.request.model, request=planned.body,
            params=dict(planned.request.params), run_id=self.run_id,
            experiment_id=self._experiment_id, variant_name=planned.variant.name,
            variant_id=planned.variant.id, prompt_version_id=self._versions[planned.variant.name],
            test_case_id=planned.case.id, case_vars=dict(planned.case.vars),
            sample_index=planned.cell.sample_index, cache_key=planned.cache_key,
        )

    async def _call(self, planned: PlannedCall, client: ProviderClient) -> None:
        call = self._new_call(planned)
        cell = planned.cell
        await self._send(call, client, planned.request,
                         started=CallStarted(cell, call.provider, call.model),
                         on_delta=lambda text: self._emit(CallDelta(cell, text)),
                         on_cancel=lambda: self._matrix_done(planned, call))
        self._matrix_done(planned, call)

    async def _send(
        self,
        call: Call,
        client: ProviderClient,
        request: ChatRequest,
        *,
        started: CallStarted,
        on_delta: Callable[[str], None] | None,
        on_cancel: Callable[[], None],
    ) -> None:
        """Send one request and fill `call` with the outcome. If the task is cancelled, the
        call is recorded as cancelled (`on_cancel`) before the cancellation goes on."""
        blocked = (self._blocked.get((call.provider, None))
                   or self._blocked.get((call.provider, call.model)))
        if blocked is not None:
            run_calls.failed(call, blocked, not_sent=True)
            return
        self._emit(started)
        parts: list[str] = []

        def delta(text: str) -> None:
            parts.append(text)
            if on_delta is not None:
                on_delta(text)

        began = time.monotonic()
        try:
            result = await client.complete(request, on_delta=delta)
        except asyncio.CancelledError:
            run_calls.was_cancelled(call, "".join(parts), began)
            on_cancel()
            raise
        except ProviderError as error:
            run_calls.failed(call, error, began, free=client.config.is_local)
            if isinstance(error, (AuthError, QuotaExceeded)):
                self._blocked.setdefault((call.provider, None), error)
            elif isinstance(error, ModelNotFound):
                self._blocked.setdefault((call.provider, call.model), error)
        else:
            run_calls.succeeded(call, result)

    def _matrix_done(self, planned: PlannedCall, call: Call, cached_from: int | None = None) -> None:
        results = self._checks(planned, call) if call.status == "ok" else []
        self._writer.save(CallRecord(
            call, case_index=planned.cell.case_index, cached_from_call_id=cached_from,
            checks=[LoggedCheck(r.check_name, r.passed, r.score, r.reason) for r in results],
        ))
        self._count(call)
        self._emit(CallFinished(planned.cell, call, results, cached=cached_from is not None))
        if call.status == "ok" and self._stopping is None:
            for judge_check in self.plan.judges:
                self._enqueue_judge(planned, call, judge_check)
        self._spend(call.cost_usd)

    def _checks(self, planned: PlannedCall, call: Call) -> list[Any]:
        results = []
        for check, name in zip(self.plan.checks, self.plan.check_names):
            if check.type == "judge":
                continue
            try:
                results.append(run_check(check, call.response_text, planned.case, name=name))
            except CheckConfigError as exc:  # never counted against the variant
                if str(exc) not in self.warnings:
                    self.warnings.append(str(exc))
        return results

    # ----- one judge call ----------------------------------------------------------------------

    async def _judge(self, work: _JudgeWork, client: ProviderClient) -> None:
        provider, model = self.plan.judge_target(work.judge, work.planned.variant)
        request = judge_request(work.judge, model, work.call.response_text, work.planned.case)
        body = wire_body(provider, request)
        key = cache_key(provider, model, body, 0)
        call = run_calls.started_call(
            provider=provider.name, model=model, request=body, params=dict(request.params),
            run_id=self.run_id, experiment_id=self._experiment_id,
            variant_name=f"{JUDGE_LABEL}{work.judge.name}", case_vars=dict(work.planned.case.vars),
            test_case_id=work.planned.case.id, sample_index=work.planned.cell.sample_index,
            cache_key=key,
        )
        cached_from = None
        row = None if self.options.no_cache else (
            await self._on_writer(lambda store: store.cached_calls([key]))).get(key)
        if row is not None:
            run_calls.from_cache(call, row)
            cached_from = row["id"]
        else:
            await self._send(call, client, request,
                             started=CallStarted(work.planned.cell, provider.name, model,
                                                 judge=work.judge.name),
                             on_delta=None, on_cancel=lambda: self._judge_done(work, call, None))
        self._judge_done(work, call, cached_from)

    def _judge_done(self, work: _JudgeWork, call: Call, cached_from: int | None) -> None:
        record = CallRecord(call, case_index=work.planned.cell.case_index, judged=work.call,
                            cached_from_call_id=cached_from)
        self._writer.save(record)
        result = None
        if call.status == "ok":
            result = parse_judge_reply(work.judge.check, call.response_text, name=work.judge.name)
            self._writer.save(CheckRecord(work.call, [LoggedCheck(
                result.check_name, result.passed, result.score, result.reason, judge_call=call)]))
        self._count(call)
        self._emit(JudgeFinished(work.planned.cell, work.judge.name, call, result))
        self._spend(call.cost_usd)

    # ----- bookkeeping -------------------------------------------------------------------------

    def _count(self, call: Call) -> None:
        self._counts["calls"] += 1
        self._counts["errors"] += call.status == "error"
        self._counts["cached"] += call.cached

    def _spend(self, cost: float | None) -> None:
        self.spent_usd += cost or 0.0
        budget = self.options.budget_usd
        if budget is not None and self.spent_usd >= budget and self._stopping is None:
            self._stop("budget")
            self._emit(BudgetReached(self.spent_usd, budget))

    def _stop(self, reason: str) -> None:
        if self._stopping is None:
            self._stopping = reason
        if reason != "budget":  # cancel and failure also stop the calls in flight
            self._all_done.set()

    def _emit(self, event: Any) -> None:
        self._on_event(event)

    def _writer_failed(self, exc: BaseException) -> None:
        # Called on the writer's thread; the run stops on its own.
        def fail() -> None:
            self._failure = self._failure or exc
            self._stop("failed")

        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fail)

    async def _on_writer(self, fn: Callable[[Store], T]) -> T:
        return await asyncio.wrap_future(self._writer.submit(fn))
