"""Typed errors a user can act on, and the one place that maps a provider's answer onto them.

Every error carries a single line saying which provider, what happened and what to do. Nothing
here may ever contain a key: bodies are scrubbed with `keys.redact` before they are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from lab.core.providers import retry

# Codes that mean "billing stopped": retrying only burns time (reference, section 0).
QUOTA_CODES = {"insufficient_quota", "credit_balance_exhausted", "billing_error", "billing_hard_limit_reached"}
AUTH_CODES = {"invalid_api_key", "authentication_error", "permission_error", "API_KEY_INVALID"}
OVERLOAD_CODES = {"overloaded_error", "server_is_overloaded", "UNAVAILABLE"}


@dataclass
class ErrorDetails:
    """The useful part of a provider's error body, whatever its shape."""

    message: str = ""
    type: str | None = None
    code: str | None = None
    param: str | None = None


class StreamErrorEvent(Exception):
    """Raised by a family's stream parser when the stream reports an error after the 200.
    The client turns it into a typed ProviderError, so the mapping below stays the only one."""

    def __init__(self, status: int, details: ErrorDetails, raw: str = "") -> None:
        super().__init__(details.message)
        self.status = status
        self.details = details
        self.raw = raw


class ProviderError(Exception):
    """Base of every provider failure. `str(error)` is the line to show the user."""

    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        retryable: bool | None = None,
        partial_text: str = "",
        raw_body: str = "",
        retry_after: float | None = None,
        request_id: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.retryable = self.default_retryable if retryable is None else retryable
        self.partial_text = partial_text
        self.raw_body = raw_body
        self.retry_after = retry_after
        self.request_id = request_id
        self.code = code

    @property
    def error_type(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"{self.error_type}({self.message!r}, provider={self.provider!r}, status={self.status!r})"

    def to_dict(self) -> dict[str, Any]:
        """What the log keeps about a failed call (already free of secrets)."""
        return {
            "error_type": self.error_type,
            "message": self.message,
            "provider": self.provider,
            "status": self.status,
            "retryable": self.retryable,
            "code": self.code,
            "request_id": self.request_id,
            "raw_body": self.raw_body,
            "partial_text": self.partial_text,
        }


class AuthError(ProviderError):
    """401/403 or no key at all."""


class ModelNotFound(ProviderError):
    """404: the model name is unknown to this provider (or not pulled, for Ollama)."""


class BadRequest(ProviderError):
    """400/413/422: the provider refused a parameter or the request shape."""

    def __init__(self, message: str, *, param: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.param = param


class RateLimited(ProviderError):
    default_retryable = True


class QuotaExceeded(ProviderError):
    """Out of credit or quota: a billing stop, never retried."""


class ProviderDown(ProviderError):
    """5xx: the provider failed on its side."""

    default_retryable = True


class ProviderOverloaded(ProviderDown):
    """503/529: the provider is shedding load."""


class NetworkError(ProviderError):
    default_retryable = True


class ProviderTimeout(ProviderError):
    default_retryable = True

    def __init__(self, message: str, *, which: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.which = which  # "connect" | "first_token" | "total" | "server"


class StreamCut(ProviderError):
    """The stream ended before the provider said it was done; partial_text holds what came."""


class BadResponse(ProviderError):
    """A 200 whose body could not be understood."""


class GenerationFailed(ProviderError):
    """A 200 whose reply the model itself botched, with no usable output (Gemini's
    MALFORMED_FUNCTION_CALL). Not retried: it is the model's answer to this request, which the
    lab reports rather than hides; partial_text holds any text that came before."""


class Cancelled(ProviderError):
    """The user cancelled. The client lets asyncio.CancelledError propagate; the runner uses this
    type to record a cancelled call with the text that had streamed so far."""


def one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def error_from_status(
    provider: str,
    status: int,
    details: ErrorDetails,
    *,
    headers: Mapping[str, str] | None = None,
    raw_body: str = "",
    model: str = "",
    key_hint: str = "",
    request_id: str | None = None,
) -> ProviderError:
    """Classify an HTTP error status (or an in-stream error mapped to one) into a typed error.

    `key_hint` names where the key comes from ("`lab keys set x` or env var X"); `raw_body`
    must already be redacted.
    """
    headers = headers or {}
    code = details.code or details.type
    # The provider's own sentence is quoted before ours; drop its final stop so we never print "..".
    said = f": {one_line(details.message).rstrip('. ')}" if details.message else ""
    common: dict[str, Any] = {
        "provider": provider,
        "status": status,
        "raw_body": raw_body[:2000],
        "request_id": request_id,
        "code": code,
    }
    markers = {details.code, details.type}
    if markers & QUOTA_CODES or status == 402:
        return QuotaExceeded(
            f"{provider}: quota or credit exhausted (HTTP {status}, {code}){said}. Add credit or raise "
            "the limit in the provider's billing settings; the lab does not retry this.",
            retryable=False,
            **common,
        )
    retryable = retry.status_is_retryable(status, headers)
    common["retryable"] = retryable
    if status in (401, 403) or markers & AUTH_CODES:
        return AuthError(
            f"{provider}: the API key was refused (HTTP {status}){said}. Check the key for provider "
            f"{provider}: {key_hint}.",
            **common,
        )
    if status == 404:
        what = f"model {model!r}" if model else "the requested resource"
        return ModelNotFound(
            f"{provider}: {what} was not found (HTTP 404){said}. Check the model name against the "
            "provider's model list (for Ollama: pull it first).",
            **common,
        )
    if status == 429:
        after = retry.server_delay(headers)
        wait = f", asked to wait {after:g} s" if after else ""
        return RateLimited(
            f"{provider}: rate limited (HTTP 429{wait}){said}. The lab slows down and retries; "
            "lower the provider's concurrency if this keeps happening.",
            retry_after=after,
            **common,
        )
    if status == 408:
        return ProviderTimeout(
            f"{provider}: the server timed out the request (HTTP 408). Try again.",
            which="server",
            **common,
        )
    if status in (503, 529) or markers & OVERLOAD_CODES:
        return ProviderOverloaded(
            f"{provider} is overloaded (HTTP {status}){said}. Try again in a few minutes.",
            retry_after=retry.server_delay(headers),
            **common,
        )
    if status >= 500:
        return ProviderDown(
            f"{provider}: server error (HTTP {status}){said}. Try again later.",
            retry_after=retry.server_delay(headers),
            **common,
        )
    if status == 409:
        return ProviderError(f"{provider}: conflict (HTTP 409){said}. Try again.", **common)
    if 400 <= status < 500:
        where = f", parameter {details.param!r}" if details.param else ""
        return BadRequest(
            f"{provider} rejected the request (HTTP {status}{where}){said}. Fix the variant's "
            "parameters or prompt and run again.",
            param=details.param,
            **common,
        )
    return ProviderError(f"{provider}: unexpected HTTP {status}{said}.", **common)


def missing_key(provider: str, key_hint: str) -> AuthError:
    return AuthError(f"{provider}: no API key found. Add one with {key_hint}.", provider=provider)


def cancelled(provider: str, partial_text: str = "") -> Cancelled:
    """The error the runner records when the user stops a call (the task itself was cancelled)."""
    return Cancelled(f"{provider}: cancelled by the user.", provider=provider, partial_text=partial_text)
