"""A fake LLM provider for tests and benchmarks: a real HTTP/1.1 server on 127.0.0.1.

It speaks the four wire formats of the reference (OpenAI Chat Completions, Anthropic Messages,
Gemini generateContent, Ollama /api/chat), streamed and not, and lists models for each. Replies
are deterministic: "You said: <last user message>" (or a JSON object when JSON was asked for),
with token counts derived from the text.

Every request is recorded (key headers redacted) and checked against the real request shapes:
OpenAI bodies against `CreateChatCompletionRequest` from OpenAI's OpenAPI spec, the others against
the rules of the reference. An invalid request gets a 400 in that API's own error format and lands
in `validation_failures`, which tests assert is empty.

Faults are scripted per test: `server.script(rate_limited(retry_after=0.2), reply())` answers the
next calls in order (optionally only for one model); `server.latency` delays every answer.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

API_KEY = "sk-fake-0123456789abcdef"
KEY_HEADERS = {"authorization", "x-api-key", "x-goog-api-key"}
ROOT = Path(__file__).resolve().parents[3]

# ----- scripted behaviours -----------------------------------------------------------------


@dataclass
class Behaviour:
    """How the fake answers one chat call. Build them with the helper functions below."""

    status: int = 200
    text: str | None = None  # None: derived from the request
    finish: str = "stop"  # "stop" or "length", spelled per API
    error_type: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_param: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    latency: float = 0.0  # before the status line
    first_token_delay: float = 0.0  # after the headers, before the first text
    chunk_delay: float = 0.0
    cut_after: int | None = None  # stream: drop the connection after N text chunks
    error_after: int | None = None  # stream: an error event after N text chunks
    bad_json: bool = False
    comments: bool = False  # SSE keep-alive comments (and extra Anthropic pings)
    thinking_tokens: int = 0
    cached_tokens: int = 0


def reply(text: str | None = None, **kw: Any) -> Behaviour:
    return Behaviour(text=text, **kw)


def http_error(status: int, *, type: str | None = None, code: str | None = None,
               message: str | None = None, param: str | None = None, **kw: Any) -> Behaviour:
    return Behaviour(status=status, error_type=type, error_code=code, error_message=message,
                     error_param=param, **kw)


def rate_limited(retry_after: float | None = None, retry_after_ms: int | None = None) -> Behaviour:
    headers = {}
    if retry_after is not None:
        headers["retry-after"] = f"{retry_after:g}"
    if retry_after_ms is not None:
        headers["retry-after-ms"] = str(retry_after_ms)
    return http_error(429, message="Rate limit reached for requests", headers=headers)


def insufficient_quota() -> Behaviour:
    return http_error(429, type="insufficient_quota", code="insufficient_quota",
                      message="You exceeded your current quota, please check your plan and billing details.")


def overloaded(status: int = 529) -> Behaviour:
    return http_error(status, type="overloaded_error", message="Overloaded")


def cut_stream(after: int = 2) -> Behaviour:
    return Behaviour(cut_after=after)


def error_after_200(after: int = 2) -> Behaviour:
    return Behaviour(error_after=after)


def slow_first_token(delay: float) -> Behaviour:
    return Behaviour(first_token_delay=delay)


def bad_json() -> Behaviour:
    return Behaviour(bad_json=True)


# ----- request validation ------------------------------------------------------------------

_openai_validator: Any = None
_validators_lock = threading.Lock()


def openai_spec_path() -> Path:
    return Path(os.environ.get("LAB_OPENAI_SPEC") or ROOT.parent / "shared" / "specs" / "openai-openapi.yaml")


def _honour_nullable(node: Any) -> Any:
    """OpenAPI's `nullable: true` is not JSON Schema; the spec mixes it with 3.1 style, so turn
    it into an explicit "or null" (its own examples send `"usage": null`)."""
    if isinstance(node, list):
        return [_honour_nullable(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _honour_nullable(v) for k, v in node.items() if k != "nullable"}
    return {"anyOf": [out, {"type": "null"}]} if node.get("nullable") is True else out


def openai_schema_validator(schema_name: str) -> Any | None:
    """A jsonschema validator for one component of OpenAI's spec, or None if the spec is absent."""
    global _openai_validator
    path = openai_spec_path()
    if not path.is_file():
        return None
    import jsonschema
    import yaml
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    with _validators_lock:
        if _openai_validator is None:
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            spec = _honour_nullable(yaml.load(path.read_text(encoding="utf-8"), Loader=loader))
            _openai_validator = Registry().with_resource("urn:openai", DRAFT202012.create_resource(spec))
        registry = _openai_validator
    ref = {"$ref": f"urn:openai#/components/schemas/{schema_name}"}
    return jsonschema.Draft202012Validator(ref, registry=registry)


def _range(errors: list[str], body: dict, name: str, low: float, high: float) -> None:
    if name in body and not (isinstance(body[name], (int, float)) and low <= body[name] <= high):
        errors.append(f"{name} must be a number in [{low}, {high}]")


def validate_openai(body: dict, headers: dict[str, str], query: dict) -> list[str]:
    errors: list[str] = []
    validator = openai_schema_validator("CreateChatCompletionRequest")
    if validator is not None:
        errors += [f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message[:200]}"
                   for e in validator.iter_errors(body)]
    else:  # the spec is not on this machine: the essential rules by hand
        if not isinstance(body.get("model"), str):
            errors.append("model is required")
        msgs = body.get("messages")
        if not isinstance(msgs, list) or not msgs:
            errors.append("messages must be a non-empty list")
        else:
            roles = {"developer", "system", "user", "assistant", "tool"}
            errors += [f"messages/{i}: bad role or content" for i, m in enumerate(msgs)
                       if m.get("role") not in roles or not isinstance(m.get("content"), (str, list))]
        _range(errors, body, "temperature", 0, 2)
        _range(errors, body, "top_p", 0, 1)
        if isinstance(body.get("stop"), list) and not 1 <= len(body["stop"]) <= 4:
            errors.append("stop takes 1 to 4 strings")
    if "stream_options" in body and body.get("stream") is not True:
        errors.append("stream_options is only allowed with stream: true")
    if "max_tokens" in body and "max_completion_tokens" in body:
        errors.append("send max_tokens or max_completion_tokens, not both")
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema") or {}
        if not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", str(spec.get("name", ""))):
            errors.append("response_format.json_schema.name must match [a-zA-Z0-9_-]{1,64}")
    return errors


ANTHROPIC_FIELDS = {"model", "messages", "max_tokens", "system", "temperature", "top_p", "top_k",
                    "stop_sequences", "stream", "metadata", "tools", "tool_choice", "thinking",
                    "service_tier"}


def validate_anthropic(body: dict, headers: dict[str, str], query: dict) -> list[str]:
    errors = [f"{k}: Extra inputs are not permitted" for k in body if k not in ANTHROPIC_FIELDS]
    if headers.get("anthropic-version") != "2023-06-01":
        errors.append("anthropic-version header must be 2023-06-01")
    if not isinstance(body.get("model"), str):
        errors.append("model: field required")
    if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
        errors.append("max_tokens: field required (integer >= 1)")
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        errors.append("messages: at least one message is required")
        msgs = []
    for i, m in enumerate(msgs):
        if m.get("role") not in ("user", "assistant"):
            errors.append(f"messages.{i}.role: must be user or assistant (system goes top-level)")
        if not isinstance(m.get("content"), (str, list)) or not m.get("content"):
            errors.append(f"messages.{i}.content: must be non-empty")
        if i and m.get("role") == msgs[i - 1].get("role"):
            errors.append(f"messages.{i}: roles must alternate between user and assistant")
    if msgs and msgs[0].get("role") != "user":
        errors.append("messages.0: the first message must use the user role")
    system = body.get("system")
    if system is not None and not isinstance(system, str) and not (
            isinstance(system, list) and all(b.get("type") == "text" for b in system)):
        errors.append("system: must be a string or a list of text blocks")
    _range(errors, body, "temperature", 0, 1)
    _range(errors, body, "top_p", 0, 1)
    if "stop_sequences" in body and not (isinstance(body["stop_sequences"], list)
                                         and all(isinstance(s, str) for s in body["stop_sequences"])):
        errors.append("stop_sequences: must be a list of strings")
    return errors


GEMINI_FIELDS = {"contents", "systemInstruction", "generationConfig", "safetySettings", "tools",
                 "toolConfig", "cachedContent"}
GEMINI_GENERATION = {"temperature", "topP", "topK", "candidateCount", "maxOutputTokens",
                     "stopSequences", "seed", "presencePenalty", "frequencyPenalty",
                     "responseMimeType", "responseSchema", "responseJsonSchema", "responseLogprobs",
                     "logprobs", "thinkingConfig", "responseModalities"}


def validate_gemini(body: dict, headers: dict[str, str], query: dict) -> list[str]:
    errors = [f"Unknown name \"{k}\": Cannot find field." for k in body if k not in GEMINI_FIELDS]
    if "key" in query:
        errors.append("the API key was sent in the URL (?key=); send x-goog-api-key instead")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        errors.append("contents: must be a non-empty list")
        contents = []
    for i, c in enumerate(contents):
        if c.get("role") not in ("user", "model"):
            errors.append(f"contents[{i}].role: must be user or model")
        parts = c.get("parts")
        if not isinstance(parts, list) or not parts or not all(isinstance(p.get("text"), str) for p in parts):
            errors.append(f"contents[{i}].parts: must be a non-empty list of text parts")
    system = body.get("systemInstruction")
    if system is not None and not (isinstance(system, dict) and isinstance(system.get("parts"), list)):
        errors.append("systemInstruction: must be {parts: [{text}]}")
    config = body.get("generationConfig") or {}
    errors += [f"generationConfig.{k}: Cannot find field." for k in config if k not in GEMINI_GENERATION]
    _range(errors, config, "temperature", 0, 2)
    return errors


OLLAMA_FIELDS = {"model", "messages", "format", "options", "stream", "keep_alive", "tools", "think"}
OLLAMA_OPTIONS = {"temperature", "top_p", "top_k", "min_p", "seed", "num_predict", "num_ctx", "stop",
                  "repeat_penalty", "repeat_last_n", "presence_penalty", "frequency_penalty",
                  "mirostat", "num_gpu", "num_thread", "typical_p", "tfs_z"}


def validate_ollama(body: dict, headers: dict[str, str], query: dict) -> list[str]:
    errors = [f"unknown field {k!r}" for k in body if k not in OLLAMA_FIELDS]
    if not isinstance(body.get("model"), str):
        errors.append("model is required")
    for i, m in enumerate(body.get("messages") or []):
        if m.get("role") not in ("system", "user", "assistant", "tool") or not isinstance(m.get("content"), str):
            errors.append(f"messages[{i}]: bad role or content")
    if not body.get("messages"):
        errors.append("messages must be a non-empty list")
    if "stream" in body and not isinstance(body["stream"], bool):
        errors.append("stream must be a boolean")
    errors += [f"options.{k}: unknown option" for k in body.get("options") or {} if k not in OLLAMA_OPTIONS]
    if "format" in body and not (body["format"] == "json" or isinstance(body["format"], dict)):
        errors.append("format must be \"json\" or a JSON schema")
    return errors


VALIDATORS = {"openai": validate_openai, "anthropic": validate_anthropic,
              "gemini": validate_gemini, "ollama": validate_ollama}

# ----- what the server remembers -----------------------------------------------------------


@dataclass
class Recorded:
    family: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # key headers replaced by "<redacted>"
    body: Any
    key_present: bool
    validation_errors: list[str] = field(default_factory=list)



# ----- the four wire formats ---------------------------------------------------------------


@dataclass
class Call:
    """One chat call being answered."""

    family: str
    body: dict
    model: str
    stream: bool
    behaviour: Behaviour
    text: str = ""
    pieces: list[str] = field(default_factory=list)
    input_tokens: int = 0

    @property
    def output_tokens(self) -> int:
        return len(self.pieces)


def _prompt_texts(family: str, body: dict) -> list[tuple[str, str]]:
    if family == "gemini":
        out = [("system", p.get("text", "")) for p in (body.get("systemInstruction") or {}).get("parts", [])]
        return out + [(c.get("role", ""), p.get("text", "")) for c in body.get("contents", []) for p in c.get("parts", [])]
    out = [("system", body["system"])] if isinstance(body.get("system"), str) else []
    return out + [(m.get("role", ""), m.get("content") if isinstance(m.get("content"), str) else "")
                  for m in body.get("messages", [])]


def _wants_json(family: str, body: dict) -> bool:
    if family == "openai":
        return (body.get("response_format") or {}).get("type") in ("json_object", "json_schema")
    if family == "gemini":
        return (body.get("generationConfig") or {}).get("responseMimeType") == "application/json"
    if family == "ollama":
        return "format" in body
    return "JSON" in str(body.get("system", ""))


def make_call(family: str, body: dict, model: str, stream: bool, behaviour: Behaviour) -> Call:
    texts = _prompt_texts(family, body)
    last_user = next((t for role, t in reversed(texts) if role == "user"), "")
    text = behaviour.text
    if text is None:
        text = json.dumps({"echo": last_user}) if _wants_json(family, body) else f"You said: {last_user}"
    pieces = re.findall(r"\S+\s*|\s+", text) or [""]
    # About four characters per token, plus a little per message, like real tokenizers.
    prompt = sum(len(t) for _, t in texts)
    return Call(family, body, model, stream, behaviour, text, pieces, max(1, prompt // 4) + 3 * len(texts))


def _sse(data: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    payload = data if isinstance(data, str) else json.dumps(data)
    return f"{head}data: {payload}\n\n".encode()


class OpenAIWire:
    content_type = "text/event-stream"
    finish = {"stop": "stop", "length": "length"}

    def usage(self, c: Call) -> dict:
        b = c.behaviour
        return {"prompt_tokens": c.input_tokens, "completion_tokens": c.output_tokens + b.thinking_tokens,
                "total_tokens": c.input_tokens + c.output_tokens + b.thinking_tokens,
                "prompt_tokens_details": {"cached_tokens": b.cached_tokens, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": b.thinking_tokens, "audio_tokens": 0,
                                              "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}

    def whole(self, c: Call) -> dict:
        return {"id": "chatcmpl-fake0001", "object": "chat.completion", "created": 1741570283, "model": c.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": c.text, "refusal": None,
                                                     "annotations": []},
                             "logprobs": None, "finish_reason": self.finish[c.behaviour.finish]}],
                "usage": self.usage(c), "service_tier": "default", "system_fingerprint": "fp_fake"}

    def _chunk(self, c: Call, delta: dict, finish: str | None = None) -> bytes:
        chunk = {"id": "chatcmpl-fake0001", "object": "chat.completion.chunk", "created": 1694268190,
                 "model": c.model, "system_fingerprint": "fp_fake",
                 "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        if (c.body.get("stream_options") or {}).get("include_usage"):
            chunk["usage"] = None
        return _sse(chunk)

    def preamble(self, c: Call) -> list[bytes]:
        return [self._chunk(c, {"role": "assistant", "content": ""})]

    def content(self, c: Call, i: int, piece: str) -> bytes:
        return self._chunk(c, {"content": piece})

    def ending(self, c: Call) -> list[bytes]:
        out = [self._chunk(c, {}, self.finish[c.behaviour.finish])]
        if (c.body.get("stream_options") or {}).get("include_usage"):
            out.append(_sse({"id": "chatcmpl-fake0001", "object": "chat.completion.chunk", "created": 1694268190,
                             "model": c.model, "system_fingerprint": "fp_fake", "choices": [], "usage": self.usage(c)}))
        return out + [b"data: [DONE]\n\n"]

    def error_event(self, c: Call) -> bytes:
        return _sse({"error": {"message": "The server had an error while processing your request.",
                               "type": "server_error", "param": None, "code": None}})


class AnthropicWire:
    content_type = "text/event-stream"
    finish = {"stop": "end_turn", "length": "max_tokens"}

    def usage(self, c: Call, output: int) -> dict:
        cached = c.behaviour.cached_tokens
        return {"input_tokens": c.input_tokens - cached, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": cached, "output_tokens": output}

    def whole(self, c: Call) -> dict:
        return {"id": "msg_fake0001", "type": "message", "role": "assistant", "model": c.model,
                "content": [{"type": "text", "text": c.text}], "stop_reason": self.finish[c.behaviour.finish],
                "stop_sequence": None, "usage": {**self.usage(c, c.output_tokens), "service_tier": "standard"}}

    def preamble(self, c: Call) -> list[bytes]:
        start = {"id": "msg_fake0001", "type": "message", "role": "assistant", "content": [], "model": c.model,
                 "stop_reason": None, "stop_sequence": None, "usage": self.usage(c, 1)}
        return [_sse({"type": "message_start", "message": start}, "message_start"),
                _sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                     "content_block_start"),
                _sse({"type": "ping"}, "ping")]

    def content(self, c: Call, i: int, piece: str) -> bytes:
        return _sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}},
                    "content_block_delta")

    def ending(self, c: Call) -> list[bytes]:
        return [_sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
                _sse({"type": "message_delta", "delta": {"stop_reason": self.finish[c.behaviour.finish],
                                                         "stop_sequence": None},
                      "usage": {"output_tokens": c.output_tokens}}, "message_delta"),
                _sse({"type": "message_stop"}, "message_stop")]

    def error_event(self, c: Call) -> bytes:
        return _sse({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, "error")


class GeminiWire:
    content_type = "text/event-stream"
    finish = {"stop": "STOP", "length": "MAX_TOKENS"}

    def usage(self, c: Call, output: int | None) -> dict:
        b = c.behaviour
        usage = {"promptTokenCount": c.input_tokens,
                 "totalTokenCount": c.input_tokens + (output or 0) + b.thinking_tokens,
                 "promptTokensDetails": [{"modality": "TEXT", "tokenCount": c.input_tokens}]}
        if output is not None:  # absent while only thoughts have been produced
            usage["candidatesTokenCount"] = output
        if b.thinking_tokens:
            usage["thoughtsTokenCount"] = b.thinking_tokens
        if b.cached_tokens:
            usage["cachedContentTokenCount"] = b.cached_tokens
        return usage

    def _chunk(self, c: Call, text: str, output: int | None, last: bool, thought: bool = False) -> dict:
        part: dict = {"text": text, "thought": True} if thought else {"text": text}
        cand: dict = {"content": {"parts": [part], "role": "model"}, "index": 0}
        if last:
            cand["finishReason"] = self.finish[c.behaviour.finish]
        return {"candidates": [cand], "usageMetadata": self.usage(c, output),
                "modelVersion": c.model, "responseId": "fakeResponse0001"}

    def whole(self, c: Call) -> dict:
        return self._chunk(c, c.text, c.output_tokens, last=True)

    def preamble(self, c: Call) -> list[bytes]:
        if not c.behaviour.thinking_tokens:
            return []
        return [_sse(self._chunk(c, "**Thinking it over**", None, last=False, thought=True))]

    def content(self, c: Call, i: int, piece: str) -> bytes:
        return _sse(self._chunk(c, piece, i + 1, last=i + 1 == len(c.pieces)))

    def ending(self, c: Call) -> list[bytes]:
        return []

    def error_event(self, c: Call) -> bytes:
        return _sse({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}})


class OllamaWire:
    content_type = "application/x-ndjson"
    finish = {"stop": "stop", "length": "length"}

    def _done(self, c: Call) -> dict:
        # 20 ms per generated token: a steady 50 tokens/s.
        return {"done_reason": self.finish[c.behaviour.finish], "done": True, "total_duration": 5191566416,
                "load_duration": 2154458, "prompt_eval_count": c.input_tokens, "prompt_eval_duration": 383809000,
                "eval_count": c.output_tokens, "eval_duration": c.output_tokens * 20_000_000}

    def whole(self, c: Call) -> dict:
        return {"model": c.model, "created_at": "2023-12-12T14:13:43.416799Z",
                "message": {"role": "assistant", "content": c.text}, **self._done(c)}

    def preamble(self, c: Call) -> list[bytes]:
        return []

    def content(self, c: Call, i: int, piece: str) -> bytes:
        return (json.dumps({"model": c.model, "created_at": "2023-08-04T08:52:19.385406455-07:00",
                            "message": {"role": "assistant", "content": piece, "images": None},
                            "done": False}) + "\n").encode()

    def ending(self, c: Call) -> list[bytes]:
        line = {"model": c.model, "created_at": "2023-08-04T19:22:45.499127Z",
                "message": {"role": "assistant", "content": ""}, **self._done(c)}
        return [(json.dumps(line) + "\n").encode()]

    def error_event(self, c: Call) -> bytes:
        return b'{"error":"an error was encountered while running the model: unexpected EOF"}\n'


WIRES = {"openai": OpenAIWire(), "anthropic": AnthropicWire(), "gemini": GeminiWire(), "ollama": OllamaWire()}

GEMINI_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
ANTHROPIC_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                   404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
                   500: "api_error", 529: "overloaded_error"}
OPENAI_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 404: "invalid_request_error",
                429: "requests", 500: "server_error", 503: "service_unavailable_error"}


def error_body(family: str, status: int, message: str, type_: str | None = None,
               code: str | None = None, param: str | None = None) -> dict:
    """An error in the family's own shape (reference: each API's "Errors" paragraph)."""
    if family == "anthropic":
        return {"type": "error", "error": {"type": type_ or ANTHROPIC_TYPES.get(status, "api_error"),
                                           "message": message}, "request_id": "req_fake0001"}
    if family == "gemini":
        reason = {"type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": code} if code else None
        return {"error": {"code": status, "message": message, "status": type_ or GEMINI_STATUS.get(status, "UNKNOWN"),
                          "details": [reason] if reason else []}}
    if family == "ollama":
        return {"error": message}
    return {"error": {"message": message, "type": type_ or OPENAI_TYPES.get(status, "server_error"),
                      "param": param, "code": code}}


# ----- the server --------------------------------------------------------------------------

DEFAULT_MODELS = {
    "openai": ["gpt-4o-mini", "gpt-4o", "o4-mini"],
    "anthropic": ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"],
    "gemini": ["gemini-2.5-flash", "gemini-2.5-pro", "text-embedding-004"],
    "ollama": ["llama3.2:latest", "qwen2.5:7b"],
}


class _Disconnected(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections end after this
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.server.fake._connection(self.connection, +1)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.fake._connection(self.connection, -1)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        try:
            self.server.fake._handle(self, method)
        except (_Disconnected, BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.close_connection = True
            self.server.fake._note_disconnect()

    # low-level writers used by FakeProviderServer
    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def start_stream(self, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()

    def chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def abort(self) -> None:
        """Drop the connection mid-body, as a crashing server or a dying proxy would."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # benchmarks open 16+ connections at once
    fake: FakeProviderServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client dropping an idle keep-alive connection is normal, not worth a traceback.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class FakeProviderServer:
    def __init__(self, api_keys: tuple[str, ...] = (API_KEY,)) -> None:
        self.api_keys = set(api_keys)
        self.keyless = {"ollama"}  # families that accept calls without a key
        self.latency = 0.0
        self.default = Behaviour()
        self.models = {k: list(v) for k, v in DEFAULT_MODELS.items()}
        self.page_size = 2  # small pages, so clients have to follow pagination
        self.requests: list[Recorded] = []
        self.disconnects = 0
        self.max_concurrent = 0
        self._in_flight = 0
        self._open: set[socket.socket] = set()
        self._queues: dict[str | None, deque[Behaviour]] = {}
        self._lock = threading.Lock()
        self._counter = 0
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----- lifecycle -----
    def start(self) -> FakeProviderServer:
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-provider", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        with self._lock:
            for conn in list(self._open):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._httpd.server_close()
        self._httpd = None

    def __enter__(self) -> FakeProviderServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- what tests use -----
    @property
    def root_url(self) -> str:
        assert self._httpd is not None, "start the server first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def base_url(self, kind: str) -> str:
        return {"openai": f"{self.root_url}/v1", "gemini": f"{self.root_url}/v1beta"}.get(kind, self.root_url)

    def provider_config(self, kind: str, name: str | None = None, **overrides: Any) -> Any:
        """A ProviderConfig pointing at this server. It stands in for the hosted API, so it is
        not treated as local (costs are computed) unless `local=True` is passed."""
        from lab.core.providers.base import ProviderConfig

        values: dict[str, Any] = {"name": name or kind, "kind": kind, "base_url": self.base_url(kind),
                                  "local": kind == "ollama"}
        values.update(overrides)
        return ProviderConfig(**values)

    def script(self, *behaviours: Behaviour, model: str | None = None) -> None:
        """Answer the next chat calls (for `model`, or any model) with these, in order."""
        with self._lock:
            self._queues.setdefault(model, deque()).extend(behaviours)

    @property
    def validation_failures(self) -> list[Recorded]:
        return [r for r in self.requests if r.validation_errors]

    def chat_requests(self, family: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and (family is None or r.family == family)]

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._open)

    def wait_for_connections(self, at_most: int = 0, timeout: float = 3.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.open_connections <= at_most:
                return True
            time.sleep(0.02)
        return self.open_connections <= at_most

    # ----- internals -----
    def _connection(self, conn: socket.socket, delta: int) -> None:
        with self._lock:
            (self._open.add if delta > 0 else self._open.discard)(conn)

    def _note_disconnect(self) -> None:
        with self._lock:
            self.disconnects += 1

    def _next_behaviour(self, model: str) -> Behaviour:
        with self._lock:
            for key in (model, None):
                queue = self._queues.get(key)
                if queue:
                    return queue.popleft()
            return self.default

    def _route(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[str, str, str, bool]:
        if method == "POST" and path == "/v1/chat/completions":
            return "openai", "chat", str(body.get("model", "")), body.get("stream") is True
        if method == "POST" and path == "/v1/messages":
            return "anthropic", "chat", str(body.get("model", "")), body.get("stream") is True
        m = re.fullmatch(r"/v1beta/models/([^/:]+):(generateContent|streamGenerateContent)", path)
        if method == "POST" and m:
            return "gemini", "chat", m.group(1), m.group(2) == "streamGenerateContent"
        if method == "POST" and path == "/api/chat":
            return "ollama", "chat", str(body.get("model", "")), body.get("stream", True) is not False
        if method == "GET" and path == "/v1/models":
            return ("anthropic" if "anthropic-version" in headers else "openai"), "models", "", False
        if method == "GET" and path == "/v1beta/models":
            return "gemini", "models", "", False
        if method == "GET" and path == "/api/tags":
            return "ollama", "models", "", False
        return "unknown", "unknown", "", False

    def _key_of(self, family: str, headers: dict[str, str], query: dict) -> str | None:
        if family == "anthropic":
            return headers.get("x-api-key")
        if family == "gemini":
            return headers.get("x-goog-api-key") or (query.get("key") or [None])[0]
        auth = headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else None

    def _handle(self, h: _Handler, method: str) -> None:
        url = urlsplit(h.path)
        query = parse_qs(url.query)
        headers = {k.lower(): v for k, v in h.headers.items()}
        expected = int(headers.get("content-length") or 0) if method == "POST" else 0
        raw = h.rfile.read(expected) if expected else b""
        if len(raw) < expected:
            # The client hung up mid-request (a cancelled call): nothing was asked, nothing to
            # validate or answer. A real server drops such a connection too.
            return
        try:
            body: Any = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        family, op, model, stream = self._route(method, url.path, headers, body if isinstance(body, dict) else {})
        key = self._key_of(family, headers, query)
        shown = {k: ("<redacted>" if k in KEY_HEADERS else v) for k, v in headers.items()}
        record = Recorded(family, method, url.path, query, shown, body, key is not None)
        with self._lock:
            self.requests.append(record)
            self._counter += 1
            request_id = f"req_fake{self._counter:05d}"
        if op == "unknown":
            h.send_json(404, {"error": f"no route for {method} {url.path}"})
            return
        if key is None and family not in self.keyless:
            return self._auth_error(h, family, "No API key provided.")
        if key is not None and key not in self.api_keys and family not in self.keyless:
            # Real providers echo (part of) the rejected key: the client must scrub it.
            return self._auth_error(h, family, f"Incorrect API key provided: {key}.")
        if op == "models":
            return self._models(h, family, query)
        if not isinstance(body, dict):
            record.validation_errors.append("the body is not a JSON object")
        else:
            record.validation_errors += VALIDATORS[family](body, headers, query)
            if family == "gemini" and stream and query.get("alt") != ["sse"]:
                record.validation_errors.append("streamGenerateContent without alt=sse")
        if record.validation_errors:
            msg = "Invalid request: " + "; ".join(record.validation_errors)
            return h.send_json(400, error_body(family, 400, msg))
        with self._lock:
            self._in_flight += 1
            self.max_concurrent = max(self.max_concurrent, self._in_flight)
        try:
            self._chat(h, family, model, stream, body, request_id)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _auth_error(self, h: _Handler, family: str, message: str) -> None:
        if family == "gemini":  # Gemini answers a bad key with 400 API_KEY_INVALID
            h.send_json(400, error_body("gemini", 400, "API key not valid. Please pass a valid API key. " + message,
                                        code="API_KEY_INVALID"))
        else:
            h.send_json(401, error_body(family, 401, message, code="invalid_api_key"))

    def _models(self, h: _Handler, family: str, query: dict) -> None:
        names = self.models[family]
        if family == "openai":
            return h.send_json(200, {"object": "list", "data": [
                {"id": n, "object": "model", "created": 1686935002, "owned_by": "openai"} for n in names]})
        if family == "ollama":
            return h.send_json(200, {"models": [
                {"name": n, "modified_at": "2023-12-07T09:32:18.757212583-08:00", "size": 3825819519,
                 "digest": "fe938a", "details": {"format": "gguf", "family": "llama", "parameter_size": "7B",
                                                 "quantization_level": "Q4_0"}} for n in names]})
        token = (query.get("after_id") or query.get("pageToken") or [None])[0]
        start = names.index(token) + 1 if token in names else 0
        page = names[start:start + self.page_size]
        more = start + self.page_size < len(names)
        if family == "anthropic":
            return h.send_json(200, {"data": [{"type": "model", "id": n, "display_name": n,
                                               "created_at": "2025-02-19T00:00:00Z"} for n in page],
                                     "has_more": more, "first_id": page[0] if page else None,
                                     "last_id": page[-1] if page else None})
        models = [{"name": f"models/{n}", "version": "001", "displayName": n, "inputTokenLimit": 1048576,
                   "outputTokenLimit": 65536,
                   "supportedGenerationMethods": ["embedContent"] if "embedding" in n
                   else ["generateContent", "countTokens"]} for n in page]
        h.send_json(200, {"models": models, **({"nextPageToken": page[-1]} if more else {})})

    def _chat(self, h: _Handler, family: str, model: str, stream: bool, body: dict, request_id: str) -> None:
        b = self._next_behaviour(model)
        time.sleep(self.latency + b.latency)
        id_header = {"anthropic": "request-id", "openai": "x-request-id"}.get(family)
        headers = {id_header: request_id} if id_header else {}
        if b.status >= 400:
            message = b.error_message or {401: "Invalid authentication", 404: f"The model `{model}` does not exist",
                                          500: "The server had an error while processing your request."}.get(
                b.status, f"Error {b.status}")
            return h.send_json(b.status, error_body(family, b.status, message, b.error_type, b.error_code,
                                                    b.error_param), {**headers, **b.headers})
        wire = WIRES[family]
        call = make_call(family, body, model, stream, b)
        if not stream:
            return h.send_json(200, b"{not json" if b.bad_json else wire.whole(call), headers)
        h.start_stream(wire.content_type, headers)
        for piece in wire.preamble(call):
            h.chunk(piece)
        if b.bad_json:
            h.chunk(b"data: {not json\n\n" if wire.content_type == "text/event-stream" else b"{not json\n")
            return h.end_stream()
        if b.first_token_delay:
            time.sleep(b.first_token_delay)
        for i, piece in enumerate(call.pieces):
            if b.cut_after is not None and i >= b.cut_after:
                return h.abort()
            if b.error_after is not None and i >= b.error_after:
                h.chunk(wire.error_event(call))
                return h.end_stream()
            if b.chunk_delay and i:
                time.sleep(b.chunk_delay)
            h.chunk(wire.content(call, i, piece))
            if b.comments and wire.content_type == "text/event-stream":
                h.chunk(b": OPENROUTER PROCESSING\n\n" if family != "anthropic" else _sse({"type": "ping"}, "ping"))
        if b.cut_after is not None:
            return h.abort()  # every text chunk went out, the end marker never does
        for piece in wire.ending(call):
            h.chunk(piece)
        h.end_stream()


@pytest.fixture
def fake_server_checked():
    """A fake provider server that fails the test if any request broke its API's rules."""
    fake = FakeProviderServer().start()
    try:
        yield fake
    finally:
        fake.stop()
        assert not fake.validation_failures, fake.validation_failures[0].validation_errors
