"""Scripted behaviours: how the fake answers one chat call (a reply, an HTTP error, a fault).

`server.script(rate_limited(retry_after=0.2), reply())` answers the next calls in order; each
family module spells the behaviour in its own wire format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Behaviour:
    """How the fake answers one chat call. Build them with the helper functions below."""

    status: int = 200
    text: str | None = None  # None: derived from the request
    finish: str = "stop"  # "stop" or "length", spelled per API; anything else is sent as written
    # (Gemini's "MALFORMED_FUNCTION_CALL", "SAFETY")
    error_type: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_param: str | None = None
    error_details: list[dict] = field(default_factory=list)  # Gemini: google.rpc details to add
    headers: dict[str, str] = field(default_factory=dict)
    latency: float = 0.0  # before the status line
    first_token_delay: float = 0.0  # after the headers, before the first text
    chunk_delay: float = 0.0
    cut_after: int | None = None  # stream: drop the connection after N text chunks
    error_after: int | None = None  # stream: an error event after N text chunks
    bad_json: bool = False
    comments: bool = False  # SSE keep-alive comments (and extra Anthropic pings)
    thinking_tokens: int = 0  # reasoning tokens, reported inside the output count
    cached_tokens: int = 0
    tool_use_prompt_tokens: int = 0  # Gemini: prompt tokens of built-in tool results (search)
    usage: bool = True  # OpenAI shape: False sends no usage at all, even when include_usage asked
    # for it (Ollama's /v1 streams, recorded: no usage chunk before [DONE])
    refusal: bool = False  # the model declines: `text` is its refusal, in the API's refusal shape


def reply(text: str | None = None, **kw: Any) -> Behaviour:
    return Behaviour(text=text, **kw)


def refusal(text: str = "I'm sorry, I can't assist with that request.", **kw: Any) -> Behaviour:
    """The model declines. OpenAI: the text only in `message.refusal` / `delta.refusal`, content
    null (as recorded from gpt-4o); Anthropic: `stop_reason: "refusal"`."""
    return Behaviour(text=text, refusal=True, **kw)


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


def gemini_quota(per: str = "minute", retry_delay: str | None = "37s") -> Behaviour:
    """Gemini's 429 RESOURCE_EXHAUSTED as it comes: the sentence OpenAI uses for a billing stop
    (for any of Gemini's quotas), a QuotaFailure naming the quota (per minute or per day), a
    Help link and, when a wait helps, a RetryInfo `retryDelay` ("37s"). Headers say nothing."""
    scope = {"minute": "PerMinute", "day": "PerDay"}[per]
    details: list[dict] = [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            "quotaId": f"GenerateRequests{scope}PerProjectPerModel-FreeTier",
            "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"}, "quotaValue": "10"}]},
        {"@type": "type.googleapis.com/google.rpc.Help", "links": [
            {"description": "Learn more about Gemini API quotas",
             "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
    ]
    message = ("You exceeded your current quota, please check your plan and billing details. For more "
               "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.")
    if retry_delay is not None:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay})
        message += f" Please retry in {retry_delay}."
    return http_error(429, message=message, error_details=details)


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
