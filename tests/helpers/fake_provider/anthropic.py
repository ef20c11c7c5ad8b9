"""Anthropic Messages as the fake speaks it: request checks, replies (whole and SSE events),
errors and the model list.

Requests are checked against the anthropic SDK's own request type (`MessageCreateParams-
Streaming` / `NonStreaming`), plus the rules a type cannot state (alternating turns, ranges,
the version header). Everything the fake sends is read back with the SDK's `Message`,
`RawMessageStreamEvent`, `ErrorResponse` and `ModelInfo`.
"""

from __future__ import annotations

import json

from tests.helpers.fake_provider import sdk
from tests.helpers.fake_provider.wire import Call, Family, check_range, page, sse, sse_events

ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
               500: "api_error", 529: "overloaded_error"}
# Sampling fields the API still takes (at anthropic-version 2023-06-01) but the SDK dropped from
# its request type in 1.0 as deprecated (callers pass them in `extra_body`): checked here by
# hand whenever the installed SDK no longer declares them.
SAMPLING = {"temperature", "top_p", "top_k"}
ID = "msg_fake0001"


class Anthropic(Family):
    name = "anthropic"
    finish = {"stop": "end_turn", "length": "max_tokens"}
    refusals = True  # stop_reason "refusal"; the text so far is kept
    request_id_header = "request-id"

    # ----- requests -----
    def sdk_errors(self, body: dict) -> list[str]:
        params = sdk.load("anthropic.types.message_create_params")
        shape = (params.MessageCreateParamsStreaming if body.get("stream") is True
                 else params.MessageCreateParamsNonStreaming)
        declared = shape.__required_keys__ | shape.__optional_keys__
        return sdk.request_errors(shape, {k: v for k, v in body.items() if k in declared or k not in SAMPLING})

    def rule_errors(self, body: dict, headers: dict[str, str], query: dict, stream: bool) -> list[str]:
        errors: list[str] = []
        if headers.get("anthropic-version") != "2023-06-01":
            errors.append("anthropic-version header must be 2023-06-01")
        if isinstance(body.get("max_tokens"), int) and body["max_tokens"] < 1:
            errors.append("max_tokens: must be at least 1")
        check_range(errors, body, "temperature", 0, 1)
        check_range(errors, body, "top_p", 0, 1)
        if "top_k" in body and not (type(body["top_k"]) is int and body["top_k"] >= 0):
            errors.append("top_k: must be an integer >= 0")
        msgs = body.get("messages")
        if msgs == []:
            errors.append("messages: at least one message is required")
        msgs = [m for m in msgs if isinstance(m, dict)] if isinstance(msgs, list) else []
        for i, m in enumerate(msgs):
            if not m.get("content"):
                errors.append(f"messages.{i}.content: must be non-empty")
            if i and m.get("role") == msgs[i - 1].get("role"):
                errors.append(f"messages.{i}: roles must alternate between user and assistant")
        if msgs and msgs[0].get("role") != "user":
            errors.append("messages.0: the first message must use the user role")
        return errors

    def key_of(self, headers: dict[str, str], query: dict) -> str | None:
        return headers.get("x-api-key")

    def wants_json(self, body: dict) -> bool:
        # structured outputs (`output_config.format`), or JSON asked for in the system prompt
        fmt = (body.get("output_config") or {}).get("format") or {}
        return fmt.get("type") == "json_schema" or "JSON" in str(body.get("system", ""))

    # ----- replies -----
    def usage(self, c: Call, output: int, *, final: bool = True) -> dict:
        cached = c.behaviour.cached_tokens
        return {"input_tokens": c.input_tokens - cached, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": cached,
                **(self._output(c, output) if final else {"output_tokens": output})}

    @staticmethod
    def _output(c: Call, output: int) -> dict:
        """output_tokens includes thinking; recent API versions break it down (as the recorded
        pause_turn stream does: `"output_tokens_details": {"thinking_tokens": 261}`)."""
        thinking = c.behaviour.thinking_tokens
        if not thinking:
            return {"output_tokens": output}
        return {"output_tokens": output + thinking, "output_tokens_details": {"thinking_tokens": thinking}}

    def _message(self, c: Call, content: list[dict], stop_reason: str | None, usage: dict) -> dict:
        return {"id": ID, "type": "message", "role": "assistant", "model": c.model, "content": content,
                "stop_reason": stop_reason, "stop_sequence": None, "usage": usage}

    def whole(self, c: Call) -> dict:
        return self._message(c, [{"type": "text", "text": c.text}], self._stop_reason(c),
                             {**self.usage(c, c.output_tokens), "service_tier": "standard"})

    @staticmethod
    def _event(data: dict) -> bytes:
        return sse(data, data["type"])  # the event is named after its type; the SDK skips unnamed ones

    def preamble(self, c: Call) -> list[bytes]:
        return [self._event({"type": "message_start", "message": self._message(c, [], None, self.usage(c, 1, final=False))}),
                self._event({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                self._event({"type": "ping"})]

    def content(self, c: Call, i: int, piece: str) -> bytes:
        return self._event({"type": "content_block_delta", "index": 0,
                            "delta": {"type": "text_delta", "text": piece}})

    def ending(self, c: Call) -> list[bytes]:
        return [self._event({"type": "content_block_stop", "index": 0}),
                self._event({"type": "message_delta", "delta": {"stop_reason": self._stop_reason(c),
                                                                "stop_sequence": None},
                             "usage": self._output(c, c.output_tokens)}),
                self._event({"type": "message_stop"})]

    def _stop_reason(self, c: Call) -> str:
        return "refusal" if c.behaviour.refusal else self.finish[c.behaviour.finish]

    def error_event(self, c: Call) -> bytes:
        return self._event({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})

    def keep_alive(self) -> bytes | None:
        return self._event({"type": "ping"})

    # ----- errors and model lists -----
    def error_body(self, status: int, message: str, type_: str | None = None,
                   code: str | None = None, param: str | None = None) -> dict:
        return {"type": "error", "error": {"type": type_ or ERROR_TYPES.get(status, "api_error"),
                                           "message": message}, "request_id": "req_fake0001"}

    def models_page(self, names: list[str], query: dict, size: int) -> dict:
        shown, more = page(names, (query.get("after_id") or [None])[0], size)
        return {"data": [{"type": "model", "id": n, "display_name": n, "created_at": "2025-02-19T00:00:00Z",
                          "lifecycle": "active"} for n in shown],
                "has_more": more, "first_id": shown[0] if shown else None, "last_id": shown[-1] if shown else None}

    # ----- what the fake sends, read back with the SDK's models -----
    def check_sent(self, kind: str, data: bytes) -> list[str]:
        types = sdk.load("anthropic.types")
        if kind == "reply":
            return sdk.response_errors(types.Message, data)
        if kind == "error":
            return sdk.response_errors(types.ErrorResponse, data)
        if kind == "models":
            return sdk.response_errors(sdk.load("anthropic.pagination").SyncPage[types.ModelInfo], data)
        errors = []
        for event, payload in sse_events(data):
            parsed = json.loads(payload)
            if event != parsed.get("type"):  # the SDK skips unnamed events and reads the type
                errors.append(f"event {event!r} carries a {parsed.get('type')!r}")
            if event == "ping":  # the SDK drops pings unread
                if parsed != {"type": "ping"}:
                    errors.append('a ping is {"type": "ping"} and nothing else')
            elif event == "error":  # the SDK raises an APIStatusError with this body
                errors += sdk.response_errors(types.ErrorResponse, payload)
            else:
                errors += sdk.response_errors(types.RawMessageStreamEvent, payload)
        return errors


FAMILY = Anthropic()
