"""OpenAI's Batch API (and servers that copy it): a JSONL file of /v1/chat/completions requests
uploaded to /v1/files (purpose "batch"), a batch created on it, polled, and its output and error
files downloaded. Wire format only; `batches.BatchClient` does the rest.

Lines of the output file come in any order and are joined on `custom_id`. Failed requests are
in the error file: an HTTP error of the request (`response.status_code` ≥ 400 with the API's
error body), or `error.code` "batch_expired" / "batch_cancelled" for requests the batch never
ran. An expired or cancelled batch still has an output file with what it finished (billed).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from lab.core.providers import openai_chat
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

LIMITS = BatchLimits(50_000, 200_000_000, "≤50,000 requests and ≤200 MB per batch file")
ENDPOINT = "/v1/chat/completions"
OUTCOMES = {"completed": "completed", "expired": "expired", "cancelled": "cancelled",
            "failed": "failed"}


def jsonl(items: Sequence[BatchItem], bodies: Sequence[dict[str, Any]]) -> bytes:
    lines = [json.dumps({"custom_id": item.custom_id, "method": "POST", "url": ENDPOINT,
                         "body": body}, ensure_ascii=False) for item, body in zip(items, bodies)]
    return ("\n".join(lines) + "\n").encode("utf-8")


async def submit(http: BatchHttp, items: Sequence[BatchItem], bodies: Sequence[dict[str, Any]],
                 label: str) -> Submitted:
    file = await http.post_file(http.url("/files"), {"purpose": "batch"}, "lab-batch.jsonl",
                                jsonl(items, bodies), "uploading the batch file")
    if not isinstance(file, dict) or not file.get("id"):
        raise http.bad("the file upload's reply has no id", file)
    batch = await http.post_json(http.url("/batches"), {
        "input_file_id": file["id"], "endpoint": ENDPOINT, "completion_window": "24h",
        "metadata": {"lab": label[:512]},
    }, "creating the batch")
    if not isinstance(batch, dict) or not batch.get("id"):
        raise http.bad("the batch's reply has no id", batch)
    return Submitted(batch["id"], {"input_file_id": file["id"]}, str(batch.get("status", "")))


async def poll(http: BatchHttp, batch_id: str, info: dict[str, Any]) -> BatchState:
    data = await http.get_json(http.url(f"/batches/{batch_id}"), "checking the batch")
    try:
        return state(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise http.bad(f"the batch's status has an unexpected shape ({type(exc).__name__})",
                       data) from None


def state(data: dict[str, Any]) -> BatchState:
    status = str(data["status"])
    counts = data.get("request_counts") or {}
    errors = [e for e in ((data.get("errors") or {}).get("data") or []) if isinstance(e, dict)]
    error = "; ".join(
        (f"line {e['line']}: " if e.get("line") is not None else "") + str(e.get("message") or e.get("code"))
        for e in errors[:5])
    ended = status in OUTCOMES
    when = next((data.get(f"{s}_at") for s in ("completed", "expired", "cancelled", "failed")
                 if data.get(f"{s}_at")), None)
    return BatchState(
        batch_id=str(data["id"]),
        status=ENDED if ended else CANCELLING if status == "cancelling" else IN_PROGRESS,
        provider_status=status,
        total=int(counts.get("total") or 0),
        succeeded=int(counts.get("completed") or 0),
        failed=int(counts.get("failed") or 0),
        outcome=OUTCOMES.get(status),
        error=error,
        info={"output_file_id": data.get("output_file_id"),
              "error_file_id": data.get("error_file_id")},
        ended_at=(dt.datetime.fromtimestamp(int(when), dt.timezone.utc).isoformat()
                  if when else None),
    )


async def results(http: BatchHttp, state: BatchState) -> AsyncIterator[RawResult]:
    for name in ("output_file_id", "error_file_id"):
        file_id = state.info.get(name)
        if not file_id:
            continue
        for line in await http.get_lines(http.url(f"/files/{file_id}/content"),
                                         "the batch's results"):
            result = read_line(line)
            if result is not None:
                yield result


def read_line(line: str) -> RawResult | None:
    """One line of an output or error file (None: not a line the lab can place)."""
    try:
        data = json.loads(line)
        custom_id = str(data["custom_id"])
    except (ValueError, KeyError, TypeError):
        return None
    response = data.get("response")
    error = data.get("error")
    if isinstance(response, dict):
        status = int(response.get("status_code") or 0)
        body = response.get("body")
        if status == 200 and isinstance(body, dict) and "error" not in body:
            return RawResult(custom_id, SUCCEEDED, body=body, raw=line)
        return RawResult(custom_id, ERRORED, status=status or 500,
                         details=openai_chat.error_details(body), raw=line)
    if isinstance(error, dict):
        code = str(error.get("code") or "")
        if code == "batch_expired":
            return RawResult(custom_id, EXPIRED, raw=line)
        if code == "batch_cancelled":
            return RawResult(custom_id, CANCELED, raw=line)
        return RawResult(custom_id, ERRORED, status=400, raw=line, details=ErrorDetails(
            message=str(error.get("message") or code), code=code or None))
    return None


async def cancel(http: BatchHttp, batch_id: str) -> None:
    await http.post_json(http.url(f"/batches/{batch_id}/cancel"), None, "cancelling the batch")
