"""OpenAI Chat Completions, and every server that speaks it (vLLM, llama.cpp, LM Studio,
Ollama's /v1, OpenRouter, Groq, Together) through `base_url`.

Only the wire format lives here: building the body, reading replies, stream chunks, error bodies
and the model list. Retries, timeouts, limits and cost are the client's job.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from lab.core.providers.base import REFUSAL, ChatRequest, ProviderConfig, Reply
from lab.core.providers.errors import ErrorDetails, StreamErrorEvent

STREAM_FORMAT = "sse"
# stream_options is the lab's own addition (for usage in streams); some compatible servers refuse it.
OPTIONAL_FIELDS = {"stream_options": "stream_usage"}

FINISH_REASONS = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
}

_SCHEMA_NAME = re.compile(r"[^a-zA-Z0-9_-]")


def chat_url(config: ProviderConfig, request: ChatRequest) -> str:
    return f"{config.base_url}/chat/completions"


def auth_headers(config: ProviderConfig, key: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return headers


def max_tokens_field(config: ProviderConfig) -> str:
    """OpenAI itself wants max_completion_tokens (reasoning models refuse max_tokens); most
    compatible servers only know max_tokens."""
    if config.max_tokens_field:
        return config.max_tokens_field
    return "max_completion_tokens" if urlsplit(config.base_url).hostname == "api.openai.com" else "max_tokens"


def build_body(config: ProviderConfig, request: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
    }
    for name, value in request.params.items():
        if value is None:
            continue
        if name in ("max_tokens", "max_completion_tokens"):
            body[max_tokens_field(config)] = value
        elif name == "stop":
            body["stop"] = [value] if isinstance(value, str) else list(value)
        else:
            # Anything else goes through as written, so server-specific knobs (vLLM's top_k,
            # OpenAI's reasoning_effort) work without the lab knowing them.
            body[name] = value
    if request.response_format:
        body["response_format"] = _response_format(request.response_format)
    if request.stream:
        body["stream"] = True
        if config.stream_usage:  # without it the stream carries no token counts at all
            body["stream_options"] = {"include_usage": True}
    return body


def _response_format(fmt: dict[str, Any]) -> dict[str, Any]:
    if fmt.get("type") != "json_schema":
        return {"type": fmt.get("type", "json_object")}
    name = _SCHEMA_NAME.sub("_", str(fmt.get("name") or "response"))[:64] or "response"
    spec: dict[str, Any] = {"name": name, "schema": fmt.get("schema", {})}
    if "strict" in fmt:
        spec["strict"] = bool(fmt["strict"])
    if fmt.get("description"):
        spec["description"] = fmt["description"]
    return {"type": "json_schema", "json_schema": spec}


def _finish(raw: str | None) -> str | None:
    return None if raw is None else FINISH_REASONS.get(raw, raw)


def parse_reply(data: Any) -> Reply:
    if isinstance(data, dict) and "error" in data and "choices" not in data:
        raise StreamErrorEvent(500, error_details(data))
    choice = (data.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    content, refused = message.get("content") or "", message.get("refusal") or ""
    return Reply(
        text=content or refused,
        finish_reason=REFUSAL if refused and not content else _finish(choice.get("finish_reason")),
        raw_usage=data.get("usage") or {},
        model=data.get("model", ""),
        response_id=data.get("id"),
    )


class Stream:
    """Chunks carry text deltas; with include_usage a last chunk has empty choices and usage.
    A model that declines streams its refusal in `delta.refusal` (content stays null) and ends
    with finish_reason "stop": that text is the reply, and the finish reason becomes REFUSAL."""

    def __init__(self) -> None:
        self.reply = Reply(complete=False)
        self._parts: list[str] = []
        self._done = False
        self._content = False  # any text came as content (not refusal)
        self._refused = False

    def feed(self, data: str, event: str | None = None) -> str:
        if data.strip() == "[DONE]":
            self._done = True
            return ""
        chunk = json.loads(data)
        if event == "error" or (isinstance(chunk, dict) and "error" in chunk):
            details = error_details(chunk)
            raise StreamErrorEvent(_status_of(details), details, data)
        self.reply.model = chunk.get("model") or self.reply.model
        self.reply.response_id = chunk.get("id") or self.reply.response_id
        if chunk.get("usage"):
            self.reply.raw_usage = chunk["usage"]
        text = ""
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue  # n > 1: the lab reads the first choice
            delta = choice.get("delta") or {}
            content, refused = delta.get("content") or "", delta.get("refusal") or ""
            self._content = self._content or bool(content)
            self._refused = self._refused or bool(refused)
            text += content + refused
            if choice.get("finish_reason"):
                self.reply.finish_reason = _finish(choice["finish_reason"])
        if text:
            self._parts.append(text)
        return text

    def finish(self) -> Reply:
        self.reply.text = "".join(self._parts)
        # Some compatible servers end without [DONE]; a finish_reason also means the reply is whole.
        self.reply.complete = self._done or self.reply.finish_reason is not None
        if self._refused and not self._content:
            self.reply.finish_reason = REFUSAL
        return self.reply


def new_stream() -> Stream:
    return Stream()


def _status_of(details: ErrorDetails) -> int:
    markers = {details.type, details.code}
    if markers & {"insufficient_quota", "rate_limit_exceeded", "rate_limit_error"}:
        return 429
    if markers & {"server_is_overloaded", "service_unavailable_error"}:
        return 503
    if "invalid_request_error" in markers:
        return 400
    return 500


def error_details(data: Any) -> ErrorDetails:
    if not isinstance(data, dict):
        return ErrorDetails(message=str(data)[:500])
    err = data.get("error", data)
    if isinstance(err, str):  # some compatible servers send {"error": "text"}
        return ErrorDetails(message=err)
    if not isinstance(err, dict):
        return ErrorDetails(message=str(err)[:500])
    code = err.get("code")
    return ErrorDetails(
        message=str(err.get("message") or ""),
        type=err.get("type"),
        code=None if code is None else str(code),
        param=err.get("param"),
    )


def models_url(config: ProviderConfig, page_token: str | None) -> str:
    return f"{config.base_url}/models"


def parse_models(data: Any) -> tuple[list[str], str | None]:
    return [m["id"] for m in data.get("data", []) if m.get("id")], None
