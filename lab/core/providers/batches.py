"""Batch APIs: many chat requests sent as one job, answered within hours at a discount.

What the run layer uses:

    client = BatchClient(config, prices=prices)
    if client.unsupported is None:                     # else: why this provider has none
        submitted = await client.submit(items, label="lab run 3, batch 1")
        state = await client.poll(submitted.batch_id, submitted.info)    # until state.ended
        for item in await client.results(state, requests):   # one ItemResult per custom id
            ...
        await client.cancel(batch_id)

`batch_types` holds the shared vocabulary (limits, a poll's answer, a result line, the HTTP
helper); one module per family holds the wire format (`batch_openai`: a JSONL file uploaded to /v1/files,
then /v1/batches; `batch_anthropic`: /v1/messages/batches with the requests inline and a JSONL
results stream; `batch_gemini`: models/{model}:batchGenerateContent with inline requests and a
long-running operation). Ollama and other servers on this machine have no batch API.

Every request of a batch is the family's ordinary non-streamed body (`build_body` with
`stream=False`), so a batch answer is parsed by the family's own `parse_reply` and priced with
the batch discount of the price table (`PriceTable.cost(..., batch=True)`). A batch answer has no
latency of its own: `BatchReply` carries none, and the batch's turnaround belongs to the batch.

Keys go in headers only (the family's `auth_headers`); every error is typed and scrubbed by the
same `Failures` the chat client uses. Requests are retried like chat calls (a poll that 500s is
tried again after a backoff), so a short outage does not lose track of a batch.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Callable
from urllib.parse import urlsplit

import httpx

from lab.core.model import Usage
from lab.core.providers import batch_anthropic, batch_gemini, batch_openai, keys, retry, usage
from lab.core.providers.base import DEFAULT_BASE_URLS, ChatRequest, ProviderConfig, Reply
from lab.core.providers.batch_types import (
    CANCELED,
    CANCELLING,
    ENDED,
    ERRORED,
    EXPIRED,
    IN_PROGRESS,
    SUCCEEDED,
    BatchHttp,
    BatchItem,
    BatchLimits,
    BatchState,
    FamilyBatches,
    RawResult,
    Submitted,
)
from lab.core.providers.errors import (
    Cancelled,
    ErrorDetails,
    ProviderError,
    StreamErrorEvent,
    error_from_status,
    missing_key,
)
from lab.core.providers.outcomes import Failures
from lab.core.providers.pricing import PriceTable
from lab.core.providers.registry import family_for

KeyLookup = Callable[[ProviderConfig], "str | None"]
PARSE_ERRORS = (ValueError, KeyError, TypeError, AttributeError, IndexError)
FAMILIES: dict[str, FamilyBatches] = {
    "openai": batch_openai, "anthropic": batch_anthropic, "gemini": batch_gemini,  # type: ignore[dict-item]
}


@dataclass
class BatchReply:
    """A request's answer from a batch: what `ChatResult` holds, without latency."""

    text: str
    finish_reason: str | None
    usage: Usage
    raw_usage: dict[str, Any]
    cost_usd: float | None  # at the batch price; None when the table has no batch price for it
    model: str
    request_body: dict[str, Any]
    response_id: str | None = None
    warning: str | None = None


@dataclass
class ItemResult:
    custom_id: str
    outcome: str
    reply: BatchReply | None = None
    error: ProviderError | None = None


class BatchExpired(ProviderError):
    """The batch's completion window (24 hours) ran out before this request was processed."""


class BatchRefused(ProviderError):
    """The provider refused or failed the batch as a whole, or left a request out of its results."""


def batch_family(config: ProviderConfig) -> FamilyBatches | None:
    return FAMILIES.get(config.kind)


def unsupported_reason(config: ProviderConfig) -> str | None:
    """Why `config` cannot take batches (None: it can)."""
    if config.is_local:
        return (f"{config.name}: a server on this machine has no batch API (and costs nothing): "
                "its calls are sent one by one as usual")
    if batch_family(config) is None:
        return f"{config.name}: {config.kind} has no batch API: its calls are sent one by one as usual"
    return None


def batch_limits(config: ProviderConfig, max_requests: int | None = None) -> BatchLimits | None:
    """The limits of one batch at this provider; `max_requests` lowers the request limit."""
    family = batch_family(config)
    return None if family is None else family.LIMITS.lowered(max_requests)


def request_bytes(config: ProviderConfig, request: ChatRequest) -> int:
    """About how many bytes this request takes in a batch (its body as JSON, plus an envelope)."""
    body = batch_body(config, request)
    return len(json.dumps(body, ensure_ascii=False).encode("utf-8")) + 160


def batch_body(config: ProviderConfig, request: ChatRequest) -> dict[str, Any]:
    """The non-streamed body of `request` as the family sends it, the provider's defaults in."""
    request = replace(request, stream=False)
    if config.default_params:
        request = replace(request, params={**config.default_params, **request.params})
    return family_for(config.kind).build_body(config, request)


def split(sizes: Sequence[int], limits: BatchLimits) -> list[tuple[int, int]]:
    """[start, end) ranges of consecutive requests (each `sizes[i]` bytes) that fit `limits`."""
    ranges: list[tuple[int, int]] = []
    start, total = 0, 0
    for i, size in enumerate(sizes):
        full = limits.max_requests is not None and i - start >= limits.max_requests
        too_big = limits.max_bytes is not None and total + size > limits.max_bytes and i > start
        if full or too_big:
            ranges.append((start, i))
            start, total = i, 0
        total += size
    if start < len(sizes):
        ranges.append((start, len(sizes)))
    return ranges


class BatchClient:
    """One provider's batch API. Belongs to one event loop, like `ProviderClient`."""

    def __init__(
        self,
        config: ProviderConfig,
        *,
        key_lookup: KeyLookup | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        prices: PriceTable | None = None,
        retry_policy: retry.RetryPolicy | None = None,
    ) -> None:
        self.config = config
        self.family = batch_family(config)
        self.unsupported = unsupported_reason(config)
        self._chat = family_for(config.kind)
        self._failures = Failures(config, self._chat)
        self._key_lookup = key_lookup or keys.get_key
        self._prices = prices
        self._policy = retry_policy or retry.RetryPolicy()
        self._key_loaded = False
        t = config.timeouts
        self._httpx = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(connect=t.connect, read=t.total, write=t.total, pool=t.connect),
            trust_env=not config.is_local,
        )
        self._http: BatchHttp | None = None

    async def aclose(self) -> None:
        await self._httpx.aclose()

    async def __aenter__(self) -> BatchClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ----- the calls ----------------------------------------------------------------------

    async def submit(self, items: Sequence[BatchItem], *, label: str) -> Submitted:
        """Send one batch; the provider's id comes back (record it before anything else)."""
        http, family = await self._ready()
        bodies = [batch_body(self.config, item.request) for item in items]
        return await family.submit(http, items, bodies, label)

    async def poll(self, batch_id: str, info: dict[str, Any] | None = None) -> BatchState:
        http, family = await self._ready()
        return await family.poll(http, batch_id, dict(info or {}))

    async def cancel(self, batch_id: str) -> None:
        """Ask the provider to stop the batch; requests it already finished are still billed
        and come back with its results."""
        http, family = await self._ready()
        await family.cancel(http, batch_id)

    async def results(self, state: BatchState, requests: dict[str, ChatRequest]) -> list[ItemResult]:
        """Every request's outcome, in the order of `requests`: custom id -> the request sent
        (for its model, the price and the body kept in the log), in the order it was sent.
        Requests the provider left out of its results come back as errors (expired or
        cancelled when the batch was)."""
        http, family = await self._ready()
        found: dict[str, ItemResult] = {}
        state = replace(state, info={**state.info, "keys": list(requests)})
        if state.outcome != "failed":
            async for raw in family.results(http, state):
                if raw.custom_id in requests and raw.custom_id not in found:
                    found[raw.custom_id] = self._item(raw, requests[raw.custom_id])
        for custom_id in requests:
            if custom_id not in found:
                found[custom_id] = self._missing(custom_id, state)
        return [found[c] for c in requests]

    # ----- internals ----------------------------------------------------------------------

    async def _ready(self) -> tuple[BatchHttp, FamilyBatches]:
        if self.family is None or self.unsupported is not None:
            raise BatchRefused(self.unsupported or f"{self.config.name}: no batch API",
                               provider=self.config.name)
        if self._http is None:
            if not self._key_loaded:
                self._failures.key = await asyncio.to_thread(self._key_lookup, self.config)
                self._key_loaded = True
            key = self._failures.key
            if not key and _key_required(self.config):
                raise missing_key(self.config.name, keys.key_hint(self.config))
            headers = self._chat.auth_headers(self.config, key)
            headers.update(self.config.extra_headers)
            self._http = BatchHttp(self.config, self._failures, headers, self._httpx, self._policy)
        return self._http, self.family

    def _item(self, raw: RawResult, request: ChatRequest) -> ItemResult:
        name = self.config.name
        if raw.outcome == SUCCEEDED:
            try:
                reply = self._chat.parse_reply(raw.body)
            except StreamErrorEvent as event:  # an error body where a reply was due
                return ItemResult(raw.custom_id, ERRORED, error=self._error(
                    event.status, event.details, raw.raw, request.model))
            except PARSE_ERRORS as exc:
                error = self._failures.bad_response(
                    f"a batch result could not be read ({type(exc).__name__})", raw.raw or
                    json.dumps(raw.body, default=str))
                return ItemResult(raw.custom_id, ERRORED, error=error)
            return ItemResult(raw.custom_id, SUCCEEDED, reply=self._reply(request, reply))
        if raw.outcome == EXPIRED:
            return ItemResult(raw.custom_id, EXPIRED, error=expired(name))
        if raw.outcome == CANCELED:
            return ItemResult(raw.custom_id, CANCELED, error=canceled(name))
        details = raw.details or ErrorDetails(message="the request failed in the batch")
        return ItemResult(raw.custom_id, ERRORED,
                          error=self._error(raw.status or 500, details, raw.raw, request.model))

    def _error(self, status: int, details: ErrorDetails, raw: str, model: str) -> ProviderError:
        details = replace(details, message=keys.redact(details.message, [self._failures.key]))
        return error_from_status(self.config.name, status, details, model=model,
                                 raw_body=keys.redact(raw[:2000], [self._failures.key]),
                                 key_hint=keys.key_hint(self.config))

    def _missing(self, custom_id: str, state: BatchState) -> ItemResult:
        name = self.config.name
        if state.outcome == "expired":
            return ItemResult(custom_id, EXPIRED, error=expired(name))
        if state.outcome == "cancelled":
            return ItemResult(custom_id, CANCELED, error=canceled(name))
        why = (f"{name}: the batch failed as a whole ({state.error})" if state.outcome == "failed"
               and state.error else f"{name}: the batch ended without a result for this request")
        return ItemResult(custom_id, ERRORED, error=BatchRefused(
            f"{why}. `lab run … --resume` sends it again.", provider=name))

    def _reply(self, request: ChatRequest, reply: Reply) -> BatchReply:
        if self._prices is None:
            self._prices = PriceTable.load()
        counts = usage.normalise(self.config.kind, reply.raw_usage)
        cost = None
        if reply.raw_usage:  # no usage reported: unknown, not free
            for model in (request.model, reply.model):
                if not model:
                    continue
                cost = self._prices.cost(self.config.kind, model, counts.usage, batch=True)
                if cost is not None:
                    break
        return BatchReply(text=reply.text, finish_reason=reply.finish_reason, usage=counts.usage,
                          raw_usage=reply.raw_usage, cost_usd=cost,
                          model=reply.model or request.model,
                          request_body=batch_body(self.config, request),
                          response_id=reply.response_id, warning=reply.warning)


def expired(provider: str) -> BatchExpired:
    return BatchExpired(
        f"{provider}: the batch's 24-hour window ended before this request ran (not billed). "
        "`lab run … --resume` sends it again.", provider=provider, code="batch_expired")


def canceled(provider: str) -> ProviderError:
    return Cancelled(f"{provider}: the batch was cancelled before this request ran (not billed).",
                     provider=provider, code="batch_cancelled")


def _key_required(config: ProviderConfig) -> bool:
    default = urlsplit(DEFAULT_BASE_URLS[config.kind]).hostname
    return not config.is_local and urlsplit(config.base_url).hostname == default


__all__ = [
    "CANCELED", "CANCELLING", "ENDED", "ERRORED", "EXPIRED", "IN_PROGRESS", "SUCCEEDED",
    "BatchClient", "BatchExpired", "BatchItem", "BatchLimits", "BatchRefused", "BatchReply",
    "BatchState", "ItemResult", "RawResult", "Submitted", "batch_body", "batch_limits",
    "request_bytes", "split", "unsupported_reason",
]
