"""The runner: makes a prepared run's calls, grades them, and logs each one as it ends.

Concurrency. One asyncio loop; one `ProviderClient` (one httpx pool, one adaptive limiter) per
provider; each provider has its own queue and as many workers as its limit may grow to, and
every call also takes a slot of the run's global limit. A provider starts at the run's
concurrency unless it pins a lower one; its limiter halves on a rate limit and grows back (up to
`max_concurrency`) while calls succeed. A slow or rate-limited provider thus never holds up the
others' queues.

Logging. Each call goes to the `CallWriter` the moment it ends, with its check results; the
writer commits in batches on its own thread. LLM-judge checks are calls too: they go through
the judge provider's queue, the cache and the log like any other call, and their verdict is
stored against the graded call with `judge_call_id` pointing at the judge's call.

Stopping. `cancel()` (from any thread) stops new calls at once and records the calls in flight
as cancelled, with the text they had streamed (python checks still running are stopped too). A
budget cap stops new calls when the spent cost reaches it and lets the calls in flight finish
(they are paid for). Either way the cells not run are simply missing, and `prepare_resume` finds
them.

Python checks. A run whose experiment has python checks, and whose source is trusted
(`PreparedRun.trusted`), grades them in its own `ExpressionPool` of worker processes, each
evaluation with a time limit; the pool and its grading threads end with the run, leaving no
process behind. An untrusted source's python checks do not run (see `calls`).

What happens to one call (send, cache, grade, log, report) is `calls.CallMaker`'s job; the
runner schedules. Events (see events) go to `on_event` on the loop's thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lab.core.checks.config import runs_code
from lab.core.checks.workers import ExpressionPool
from lab.core.model import Call
from lab.core.providers import ProviderClient, ProviderConfig
from lab.core.providers.pricing import PriceTable
from lab.core.run.calls import CallMaker, JudgeWork
from lab.core.run.events import (
    BudgetReached,
    EventCallback,
    ProviderLimit,
    RunFinished,
    RunStarted,
)
from lab.core.run.plan import JudgeCheck, PlannedCall
from lab.core.run.setup import PreparedRun, experiment_config, refuse_unpriced_budget
from lab.core.workspace.call_writer import CallWriter
from lab.core.workspace.errors import WorkspaceError
from lab.core.workspace.providers import remember_settings
from lab.core.workspace.store import open_workspace

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store


T = TypeVar("T")
ClientFactory = Callable[[ProviderConfig], ProviderClient]
# What a provider client can learn about its server, as the user should hear it.
LEARNED = {
    "stream_usage": "the server refused stream_options, so the lab no longer asks it for token counts "
                    "in streams (its streamed calls have unknown usage)",
}


class Runner:
    """One session of a run. From a GUI, on the store thread:

        plan = build_plan(spec, provider_configs(spec, configured_providers(store)))
        prepared = prepare_run(store, plan, RunOptions(), prices,   # or prepare_resume(...)
                               trusted=True)  # the user's own checks (see trust)
        runner = Runner(store.path, prepared, on_event=controller.post, prices=prices)
        done = runner.start_in_thread()      # a Future[RunFinished]
        ...
        runner.cancel()                      # from any thread

    `on_event` is called on the run's own thread; a Qt controller re-emits each event as a
    queued signal. `asyncio.run(runner.run())` runs it in the calling thread instead.
    """

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
        refuse_unpriced_budget(prepared)  # PlanError: prepare_run refuses it first; so does this
        self.prepared = prepared
        self.plan = prepared.plan
        self.options = prepared.options
        self.run_id = prepared.run_id
        self.spent_usd = prepared.spent_usd
        self._on_event = on_event or (lambda event: None)
        self._client_factory = client_factory or (lambda c: ProviderClient(c, prices=prices))
        self._writer = CallWriter(lambda: open_workspace(db_path), batch_size=writer_batch,
                                  interval=writer_interval, on_error=self._writer_failed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cancel_requested = False
        self._stopping: str | None = None  # why no new call may start: cancelled, budget, failed
        self._failure: BaseException | None = None
        self._pending = 0
        self._maker: CallMaker | None = None
        self._expressions: ExpressionPool | None = None
        self._grading: ThreadPoolExecutor | None = None
        self._notes: list[str] = []  # what the clients learned about their servers (writer thread)

    @property
    def warnings(self) -> list[str]:
        """Checks that could not run (a rubric variable missing in one case, ...) and settings
        learned about a provider's server, one line each."""
        return (self._maker.warnings if self._maker else []) + self._notes

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
        self._global = asyncio.Semaphore(
            max(self.options.concurrency, self.options.max_concurrency or 0))
        await asyncio.to_thread(self._writer.start)
        if self.prepared.trusted and any(runs_code(c) for c in self.plan.checks):
            self._expressions = ExpressionPool()  # its workers start when first needed
            self._grading = ThreadPoolExecutor(self._expressions.size, "lab-grade")
        try:
            self.run_id, experiment_id, versions = await self._on_writer(self._setup)
            self._maker = CallMaker(
                self.plan, self._writer, run_id=self.run_id, experiment_id=experiment_id,
                versions=versions, no_cache=self.options.no_cache, emit=self._emit,
                on_success=self._judge_later, on_cost=self._spend,
                trusted=self.prepared.trusted, expressions=self._expressions,
                grading=self._grading,
            )
            p = self.prepared
            self._emit(RunStarted(self.run_id, experiment_id, len(self.plan.calls),
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
            await asyncio.to_thread(self._close_grading)
            await asyncio.to_thread(self._writer.stop)
        failure = self._failure or self._writer.error
        counts = self._maker.counts if self._maker else {"calls": 0, "errors": 0, "cached": 0}
        finished = RunFinished(self.run_id or 0, "failed" if failure else status,
                               spent_usd=self.spent_usd,
                               message=str(failure) if failure else "", **counts)
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
            settings={"no_cache": self.options.no_cache, "concurrency": self.options.concurrency,
                      "batch": bool(self.options.batch)},
            estimated_cost_usd=None if p.estimate.unpriced else p.estimate.cost_usd,
            budget_usd=self.options.budget_usd,
        )
        return run_id, experiment_id, versions

    def _client(self, config: ProviderConfig) -> ProviderClient:
        """The provider's client with the limits of this run: what the run asks for, unless the
        provider pins a lower number; the limiter's moves are reported as events."""
        start, ceiling = config.limits(self.options.concurrency, self.options.max_concurrency)
        client = self._client_factory(replace(config, concurrency=start, max_concurrency=ceiling))
        client.on_learned = lambda changes: self._learned(config, changes)
        limiter = client.limiter
        limiter.on_change = lambda limit: self._emit(ProviderLimit(config.name, limit, ceiling))
        self._emit(ProviderLimit(config.name, limiter.limit, limiter.max_limit))
        return client

    def _learned(self, config: ProviderConfig, changes: dict[str, Any]) -> None:
        """A client learned a setting of its server (the client keeps it for this run): keep it
        in the workspace's settings of that provider, or tell the user how to."""
        what = "; ".join(LEARNED.get(name, f"{name} = {value!r}") for name, value in changes.items())
        written = ", ".join(f"{name} = {str(value).lower()}" for name, value in changes.items())

        def remember(store: Store) -> None:
            if remember_settings(store, config, changes):
                self._notes.append(f"{config.name}: {what}; remembered in its settings ({written}).")
            else:
                self._notes.append(f"{config.name}: {what}. Add {written} to the provider's settings "
                                   "to skip the refused first call.")

        self._writer.submit(remember)

    async def _execute(self) -> None:
        clients = {name: self._client(c) for name, c in self.plan.providers.items()}
        self._maker.clients = clients  # a chain's steps may go to other providers
        self._queues: dict[str, asyncio.Queue[Any]] = {name: asyncio.Queue() for name in clients}
        workers = [  # as many as the limit may grow to; the limiter holds back the rest
            asyncio.create_task(self._worker(self._queues[name], client))
            for name, client in clients.items()
            for _ in range(client.limiter.max_limit)
        ]
        try:
            for planned in self.prepared.work:
                if self._stopping in ("cancelled", "failed"):
                    break
                row = self.prepared.cached.get(planned.cache_key)
                if row is not None:  # answered at once: it costs nothing and fills the table
                    # (a python check awaits its worker: the calls queued so far go out meanwhile)
                    await self._maker.answer_from_cache(planned, row)
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

    def _enqueue(self, provider: str, work: PlannedCall | JudgeWork) -> None:
        self._pending += 1
        self._queues[provider].put_nowait(work)

    def _enqueue_judge(self, planned: PlannedCall, call: Call, judge_check: JudgeCheck) -> None:
        provider, _ = self.plan.judge_target(judge_check, planned.variant)
        self._enqueue(provider.name, JudgeWork(planned, call, judge_check))

    def _judge_later(self, planned: PlannedCall, call: Call) -> None:
        if self._stopping is None:
            for judge_check in self.plan.judges:
                self._enqueue_judge(planned, call, judge_check)

    async def _worker(self, queue: asyncio.Queue[Any], client: ProviderClient) -> None:
        while True:
            work = await queue.get()
            try:
                if self._stopping is None:
                    async with self._global:
                        if self._stopping is None:  # it may have stopped while we waited
                            if isinstance(work, JudgeWork):
                                await self._maker.judge_call(work, client)
                            else:
                                await self._maker.matrix_call(work, client)
            except Exception as exc:  # a bug: stop the run, keep everything already saved
                self._failure = exc
                self._stop("failed")
            finally:
                self._pending -= 1
                if self._pending == 0:
                    self._all_done.set()

    # ----- bookkeeping -------------------------------------------------------------------------

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
            if self._expressions is not None:
                self._expressions.abort()  # and the python checks still running

    def _close_grading(self) -> None:
        """Stop the python-check workers (blocking: they are joined) and the grading threads."""
        if self._expressions is not None:
            self._expressions.close()
        if self._grading is not None:
            self._grading.shutdown(wait=True)

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
