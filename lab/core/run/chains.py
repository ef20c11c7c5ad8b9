"""Making a chain's cell: its steps sent in order, each output feeding the steps after it.

Each step is rendered when the steps before it are done (`{{steps.NAME}}`, and a JSON output's
fields as `{{steps.NAME.field}}`), looked up in the cache by its own request, otherwise sent
with the provider's client (retries, limits, cost) and logged as a call of its own, named by
its step. The cell's call is the chain as a whole: the last step's request and output, and the
totals of every step (tokens, cost, latency). A step that fails stops the chain; the cell is an
error naming the step. Only the last step streams into the window's cell.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from lab.core.experiment import template
from lab.core.model import Call, Usage
from lab.core.run.events import CallDelta, CallStarted
from lab.core.run.plan import PlannedCall, cache_key, chat_request, wire_body

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.providers.client import ProviderClient


CachedLookup = Callable[[str], Awaitable[dict[str, Any] | None]]


def _add(total: Usage, part: Usage | None) -> None:
    if part is None:
        return
    for name in ("input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens"):
        value = getattr(part, name, None)
        if value is not None:
            setattr(total, name, (getattr(total, name) or 0) + value)


def not_rendered(call: Call, message: str) -> None:
    call.status, call.error_type, call.error_message = "error", "MissingValue", message
    call.cost_usd = 0.0  # never sent
    call.finished_at = call.started_at


def finish_chain(chain: Call, steps: list[Call]) -> None:
    """The cell's call from its steps: the last one's request and output, everyone's totals."""
    last = steps[-1]
    if all(s.usage is not None and s.usage.known for s in steps):
        usage = Usage()
        for step in steps:
            _add(usage, step.usage)
        chain.usage = usage
    else:  # a step whose usage nobody reported: the chain's total is unknown, not a part of it
        chain.usage = Usage.unknown()
    costs = [s.cost_usd for s in steps]
    chain.cost_usd = None if any(c is None for c in costs) else sum(costs)
    chain.latency_ms = sum(s.latency_ms or 0.0 for s in steps)
    chain.ttft_ms = sum(s.latency_ms or 0.0 for s in steps[:-1]) + (last.ttft_ms or 0.0)
    chain.request, chain.params, chain.model = last.request, last.params, last.model
    chain.provider, chain.step, chain.finish_reason = last.provider, last.step, last.finish_reason
    chain.cached = all(s.cached for s in steps)
    chain.finished_at = last.finished_at
    failed = next((s for s in steps if s.status != "ok"), None)
    if failed is None:
        chain.status, chain.response_text = "ok", last.response_text
        return
    chain.status = failed.status
    chain.error_type = failed.error_type
    chain.error_message = f"Step '{failed.step}' failed: {failed.error_message or failed.status}"
    chain.response_text = failed.response_text if failed is last else ""


async def run_chain(maker: Any, planned: PlannedCall, chain: Call, steps: list[Call],
                    clients: dict[str, ProviderClient], lookup: CachedLookup) -> None:
    """Send `planned`'s steps in order, each call appended to `steps` as it starts (so a
    cancelled chain still has what it made), and fill `chain` from them. `maker` is the run's
    CallMaker: how a call is started, sent and answered from the cache."""
    outputs: dict[str, str] = {}
    cell = planned.cell
    for index, step in enumerate(planned.steps):
        last = index == len(planned.steps) - 1
        try:
            messages = template.build_messages(step.variant, step.step.user,
                                               planned.prompt_case(outputs))
        except template.MissingVariables as missing:
            # {{steps.extract.order}} with no such field: the earlier step's output decides it
            call = maker.started(provider=step.provider.name, model=step.variant.model_name,
                                 request={}, variant_name=chain.variant_name,
                                 variant_id=chain.variant_id, test_case_id=chain.test_case_id,
                                 case_vars=dict(chain.case_vars), sample_index=cell.sample_index,
                                 step=step.step.name)
            not_rendered(call, f"{missing}: an earlier step's output has no such value (a "
                               "field needs a JSON object with that key); nothing was sent.")
            steps.append(call)
            break
        request = chat_request(step.variant.model_name, messages, step.variant.params)
        body = wire_body(step.provider, request)
        key = cache_key(step.provider, request.model, body, cell.sample_index)
        call = maker.started(
            provider=step.provider.name, model=request.model, request=body,
            params=dict(request.params), variant_name=chain.variant_name,
            variant_id=chain.variant_id, prompt_version_id=chain.prompt_version_id,
            test_case_id=chain.test_case_id, case_vars=dict(chain.case_vars),
            sample_index=cell.sample_index, cache_key=key, step=step.step.name)
        steps.append(call)
        row = None if maker.no_cache else await lookup(key)
        if row is not None:
            maker.answer_step_from_cache(call, row)
        else:
            try:
                await maker.send(
                    call, clients[step.provider.name], request,
                    started=CallStarted(cell, step.provider.name, request.model),
                    on_delta=(lambda text: maker.emit(CallDelta(cell, text))) if last else None,
                    on_cancel=lambda: None)
            except asyncio.CancelledError:
                finish_chain(chain, steps)
                raise
        if call.status != "ok":
            break
        outputs[step.step.name] = call.response_text
    finish_chain(chain, steps)
