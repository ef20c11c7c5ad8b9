"""How one call of a run is made and logged: sent (or answered from the cache), ended as ok,
error or cancelled, graded, handed to the writer, and reported as events.

`CallMaker` does this for matrix calls and LLM-judge calls alike, so both are logged the same
way; the runner around it only schedules. The functions at the end decide what each outcome
records. Nothing here holds a key: request bodies come from the family modules, which put keys in
headers, and provider errors are scrubbed by the provider layer.

A provider that refuses the key or has no credit (a billing stop, a used-up daily quota) would
refuse every call: after the first such error, its remaining calls are logged as "Not sent" with
that error instead of being sent (the same for a model the provider does not have). The provider
client stops too, so calls already waiting inside it for a slot or a retry are not sent either.

Grading. Most checks are quick and run on the loop. A python check runs in the run's
`ExpressionPool` (a worker process it can stop), waited for from a grading thread so the loop
keeps streaming; a run whose source is not trusted does not run python checks at all (each such
check is named once in `warnings`). A cancelled run still logs the outputs it has, with their
checks, except a python check that was still running: cancelling stops it (no verdict, a warning).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from lab.core.checks.config import runs_code
from lab.core.checks.graders import ExpressionEvaluator, run_check
from lab.core.checks.judge import parse_judge_reply
from lab.core.checks.result import CheckConfigError, CheckResult
from lab.core.checks.workers import EvaluationStopped
from lab.core.model import Call, Check
from lab.core.providers import ChatRequest, ModelNotFound, ProviderError
from lab.core.run.call_records import (
    failed,
    from_cache,
    started_call,
    succeeded,
    was_cancelled,
)
from lab.core.run.chains import run_chain
from lab.core.run.events import (
    CallDelta,
    CallFinished,
    CallStarted,
    JudgeFinished,
    RunEvent,
)
from lab.core.run.plan import (
    JUDGE_LABEL,
    JudgeCheck,
    PlannedCall,
    RunPlan,
    cache_key,
    judge_request,
    wire_body,
)
from lab.core.runtime.despite_cancel import despite_cancel
from lab.core.workspace.batches import BatchLink
from lab.core.workspace.call_writer import CallWriter
from lab.core.workspace.runs import CallRecord, CheckRecord, LoggedCheck

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.providers.client import ProviderClient


T = TypeVar("T")


@dataclass
class JudgeWork:
    """An LLM judge still has to grade one cell's output."""

    planned: PlannedCall  # the cell whose output is graded
    call: Call  # its logged call (saved before this work exists, so its id is known in time)
    judge: JudgeCheck


class CallMaker:
    def __init__(
        self,
        plan: RunPlan,
        writer: CallWriter,
        *,
        run_id: int,
        experiment_id: int,
        versions: dict[str, int],
        no_cache: bool,
        emit: Callable[[RunEvent], None],
        on_success: Callable[[PlannedCall, Call], None],
        on_cost: Callable[[float | None], None],
        trusted: bool = False,
        expressions: ExpressionEvaluator | None = None,
        grading: Executor | None = None,
    ) -> None:
        self.plan = plan
        self.writer = writer
        self.run_id = run_id
        self.experiment_id = experiment_id
        self.versions = versions  # variant name -> prompt version id
        self.no_cache = no_cache
        self.emit = emit
        self.on_success = on_success  # a matrix call succeeded (the runner queues its judges)
        self.on_cost = on_cost
        # Python checks run only when the experiment's source is trusted, in `expressions` (the
        # run's worker pool), waited for on a `grading` thread.
        self.trusted = trusted
        self.expressions = expressions
        self.grading = grading
        self._runs_code = trusted and any(runs_code(c) for c in plan.checks)
        self.counts = {"calls": 0, "errors": 0, "cached": 0}
        self.warnings: list[str] = []  # checks that could not run, one line each
        self._blocked: dict[tuple[str, str | None], ProviderError] = {}
        self.clients: dict[str, ProviderClient] = {}  # every provider's, set by the runner

    # ----- matrix calls ------------------------------------------------------------------------

    def new_call(self, planned: PlannedCall) -> Call:
        return started_call(
            provider=planned.provider.name, model=planned.request.model, request=planned.body,
            params=dict(planned.request.params), run_id=self.run_id,
            experiment_id=self.experiment_id, variant_name=planned.variant.name,
            variant_id=planned.variant.id, prompt_version_id=self.versions[planned.variant.name],
            test_case_id=planned.case.id, case_vars=dict(planned.case.vars),
            sample_index=planned.cell.sample_index, cache_key=planned.cache_key,
        )

    async def answer_from_cache(self, planned: PlannedCall, row: dict[str, Any]) -> None:
        call = self.new_call(planned)
        from_cache(call, row)
        results, interrupted = await self._checks(planned, call)
        self._matrix_done(planned, call, results, cached_from=row["id"])
        if interrupted:
            raise asyncio.CancelledError

    def started(self, **fields: Any) -> Call:
        """A call of this run about to be sent."""
        return started_call(run_id=self.run_id, experiment_id=self.experiment_id, **fields)

    def answer_step_from_cache(self, call: Call, row: dict[str, Any]) -> None:
        from_cache(call, row)
        call.cached_from = row["id"]  # type: ignore[attr-defined] - read by the run log

    async def _cached(self, key: str) -> dict[str, Any] | None:
        """The log's answer to this exact request, asked on the writer's connection behind
        everything queued (so an identical request made earlier in this run is found too)."""
        return (await asyncio.wrap_future(
            self.writer.submit(lambda store: store.cached_calls([key])))).get(key)

    async def _chain_call(self, planned: PlannedCall) -> None:
        chain = self.new_call(planned)
        steps: list[Call] = []
        try:
            await run_chain(self, planned, chain, steps, self.clients, self._cached)
        except asyncio.CancelledError:
            self._matrix_done(planned, chain, [], steps=steps)
            raise
        results: list[CheckResult] = []
        interrupted = False
        if chain.status == "ok":
            outputs = {s.step: s.response_text for s in steps if s.step}
            results, interrupted = await self._checks(planned, chain, outputs)
        self._matrix_done(planned, chain, results, steps=steps)
        if interrupted:
            raise asyncio.CancelledError

    async def matrix_call(self, planned: PlannedCall, client: ProviderClient) -> None:
        if planned.steps:
            return await self._chain_call(planned)
        call = self.new_call(planned)
        cell = planned.cell
        await self._send(call, client, planned.request,
                         started=CallStarted(cell, call.provider, call.model),
                         on_delta=lambda text: self.emit(CallDelta(cell, text)),
                         on_cancel=lambda: self._matrix_done(planned, call, []))
        results: list[CheckResult] = []
        interrupted = False
        if call.status == "ok":
            # The output is here (and paid for): grade it even if the run is being cancelled.
            results, interrupted = await self._checks(planned, call)
        self._matrix_done(planned, call, results)
        if interrupted:
            raise asyncio.CancelledError

    async def batch_answer(self, planned: PlannedCall, call: Call, batch: BatchLink) -> None:
        """A cell answered by a provider's batch (see batch): graded like any output, and
        logged with the batch request it answers."""
        results: list[CheckResult] = []
        interrupted = False
        if call.status == "ok":
            results, interrupted = await self._checks(planned, call)
        self._matrix_done(planned, call, results, batch=batch)
        if interrupted:
            raise asyncio.CancelledError

    def _matrix_done(self, planned: PlannedCall, call: Call, results: list[CheckResult],
                     cached_from: int | None = None, steps: list[Call] | None = None,
                     batch: BatchLink | None = None) -> None:
        self.writer.save(CallRecord(
            call, case_index=planned.cell.case_index, cached_from_call_id=cached_from,
            checks=[LoggedCheck(r.check_name, r.passed, r.score, r.reason) for r in results],
            chunks=planned.retrieved, steps=list(steps or []), batch=batch,
        ))
        self._count(call)
        self.emit(CallFinished(planned.cell, call, results, cached=cached_from is not None))
        if call.status == "ok":
            self.on_success(planned, call)
        self.on_cost(call.cost_usd)

    async def _checks(self, planned: PlannedCall, call: Call,
                      outputs: dict[str, str] | None = None) -> tuple[list[CheckResult], bool]:
        """The output's check results, and whether the task was cancelled while they ran (the
        caller re-raises it once the results are saved). `outputs`: a chain's step outputs,
        for checks that grade one step."""
        if self._runs_code:  # grading awaits worker processes: it may be interrupted
            return await despite_cancel(self._grade(planned, call, outputs or {}))
        return await self._grade(planned, call, outputs or {}), False  # never suspends

    async def _grade(self, planned: PlannedCall, call: Call,
                     outputs: dict[str, str]) -> list[CheckResult]:
        results = []
        for check, name in self.plan.checks_for(planned.variant):
            if check.type == "judge":
                continue  # graded later, by its own call
            if check.type == "retrieval-hit" and (planned.variant.retrieval is None
                                                   or not planned.variant.retrieval.on):
                continue  # retrieval quality of a variant that does not retrieve: not its measure
            output = call.response_text
            step = check.config.get("step")
            if step is not None:
                if step not in outputs:
                    continue  # grades a step this variant does not have (not a chain, or another)
                output = outputs[step]
            code = runs_code(check)
            if code and not self.trusted:
                self._warn(f"Check '{name}' did not run: a {check.type} check is code, and "
                           "this experiment's file is not trusted.")
                continue

            def grade(check: Check = check, name: str = name, output: str = output) -> CheckResult:
                return run_check(check, output, planned.case, name=name,
                                 expressions=self.expressions, call=call,
                                 retrieved=planned.retrieved)

            try:
                if code:  # waits for a worker process: off the loop
                    loop = asyncio.get_running_loop()
                    results.append(await loop.run_in_executor(self.grading, grade))
                else:
                    results.append(grade())
            except CheckConfigError as exc:  # never counted against the variant
                self._warn(str(exc))
            except EvaluationStopped:  # the run was cancelled while it ran: no verdict
                self._warn(f"Check '{name}' was not graded on an output that arrived as the run "
                           "was stopped.")
        return results

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    # ----- judge calls -------------------------------------------------------------------------

    async def judge_call(self, work: JudgeWork, client: ProviderClient) -> None:
        provider, model = self.plan.judge_target(work.judge, work.planned.variant)
        request = judge_request(work.judge, model, work.call.response_text, work.planned.case)
        body = wire_body(provider, request)
        key = cache_key(provider, model, body, 0)
        call = started_call(
            provider=provider.name, model=model, request=body, params=dict(request.params),
            run_id=self.run_id, experiment_id=self.experiment_id,
            variant_name=f"{JUDGE_LABEL}{work.judge.name}", case_vars=dict(work.planned.case.vars),
            test_case_id=work.planned.case.id, sample_index=work.planned.cell.sample_index,
            cache_key=key,
        )
        cached_from = None
        # Asked on the writer's connection, behind everything queued: an identical judge request
        # made earlier in this same run is found too.
        row = None if self.no_cache else (await asyncio.wrap_future(
            self.writer.submit(lambda store: store.cached_calls([key])))).get(key)
        if row is not None:
            from_cache(call, row)
            cached_from = row["id"]
        else:
            await self._send(call, client, request,
                             started=CallStarted(work.planned.cell, provider.name, model,
                                                 judge=work.judge.name),
                             on_delta=None, on_cancel=lambda: self._judge_done(work, call, None))
        self._judge_done(work, call, cached_from)

    def _judge_done(self, work: JudgeWork, call: Call, cached_from: int | None) -> None:
        self.writer.save(CallRecord(call, case_index=work.planned.cell.case_index,
                                    judged=work.call, cached_from_call_id=cached_from))
        result = None
        if call.status == "ok":
            result = parse_judge_reply(work.judge.check, call.response_text, name=work.judge.name)
            self.writer.save(CheckRecord(work.call, [LoggedCheck(
                result.check_name, result.passed, result.score, result.reason, judge_call=call)]))
        self._count(call)
        self.emit(JudgeFinished(work.planned.cell, work.judge.name, call, result))
        self.on_cost(call.cost_usd)

    # ----- sending -----------------------------------------------------------------------------

    async def send(self, *args: Any, **kwargs: Any) -> None:
        """Send one call (see `_send`); a chain sends its steps through it."""
        await self._send(*args, **kwargs)

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
            failed(call, blocked, not_sent=True)
            return
        self.emit(started)
        parts: list[str] = []

        def delta(text: str) -> None:
            parts.append(text)
            if on_delta is not None:
                on_delta(text)

        def restart() -> None:  # a retry after a cut stream: the cell starts over
            parts.clear()
            self.emit(started)

        began = time.monotonic()
        try:
            result = await client.complete(request, on_delta=delta, on_restart=restart)
        except asyncio.CancelledError:
            was_cancelled(call, "".join(parts), began)
            on_cancel()
            raise
        except ProviderError as error:
            failed(call, error, began, not_sent=not error.sent, free=client.config.is_local)
            if error.stops_provider:
                self._blocked.setdefault((call.provider, None), error)
            elif isinstance(error, ModelNotFound):
                self._blocked.setdefault((call.provider, call.model), error)
        else:
            succeeded(call, result)

    def _count(self, call: Call) -> None:
        self.counts["calls"] += 1
        self.counts["errors"] += call.status == "error"
        self.counts["cached"] += call.cached

