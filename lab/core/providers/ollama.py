"""Ollama's native chat API (/api/chat): wire format only.

Streaming is newline-delimited JSON, not SSE, and `stream` defaults to true, so it is always sent
explicitly. Sampling parameters go under `options` with Ollama's names (max_tokens is
`num_predict`). The last line has `done: true` with token counts and durations in nanoseconds,
from which the tokens-per-second figure of a local model is taken.
"""

from __future__ import annotations

import json
from typing import Any

from lab.core.providers.base import ChatRequest, ProviderConfig, Reply
from lab.core.providers.errors import ErrorDetails, StreamErrorEvent

OPTIONAL_FIELDS: dict[str, str] = {}  # the body holds nothing the API could do without
STREAM_FORMAT = "ndjson"

FINISH_REASONS = {"stop": "stop", "length": "length"}

# Lab parameter -> options field; anything else not listed in TOP_LEVEL goes into options as is.
OPTIONS = {"max_tokens": "num_predict", "max_completion_tokens": "num_predict"}
TOP_LEVEL = {"keep_alive", "think", "tools"}


def chat_url(config: ProviderConfig, request: ChatRequest) -> str:
    return f"{config.base_url}/api/chat"


def auth_headers(config: ProviderConfig, key: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if key:  # a plain Ollama needs none; one behind an authenticating proxy might
        headers["Authorization"] = f"Bearer {key}"
    return headers


def build_body(config: ProviderConfig, request: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "stream": bool(request.stream),
    }
    options: dict[str, Any] = {}
    for name, value in request.params.items():
        if value is None:
            continue
        if name in TOP_LEVEL:
            body[name] = value
        elif name == "stop":
            options["stop"] = [value] if isinstance(value, str) else list(value)
        else:
            options[OPTIONS.get(name, name)] = value
    if options:
        body["options"] = options
    fmt = request.response_format
    if fmt and fmt.get("type") == "json_object":
        body["format"] = "json"
    elif fmt and fmt.get("type") == "json_schema":
        body["format"] = fmt.get("schema", {})
    return body


def _usage_of(line: dict[str, Any]) -> dict[str, Any]:
    keys = ("prompt_eval_count", "eval_count", "total_duration", "load_duration",
            "prompt_eval_duration", "eval_duration")
    return {k: line[k] for k in keys if k in line}


def _apply_done(line: dict[str, Any], reply: Reply) -> None:
    reply.complete = True
    raw = line.get("done_reason") or "stop"
    reply.finish_reason = FINISH_REASONS.get(raw, raw)
    reply.raw_usage = _usage_of(line)
    if line.get("eval_duration"):
        reply.generation_seconds = line["eval_duration"] / 1e9


def _check_error(line: Any) -> None:
    if isinstance(line, dict) and "error" in line:
        raise StreamErrorEvent(500, error_details(line))


def parse_reply(data: Any) -> Reply:
    _check_error(data)
    reply = Reply(text=(data.get("message") or {}).get("content", ""), model=data.get("model", ""))
    if data.get("done"):
        _apply_done(data, reply)
    return reply


class Stream:
    def __init__(self) -> None:
        self.reply = Reply(complete=False)
        self._parts: list[str] = []

    def feed(self, data: str, event: str | None = None) -> str:
        line = json.loads(data)
        _check_error(line)
        self.reply.model = line.get("model") or self.reply.model
        text = (line.get("message") or {}).get("content") or ""
        if text:
            self._parts.append(text)
        if line.get("done"):
            _apply_done(line, self.reply)
        return text

    def finish(self) -> Reply:
        self.reply.text = "".join(self._parts)
        return self.reply


def new_stream() -> Stream:
    return Stream()


def error_details(data: Any) -> ErrorDetails:
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return ErrorDetails(message=data["error"])
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return ErrorDetails(message=str(data["error"].get("message", "")))
    return ErrorDetails(message=str(data)[:500])


def models_url(config: ProviderConfig, page_token: str | None) -> str:
    return f"{config.base_url}/api/tags"


def parse_models(data: Any) -> tuple[list[str], str | None]:
    return [m["name"] for m in data.get("models", []) if m.get("name")], None
