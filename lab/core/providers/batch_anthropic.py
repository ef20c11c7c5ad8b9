"""Anthropic's Message Batches: the requests sent inline to /v1/messages/batches (each a
`custom_id` and the ordinary Messages `params`), the batch polled until `processing_status` is
"ended", then its `results_url` streamed as JSONL, one line per request: succeeded (a Message),
errored (an error response), canceled or expired. Wire format only; `batches.BatchClient` does
the rest.

Request counts stay at "processing" until the whole batch ends. The results are fetched with the
same key headers, so a `results_url` on another host than the provider's is not followed: the
lab asks the provider's own host for /v1/messages/batches/{id}/results instead.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from lab.core.providers import anthropic
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

LIMITS = BatchLimits(100_000, 256_000_000, "≤100,000 requests and ≤256 MB per batch")
PATH = "/v1/messages/batches"


async def submit(http: BatchHttp, items: Sequence[BatchItem], bodies: Sequence[dict[str, Any]],
                 label: str) -> Submitted:
    requests = [{"custom_id": item.custom_id, "params": body} for item, body in zip(items, bodies)]
    batch = await http.post_json(http.url(PATH), {"requests": requests}, "creating the batch")
    if not isinstance(batch, dict) or not batch.get("id"):
        raise http.bad("the batch's reply has no id", batch)
    return Submitted(batch["id"], {}, str(batch.get("processing_status", "")))


async def poll(http: BatchHttp, batch_id: str, info: dict[str, Any]) -> BatchState:
    data = await http.get_json(http.url(f"{PATH}/{batch_id}"), "checking the batch")
    try:
        return state(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise http.bad(f"the batch's status has an unexpected shape ({type(exc).__name__})",
                       data) from None


def state(data: dict[str, Any]) -> BatchState:
    status = str(data["processing_status"])
    counts = {k: int(v or 0) for k, v in (data.get("request_counts") or {}).items()}
    failed = counts.get("errored", 0) + counts.get("canceled", 0) + counts.get("expired", 0)
    outcome = None
    if status == "ended":
        outcome = ("cancelled" if data.get("cancel_initiated_at") else
                   "expired" if counts.get("expired") else "completed")
    return BatchState(
        batch_id=str(data["id"]),
        status=ENDED if status == "ended" else CANCELLING if status == "canceling" else IN_PROGRESS,
        provider_status=status,
        total=sum(counts.get(k, 0) for k in ("processing", "succeeded", "errored", "canceled",
                                              "expired")),
        succeeded=counts.get("succeeded", 0),
        failed=failed,
        outcome=outcome,
        info={"results_url": data.get("results_url")},
        ended_at=data.get("ended_at"),
    )


async def results(http: BatchHttp, state: BatchState) -> AsyncIterator[RawResult]:
    url = state.info.get("results_url")
    if not url or not http.same_origin(url):
        url = http.url(f"{PATH}/{state.batch_id}/results")
    for line in await http.get_lines(url, "the batch's results"):
        result = read_line(line)
        if result is not None:
            yield result


def read_line(line: str) -> RawResult | None:
    try:
        data = json.loads(line)
        custom_id = str(data["custom_id"])
        result = data["result"]
        kind = result["type"]
    except (ValueError, KeyError, TypeError):
        return None
    if kind == "succeeded":
        return RawResult(custom_id, SUCCEEDED, body=result.get("message"), raw=line)
    if kind == "expired":
        return RawResult(custom_id, EXPIRED, raw=line)
    if kind == "canceled":
        return RawResult(custom_id, CANCELED, raw=line)
    details = anthropic.error_details(result.get("error"))
    return RawResult(custom_id, ERRORED, status=anthropic.ERROR_STATUS.get(details.type or "", 500),
                     details=details, raw=line)


async def cancel(http: BatchHttp, batch_id: str) -> None:
    await http.post_json(http.url(f"{PATH}/{batch_id}/cancel"), None, "cancelling the batch")
