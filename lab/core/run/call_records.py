"""What each way a call can end records on its `Call`: started, succeeded, failed (with the
partial text a cut stream had), cancelled, or answered from the log's cache.

One place for these rules, so matrix calls, judge calls and a chain's steps record alike.
"""

from __future__ import annotations

import time
from typing import Any

from lab.core.model import Call
from lab.core.providers import ChatResult, ProviderError
from lab.core.providers.errors import cancelled
from lab.core.workspace.rows import call_from_row, now_iso


def started_call(**fields: Any) -> Call:
    """A call about to be sent (status pending), stamped with its start time."""
    return Call(started_at=now_iso(), **fields)


def succeeded(call: Call, result: ChatResult) -> None:
    call.status = "ok"
    call.response_text = result.text
    call.finish_reason = result.finish_reason
    call.usage = result.usage
    call.raw_usage = result.raw_usage
    call.latency_ms = result.latency_ms
    call.ttft_ms = result.ttft_ms
    call.cost_usd = result.cost_usd
    call.request = result.request_body  # what was really sent, provider defaults included
    call.finished_at = now_iso()


NOT_SENT = "Not sent: "  # how a call that never reached its provider begins its error message


def failed(call: Call, error: ProviderError, started: float | None = None, *,
           not_sent: bool = False, free: bool = False) -> None:
    """A typed provider error; `not_sent` when the call never reached the provider (an earlier
    call's error made sending pointless, or there is no key), `free` for a model on this machine.
    Its usage stays unknown: a failed call's tokens were never reported."""
    call.status = "error"
    call.error_type = error.error_type
    call.error_message = f"{NOT_SENT}{error.message}" if not_sent else error.message
    call.response_text = "" if not_sent else error.partial_text
    call.latency_ms = None if started is None or not_sent else (time.monotonic() - started) * 1000
    # Unknown, not free: a failed call may still have been billed (unless never sent, or local).
    call.cost_usd = 0.0 if not_sent or free else None
    call.finished_at = now_iso()


def was_cancelled(call: Call, partial_text: str, started: float) -> None:
    error = cancelled(call.provider, partial_text)
    call.status = "cancelled"
    call.error_type = error.error_type
    call.error_message = error.message
    call.response_text = partial_text
    call.latency_ms = (time.monotonic() - started) * 1000
    call.finished_at = now_iso()


def from_cache(call: Call, row: dict[str, Any]) -> None:
    """Answer `call` with a logged reply to the identical request.

    Usage and latency describe the reply as it was made; the cost is 0 because nothing was spent
    this time (the original call, linked by cached_from_call_id, carries what it cost).
    """
    logged = call_from_row(row)
    call.status = "ok"
    call.response_text = logged.response_text
    call.finish_reason = logged.finish_reason
    call.usage = logged.usage
    call.raw_usage = logged.raw_usage
    call.latency_ms = logged.latency_ms
    call.ttft_ms = logged.ttft_ms
    call.cost_usd = 0.0
    call.request = logged.request
    call.cached = True
    call.finished_at = now_iso()
