"""Google Gemini generateContent / streamGenerateContent (alt=sse): wire format only.

Gemini's shape: `contents` with roles user/model, the system prompt in `systemInstruction`,
parameters in camelCase under `generationConfig`, the key in the `x-goog-api-key` header (never
in the URL, where it would end up in logs). Streamed chunks repeat a cumulative `usageMetadata`;
the last one wins. Thinking tokens count as output. A blocked prompt comes back as
`promptFeedback.blockReason` with no candidates.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from lab.core.providers import retry
from lab.core.providers.base import ChatRequest, ProviderConfig, Reply
from lab.core.providers.errors import ErrorDetails, StreamErrorEvent

OPTIONAL_FIELDS: dict[str, str] = {}  # the body holds nothing the API could do without
STREAM_FORMAT = "sse"

FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "LANGUAGE": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
}
# Finish reasons that leave no reply at all: the call failed (GenerationFailed), saying why.
# (A filtered reply above is a reply: what came is graded, marked content_filter.)
FAILURES = {
    "MALFORMED_FUNCTION_CALL": "the model produced a malformed function call ({reason}), so there is no reply. "
                               "Simplify the tool declarations or their arguments, or run it again.",
    "UNEXPECTED_TOOL_CALL": "the model called a tool the request did not offer ({reason}), so there is no reply. "
                            "Declare the tool, or tell the model not to call tools.",
    "TOO_MANY_TOOL_CALLS": "the model made too many tool calls in a row ({reason}), so there is no reply.",
    "MALFORMED_RESPONSE": "the model's reply was malformed ({reason}), so there is no reply. Run it again.",
    "MISSING_THOUGHT_SIGNATURE": "the request lacks the thought signature the model needs to go on "
                                 "with its earlier reasoning ({reason}), so there is no reply.",
}

# Lab parameter -> generationConfig field. Unknown names go through verbatim, so a user can
# write Gemini's own camelCase fields (thinkingConfig, responseLogprobs, ...).
PARAMS = {
    "temperature": "temperature",
    "top_p": "topP",
    "top_k": "topK",
    "max_tokens": "maxOutputTokens",
    "max_completion_tokens": "maxOutputTokens",
    "stop": "stopSequences",
    "seed": "seed",
    "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty",
    "n": "candidateCount",
}
TOP_LEVEL = {"safetySettings", "safety_settings", "tools", "toolConfig", "cachedContent"}

STATUS_CODES = {"INVALID_ARGUMENT": 400, "FAILED_PRECONDITION": 400, "PERMISSION_DENIED": 403,
                "NOT_FOUND": 404, "RESOURCE_EXHAUSTED": 429, "INTERNAL": 500, "UNAVAILABLE": 503,
                "DEADLINE_EXCEEDED": 504}


def _model_path(model: str) -> str:
    return quote(model if model.startswith("models/") else f"models/{model}", safe="/")


def chat_url(config: ProviderConfig, request: ChatRequest) -> str:
    base = f"{config.base_url}/{_model_path(request.model)}"
    return f"{base}:streamGenerateContent?alt=sse" if request.stream else f"{base}:generateContent"


def auth_headers(config: ProviderConfig, key: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["x-goog-api-key"] = key
    return headers


def build_body(config: ProviderConfig, request: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "contents": [
            {"role": "model" if role == "assistant" else "user", "parts": [{"text": text}]}
            for role, text in request.turns()
        ]
    }
    system = request.system_text()
    if system:
        body["systemInstruction"] = {"parts": [{"text": system}]}
    generation: dict[str, Any] = {}
    for name, value in request.params.items():
        if value is None:
            continue
        if name in TOP_LEVEL:
            body["safetySettings" if name == "safety_settings" else name] = value
            continue
        field = PARAMS.get(name, name)
        generation[field] = [value] if field == "stopSequences" and isinstance(value, str) else value
    fmt = request.response_format
    if fmt and fmt.get("type") in ("json_object", "json_schema"):
        generation["responseMimeType"] = "application/json"
        if fmt.get("type") == "json_schema":
            generation["responseJsonSchema"] = fmt.get("schema", {})
    if generation:
        body["generationConfig"] = generation
    return body


def _text_of(candidate: dict[str, Any]) -> str:
    parts = (candidate.get("content") or {}).get("parts") or []
    # Thought parts are the model's reasoning, not its reply; parts with only a
    # thoughtSignature carry no text at all.
    return "".join(p.get("text", "") for p in parts if not p.get("thought"))


def _apply(chunk: dict[str, Any], reply: Reply) -> str:
    if "error" in chunk:
        details = error_details(chunk)
        raise StreamErrorEvent(STATUS_CODES.get(details.type or "", 500), details)
    if chunk.get("usageMetadata"):
        reply.raw_usage = chunk["usageMetadata"]  # cumulative: the latest is the total
    reply.model = chunk.get("modelVersion") or reply.model
    reply.response_id = chunk.get("responseId") or reply.response_id
    blocked = (chunk.get("promptFeedback") or {}).get("blockReason")
    if blocked:
        reply.finish_reason = "content_filter"
        reply.warning = f"Gemini blocked the prompt ({blocked})"
        reply.complete = True
    candidates = chunk.get("candidates") or []
    if not candidates:
        return ""
    first = candidates[0]
    if first.get("finishReason"):
        raw = first["finishReason"]
        reply.finish_reason = FINISH_REASONS.get(raw, raw.lower())
        reply.complete = True
        if raw in FAILURES:
            reply.failed = FAILURES[raw].format(reason=raw)
    return _text_of(first)


def parse_reply(data: Any) -> Reply:
    reply = Reply()
    reply.text = _apply(data, reply)
    return reply


class Stream:
    def __init__(self) -> None:
        self.reply = Reply(complete=False)
        self._parts: list[str] = []

    def feed(self, data: str, event: str | None = None) -> str:
        text = _apply(json.loads(data), self.reply)
        if text:
            self._parts.append(text)
        return text

    def finish(self) -> Reply:
        self.reply.text = "".join(self._parts)
        return self.reply


def new_stream() -> Stream:
    return Stream()


def error_details(data: Any) -> ErrorDetails:
    if isinstance(data, list) and data:  # some Google front ends wrap the error in a list
        data = data[0]
    if not isinstance(data, dict):
        return ErrorDetails(message=str(data)[:500])
    err = data.get("error", data)
    if not isinstance(err, dict):
        return ErrorDetails(message=str(err)[:500])
    details = [d for d in err.get("details") or [] if isinstance(d, dict)]
    # google.rpc details: ErrorInfo has a `reason` (API_KEY_INVALID, BILLING_DISABLED), RetryInfo
    # a `retryDelay` ("37s"), QuotaFailure the `violations` naming each quota that ran out.
    reason = next((d["reason"] for d in details if d.get("reason")), None)
    delay = next((retry.parse_duration(d["retryDelay"]) for d in details if d.get("retryDelay")), None)
    quotas = tuple(
        str(name)
        for d in details for v in d.get("violations") or [] if isinstance(v, dict)
        for name in (v.get("quotaId"), v.get("quotaMetric")) if name
    )
    return ErrorDetails(message=str(err.get("message") or ""), type=err.get("status"), code=reason,
                        retry_after=delay, quotas=quotas)


def models_url(config: ProviderConfig, page_token: str | None) -> str:
    query: dict[str, Any] = {"pageSize": 1000}
    if page_token:
        query["pageToken"] = page_token
    return f"{config.base_url}/models?{urlencode(query)}"


def parse_models(data: Any) -> tuple[list[str], str | None]:
    ids = []
    for model in data.get("models", []):
        methods = model.get("supportedGenerationMethods")
        if methods is not None and "generateContent" not in methods:
            continue  # embedding and other non-chat models
        ids.append(model.get("name", "").removeprefix("models/"))
    return [i for i in ids if i], data.get("nextPageToken") or None
