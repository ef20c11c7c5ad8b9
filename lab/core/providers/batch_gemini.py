"""Gemini's Batch Mode with inline requests: models/{model}:batchGenerateContent with each
request an ordinary generateContent body and a `metadata.key` naming it, answered with a
long-running operation named batches/{id}; polling GET /v1beta/batches/{id} until `done`, the
responses then inline in the operation (`response.inlinedResponses`), in the order sent, each a
GenerateContentResponse or an error status. Wire format only; `batches.BatchClient` does the
rest.

Inline requests must stay under 20 MB per batch (the lab splits larger runs into several
batches; an uploaded JSONL input file, for bigger ones, is not used). One batch holds one model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import quote

from lab.core.providers import gemini
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
    RawResult,
    Submitted,
)
from lab.core.providers.errors import ErrorDetails

LIMITS = BatchLimits(None, 20_000_000, "inline requests ≤20 MB per batch")
# BATCH_STATE_* on the REST API; the SDKs spell them JOB_STATE_*.
OUTCOMES = {"SUCCEEDED": "completed", "FAILED": "failed", "CANCELLED": "cancelled",
            "EXPIRED": "expired"}


def _state_word(raw: str) -> str:
    return raw.removeprefix("BATCH_STATE_").removeprefix("JOB_STATE_")


def _model_path(model: str) -> str:
    return quote(model if model.startswith("models/") else f"models/{model}", safe="/")


async def submit(http: BatchHttp, items: Sequence[BatchItem], bodies: Sequence[dict[str, Any]],
                 label: str) -> Submitted:
    models = {item.request.model for item in items}
    if len(models) != 1:
        raise ValueError(f"a Gemini batch holds one model, not {sorted(models)}")
    body = {"batch": {"displayName": label[:128], "inputConfig": {"requests": {"requests": [
        {"request": b, "metadata": {"key": item.custom_id}} for item, b in zip(items, bodies)]}}}}
    url = http.url(f"/{_model_path(models.pop())}:batchGenerateContent")
    operation = await http.post_json(url, body, "creating the batch")
    name = operation.get("name") if isinstance(operation, dict) else None
    if not name:
        raise http.bad("the batch's reply has no name", operation)
    return Submitted(str(name), {}, str((operation.get("metadata") or {}).get("state", "")))


async def poll(http: BatchHttp, batch_id: str, info: dict[str, Any]) -> BatchState:
    data = await http.get_json(http.url(f"/{quote(batch_id, safe='/')}"), "checking the batch")
    try:
        found = state(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise http.bad(f"the batch's status has an unexpected shape ({type(exc).__name__})",
                       data) from None
    return found


def _count(stats: dict[str, Any], name: str) -> int:
    return int(stats.get(name) or 0)  # int64 fields come as strings


def state(data: dict[str, Any]) -> BatchState:
    meta = data.get("metadata") or {}
    word = _state_word(str(meta.get("state") or ""))
    done = bool(data.get("done")) or word in OUTCOMES
    stats = meta.get("batchStats") or {}
    error = data.get("error") or {}
    response = data.get("response") or {}
    inlined = response.get("inlinedResponses") or {}
    if isinstance(inlined, dict):
        inlined = inlined.get("inlinedResponses") or []
    outcome = OUTCOMES.get(word) or ("failed" if error else "completed") if done else None
    return BatchState(
        batch_id=str(data.get("name") or meta["name"]),
        status=ENDED if done else CANCELLING if word == "CANCELLING" else IN_PROGRESS,
        provider_status=str(meta.get("state") or ("done" if done else "")),
        total=_count(stats, "requestCount"),
        succeeded=_count(stats, "successfulRequestCount"),
        failed=_count(stats, "failedRequestCount"),
        outcome=outcome,
        error=str(error.get("message") or ""),
        info={"inlined": inlined if isinstance(inlined, list) else []},
        ended_at=meta.get("endTime"),
    )


async def results(http: BatchHttp, state: BatchState) -> AsyncIterator[RawResult]:
    # Each response names its request in `metadata.key`; failing that, the order is the order
    # the requests were sent in (`keys`, given by the client).
    keys = list(state.info.get("keys") or [])
    for i, item in enumerate(state.info.get("inlined") or []):
        if not isinstance(item, dict):
            continue
        key = (item.get("metadata") or {}).get("key") or (keys[i] if i < len(keys) else None)
        if key is None:
            continue
        if isinstance(item.get("response"), dict):
            yield RawResult(str(key), SUCCEEDED, body=item["response"])
            continue
        error = item.get("error") or {}
        status = error.get("status") or ""
        if status == "DEADLINE_EXCEEDED" and state.outcome == "expired":
            yield RawResult(str(key), EXPIRED)
        elif status == "CANCELLED":
            yield RawResult(str(key), CANCELED)
        else:
            code = error.get("code")
            yield RawResult(str(key), ERRORED,
                            status=int(code) if isinstance(code, int) and code >= 400
                            else gemini.STATUS_CODES.get(status, 500),
                            details=ErrorDetails(message=str(error.get("message") or ""),
                                                 type=status or None))


async def cancel(http: BatchHttp, batch_id: str) -> None:
    await http.post_json(http.url(f"/{quote(batch_id, safe='/')}:cancel"), None,
                         "cancelling the batch")
