"""Anthropic Messages API: wire format only (body, reply, stream events, errors, model list).

The Messages API differs from Chat Completions where it matters to the lab: the system prompt is
a top-level field, `max_tokens` is required, turns must alternate (adjacent same-role turns are
merged here, as the API would do anyway), and a stream can carry an `error` event after the 200.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from lab.core.providers.base import REFUSAL, ChatRequest, ProviderConfig, Reply
from lab.core.providers.errors import ErrorDetails, StreamErrorEvent

OPTIONAL_FIELDS: dict[str, str] = {}  # the body holds nothing the API could do without
STREAM_FORMAT = "sse"
API_VERSION = "2023-06-01"
# Required by the API; 4096 is within every current model's output limit.
DEFAULT_MAX_TOKENS = 4096

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": REFUSAL,  # its safety classifiers stopped the reply: the model declined
}

# Error types an Anthropic body or stream event names, as the HTTP status they stand for.
ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}

# Lab parameter -> Messages field. Anthropic rejects fields it does not know, so lab parameters
# with no counterpart here (seed, presence_penalty, ...) are left out instead of sent.
PARAMS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "stop": "stop_sequences",
    "stop_sequences": "stop_sequences",
    "metadata": "metadata",
    "thinking": "thinking",
    "service_tier": "service_tier",
    "tool_choice": "tool_choice",
    "tools": "tools",
}


def chat_url(config: ProviderConfig, request: ChatRequest) -> str:
    return f"{config.base_url}/v1/messages"


def auth_headers(config: ProviderConfig, key: str | None) -> dict[str, str]:
    headers = {"content-type": "application/json", "anthropic-version": API_VERSION}
    if key:
        headers["x-api-key"] = key
    return headers


def _json_instruction() -> str:
    # The Messages API has no plain JSON mode; the instruction is appended to the system prompt
    # and is visible in the recorded request body. A schema goes natively (`output_config`).
    return "Reply with one JSON object only, no prose."


def build_body(config: ProviderConfig, request: ChatRequest) -> dict[str, Any]:
    params = request.params
    max_tokens = params.get("max_tokens") or params.get("max_completion_tokens") or DEFAULT_MAX_TOKENS
    body: dict[str, Any] = {"model": request.model, "max_tokens": int(max_tokens)}
    system = request.system_text()
    fmt = request.response_format or {}
    if fmt.get("type") == "json_object":
        system = "\n\n".join(p for p in (system, _json_instruction()) if p)
    elif fmt.get("type") == "json_schema":
        # Structured outputs, generally available: the reply is constrained to the schema.
        body["output_config"] = {"format": {"type": "json_schema", "schema": fmt.get("schema", {})}}
    if system:
        body["system"] = system
    body["messages"] = [{"role": role, "content": text} for role, text in request.turns()]
    for name, value in params.items():
        field = PARAMS.get(name)
        if field is None or value is None:
            continue
        body[field] = [value] if field == "stop_sequences" and isinstance(value, str) else value
    if request.stream:
        body["stream"] = True
    return body


def _finish(raw: str | None) -> str | None:
    return None if raw is None else FINISH_REASONS.get(raw, raw)


def parse_reply(data: Any) -> Reply:
    if data.get("type") == "error":
        details = error_details(data)
        raise StreamErrorEvent(ERROR_STATUS.get(details.type or "", 500), details)
    text = "".join(b.get("text", "") for b in data.get("content", []) if b.get("type") == "text")
    return Reply(
        text=text,
        finish_reason=_finish(data.get("stop_reason")),
        raw_usage=data.get("usage") or {},
        model=data.get("model", ""),
        response_id=data.get("id"),
    )


class Stream:
    """message_start (input usage) → content blocks → message_delta (stop reason, cumulative
    usage) → message_stop. `ping` can come anywhere; `error` can come after the 200."""

    def __init__(self) -> None:
        self.reply = Reply(complete=False)
        self._parts: list[str] = []
        self._text_blocks: set[int] = set()

    def feed(self, data: str, event: str | None = None) -> str:
        payload = json.loads(data)
        kind = payload.get("type") or event
        if kind == "error":
            details = error_details(payload)
            raise StreamErrorEvent(ERROR_STATUS.get(details.type or "", 500), details, data)
        if kind == "message_start":
            message = payload.get("message") or {}
            self.reply.model = message.get("model", "")
            self.reply.response_id = message.get("id")
            self.reply.raw_usage = dict(message.get("usage") or {})
        elif kind == "content_block_start":
            block = payload.get("content_block") or {}
            if block.get("type") == "text":
                self._text_blocks.add(payload.get("index", 0))
                return self._add(block.get("text", ""))
        elif kind == "content_block_delta":
            delta = payload.get("delta") or {}
            if delta.get("type") == "text_delta":  # thinking/signature/tool deltas are not reply text
                return self._add(delta.get("text", ""))
        elif kind == "message_delta":
            delta = payload.get("delta") or {}
            if delta.get("stop_reason"):
                self.reply.finish_reason = _finish(delta["stop_reason"])
            # Cumulative counts: the latest value replaces the earlier one, never added.
            self.reply.raw_usage.update(payload.get("usage") or {})
        elif kind == "message_stop":
            self.reply.complete = True
        return ""  # ping, content_block_stop and unknown future events

    def _add(self, text: str) -> str:
        if text:
            self._parts.append(text)
        return text

    def finish(self) -> Reply:
        self.reply.text = "".join(self._parts)
        # A stop reason means the text is whole even if message_stop itself was lost.
        self.reply.complete = self.reply.complete or self.reply.finish_reason is not None
        return self.reply


def new_stream() -> Stream:
    return Stream()


def error_details(data: Any) -> ErrorDetails:
    if not isinstance(data, dict):
        return ErrorDetails(message=str(data)[:500])
    err = data.get("error", data)
    if not isinstance(err, dict):
        return ErrorDetails(message=str(err)[:500])
    return ErrorDetails(message=str(err.get("message") or ""), type=err.get("type"), code=err.get("type"))


def models_url(config: ProviderConfig, page_token: str | None) -> str:
    query = {"limit": 1000}
    if page_token:
        query["after_id"] = page_token  # type: ignore[assignment]
    return f"{config.base_url}/v1/models?{urlencode(query)}"


def parse_models(data: Any) -> tuple[list[str], str | None]:
    ids = [m["id"] for m in data.get("data", []) if m.get("id")]
    return ids, data.get("last_id") if data.get("has_more") else None
