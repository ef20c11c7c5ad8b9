"""OpenAI Chat Completions as the fake speaks it: request checks, replies (whole and SSE
chunks), errors and the model list.

Requests are checked against the openai SDK's own request type (`CompletionCreateParams-
Streaming` / `NonStreaming`), plus the rules a type cannot state (ranges, field combinations).
Everything the fake sends is read back with the SDK's `ChatCompletion`, `ChatCompletionChunk`,
`ErrorObject` and `Model`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.helpers.fake_provider import sdk
from tests.helpers.fake_provider.wire import Call, Family, check_range, sse, sse_events

ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 404: "invalid_request_error",
               429: "requests", 500: "server_error", 503: "service_unavailable_error"}
ID = "chatcmpl-fake0001"


class OpenAI(Family):
    name = "openai"
    finish = {"stop": "stop", "length": "length"}
    request_id_header = "x-request-id"
    refusals = True  # the text in `refusal`, content null; it ends like any reply

    # ----- requests -----
    def sdk_errors(self, body: dict) -> list[str]:
        params = sdk.load("openai.types.chat.completion_create_params")
        shape = (params.CompletionCreateParamsStreaming if body.get("stream") is True
                 else params.CompletionCreateParamsNonStreaming)
        return sdk.request_errors(shape, body)

    def rule_errors(self, body: dict, headers: dict[str, str], query: dict, stream: bool) -> list[str]:
        errors: list[str] = []
        if body.get("messages") == []:
            errors.append("messages must be a non-empty list")
        check_range(errors, body, "temperature", 0, 2)
        check_range(errors, body, "top_p", 0, 1)
        if isinstance(body.get("stop"), list) and not 1 <= len(body["stop"]) <= 4:
            errors.append("stop takes 1 to 4 strings")
        if "stream_options" in body and body.get("stream") is not True:
            errors.append("stream_options is only allowed with stream: true")
        if "max_tokens" in body and "max_completion_tokens" in body:
            errors.append("send max_tokens or max_completion_tokens, not both")
        fmt = body.get("response_format")
        spec = fmt.get("json_schema") if isinstance(fmt, dict) and fmt.get("type") == "json_schema" else None
        if isinstance(spec, dict) and not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", str(spec.get("name", ""))):
            errors.append("response_format.json_schema.name must match [a-zA-Z0-9_-]{1,64}")
        return errors

    def wants_json(self, body: dict) -> bool:
        return (body.get("response_format") or {}).get("type") in ("json_object", "json_schema")

    # ----- replies -----
    def usage(self, c: Call) -> dict:
        b = c.behaviour
        return {"prompt_tokens": c.input_tokens, "completion_tokens": c.output_tokens + b.thinking_tokens,
                "total_tokens": c.input_tokens + c.output_tokens + b.thinking_tokens,
                "prompt_tokens_details": {"cached_tokens": b.cached_tokens, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": b.thinking_tokens, "audio_tokens": 0,
                                              "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}

    def whole(self, c: Call) -> dict:
        return {"id": ID, "object": "chat.completion", "created": 1741570283, "model": c.model,
                "choices": [{"index": 0, "message": {"role": "assistant",
                                                     "content": None if c.behaviour.refusal else c.text,
                                                     "refusal": c.text if c.behaviour.refusal else None,
                                                     "annotations": []},
                             "logprobs": None, "finish_reason": self.finish[c.behaviour.finish]}],
                **({"usage": self.usage(c)} if c.behaviour.usage else {}),
                "service_tier": "default", "system_fingerprint": "fp_fake"}

    def _chunk(self, c: Call, choices: list[dict], **extra: Any) -> bytes:
        return sse({"id": ID, "object": "chat.completion.chunk", "created": 1694268190, "model": c.model,
                    "system_fingerprint": "fp_fake", "choices": choices, **extra})

    def _delta(self, c: Call, delta: dict, finish: str | None = None) -> bytes:
        # With include_usage every chunk carries "usage": null until the last one fills it in.
        usage = {"usage": None} if self._include_usage(c) else {}
        return self._chunk(c, [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}], **usage)

    def _include_usage(self, c: Call) -> bool:
        return c.behaviour.usage and bool((c.body.get("stream_options") or {}).get("include_usage"))

    def preamble(self, c: Call) -> list[bytes]:
        if c.behaviour.refusal:  # as recorded: content null, the refusal streams in its own field
            return [self._delta(c, {"role": "assistant", "content": None, "refusal": ""})]
        return [self._delta(c, {"role": "assistant", "content": ""})]

    def content(self, c: Call, i: int, piece: str) -> bytes:
        return self._delta(c, {"refusal" if c.behaviour.refusal else "content": piece})

    def ending(self, c: Call) -> list[bytes]:
        out = [self._delta(c, {}, self.finish[c.behaviour.finish])]
        if self._include_usage(c):
            out.append(self._chunk(c, [], usage=self.usage(c)))
        return out + [b"data: [DONE]\n\n"]

    def error_event(self, c: Call) -> bytes:
        return sse(self.error_body(500, "The server had an error while processing your request."))

    # ----- errors and model lists -----
    def error_body(self, status: int, message: str, type_: str | None = None,
                   code: str | None = None, param: str | None = None) -> dict:
        return {"error": {"message": message, "type": type_ or ERROR_TYPES.get(status, "server_error"),
                          "param": param, "code": code}}

    def models_page(self, names: list[str], query: dict, size: int) -> dict:
        return {"object": "list", "data": [{"id": n, "object": "model", "created": 1686935002,
                                            "owned_by": "openai"} for n in names]}

    # ----- what the fake sends, read back with the SDK's models -----
    def check_sent(self, kind: str, data: bytes) -> list[str]:
        chat = sdk.load("openai.types.chat")
        if kind == "reply":
            return sdk.response_errors(chat.ChatCompletion, data)
        if kind == "error":
            return self._error_errors(data)
        if kind == "models":
            types, pagination = sdk.load("openai.types"), sdk.load("openai.pagination")
            return sdk.response_errors(pagination.SyncPage[types.Model], data)
        errors = []
        for event, payload in sse_events(data):
            if event is not None:
                errors.append(f"Chat Completions streams name no events (got {event!r})")
            if payload == "[DONE]":
                continue
            # The SDK raises an APIError for a chunk carrying "error", and parses any other.
            chunk = json.loads(payload)
            if isinstance(chunk, dict) and "error" in chunk:
                errors += self._error_errors(payload)
            else:
                errors += sdk.response_errors(chat.ChatCompletionChunk, payload)
        return errors

    def _error_errors(self, data: bytes | str) -> list[str]:
        """{"error": ErrorObject}: the SDK reads `error` from the body and nothing else."""
        body = json.loads(data)
        if not (isinstance(body, dict) and set(body) == {"error"}):
            return ['an error body is {"error": {...}} and nothing else']
        return sdk.response_errors(sdk.load("openai.types").ErrorObject, json.dumps(body["error"]))


FAMILY = OpenAI()
