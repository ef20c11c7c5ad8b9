"""Turning model objects into table rows and back: the one place a Call becomes a `calls` row.

Shared by every part of the store that writes or reads calls, so the columns are listed once.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from lab.core.model import Call, Usage


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def call_row(call: Call) -> dict[str, Any]:
    # Counts nobody reported stay NULL: unknown, never 0 (see Usage).
    usage = call.usage or Usage.unknown()
    return {
        "run_id": call.run_id,
        "experiment_id": call.experiment_id,
        "variant_id": call.variant_id,
        "variant_name": call.variant_name,
        "prompt_version_id": call.prompt_version_id,
        "test_case_id": call.test_case_id,
        "case_vars_json": dumps(call.case_vars),
        "sample_index": call.sample_index,
        "provider": call.provider,
        "model": call.model,
        "params_json": dumps(call.params),
        "request_json": dumps(call.request),
        "cache_key": call.cache_key,
        "status": call.status,
        "response_text": call.response_text,
        "finish_reason": call.finish_reason,
        "usage_json": dumps(call.raw_usage) if call.raw_usage is not None else None,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cached_tokens": usage.cached_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "latency_ms": call.latency_ms,
        "ttft_ms": call.ttft_ms,
        "cost_usd": call.cost_usd,
        "error_type": call.error_type,
        "error_message": call.error_message,
        "started_at": call.started_at,
        "finished_at": call.finished_at,
        "step": call.step,
        "created_at": now_iso(),
    }


def usage_from_row(row: dict[str, Any]) -> Usage:
    """A call's logged token counts; NULL counts were never reported (`Usage.unknown()`)."""
    if row["input_tokens"] is None and row["output_tokens"] is None:
        return Usage.unknown()
    return Usage(
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        cached_tokens=row["cached_tokens"] or 0,
        reasoning_tokens=row["reasoning_tokens"] or 0,
    )


def call_from_row(row: dict[str, Any]) -> Call:
    """A logged call back as a `Call` (ids and run placement left for the caller to set)."""
    return Call(
        provider=row["provider"],
        model=row["model"],
        request=json.loads(row["request_json"] or "{}"),
        status=row["status"],
        response_text=row["response_text"],
        finish_reason=row["finish_reason"],
        usage=usage_from_row(row),
        raw_usage=json.loads(row["usage_json"]) if row["usage_json"] else None,
        latency_ms=row["latency_ms"],
        ttft_ms=row["ttft_ms"],
        cost_usd=row["cost_usd"],
        error_type=row["error_type"],
        error_message=row["error_message"],
        params=json.loads(row["params_json"] or "{}"),
        cache_key=row["cache_key"],
    )
