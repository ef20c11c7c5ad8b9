"""Typed errors a user can act on, and the one place that maps a provider's answer onto them.

Every error carries a single line saying which provider, what happened and what to do. Nothing
here may ever contain a key: bodies are scrubbed with `keys.redact` before they are kept.

A billing stop is recognised by code or by the provider's words, whatever the status (Anthropic's
credit stop is a 400), and so is a 429 for a used-up daily quota: both are QuotaExceeded, never
retried. A wait the server asks for comes from its headers, else its body (Gemini's RetryInfo),
else its sentence ("Please retry in 53s"); the retry policy caps it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from lab.core.providers import retry

# Codes that mean "billing stopped": retrying only burns time (reference, section 0). Gemini's
# BILLING_DISABLED is an ErrorInfo reason (on a 403).
QUOTA_CODES = {"insufficient_quota", "credit_balance_exhausted", "billing_error", "billing_hard_limit_reached",
               "billing_not_active", "BILLING_DISABLED"}
# What providers say when billing stopped, whatever status and code they send it with: Anthropic
# sends its credit stop as a 400 invalid_request_error, Gemini its depleted prepayment as a 429
# and "enable billing" as a 400 FAILED_PRECONDITION. Lower case; matched inside the message.
# (Not "exceeded your current quota": Gemini says that of its per-minute limits too.)
BILLING_PHRASES = (
    "credit balance is too low",
    "credits are depleted",
    "insufficient credit",
    "insufficient balance",
    "out of credits",
    "requires billing to be enabled",
    "enable billing",
    "billing is not enabled",
    "billing has not been enabled",
    "billing account is disabled",
)
# A quota (Gemini's QuotaFailure quotaId or quotaMetric) or message that counts per day.
_DAILY = re.compile(r"per[\s_-]?day|daily", re.IGNORECASE)
# "Please retry in 53.01s." (Gemini), "Please try again in 1.5s." (OpenAI's rate limits).
_SAID_DELAY = re.compile(r"(?:retry|try again) in ([0-9]+(?:\.[0-9]+)?\s*(?:ms|s))\b", re.IGNORECASE)
AUTH_CODES = {"invalid_api_key", "authentication_error", "permission_error", "API_KEY_INVALID"}
OVERLOAD_CODES = {"overloaded_error", "server_is_overloaded", "UNAVAILABLE"}


@dataclass
class ErrorDetails:
    """The useful part of a provider's error body, whatever its shape."""

    message: str = ""
    type: str | None = None
    code: str | None = None
    param: str | None = None
    # How long the body asks us to wait (Gemini's RetryInfo.retryDelay), in seconds.
    retry_after: float | None = None
    # The quotas the body says were exceeded (Gemini's QuotaFailure quotaId / quotaMetric).
    quotas: tuple[str, ...] = ()


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
        sent: bool = True,
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
        # False when the call never reached the provider (no key; a provider already stopped).
        self.sent = sent

    @property
    def error_type(self) -> str:
        return type(self).__name__

    @property
    def stops_provider(self) -> bool:
        """Every later call to this provider would fail the same way (a refused key, no credit,
        a used-up daily quota): send it nothing more (the client stops; see client)."""
        return isinstance(self, (AuthError, QuotaExceeded))

    def not_sent(self) -> ProviderError:
        """This error for a later call that was not sent because of it."""
        copied = type(self).__new__(type(self))
        Exception.__init__(copied, self.message)
        copied.__dict__.update(self.__dict__, sent=False, partial_text="")
        return copied

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


def is_billing_stop(status: int, details: ErrorDetails) -> bool:
    """Out of credit or billing not set up, in any family's words: no retry will help."""
    if {details.code, details.type} & QUOTA_CODES or status == 402:
        return True
    said = details.message.lower()
    return any(phrase in said for phrase in BILLING_PHRASES)


def daily_quota(status: int, details: ErrorDetails) -> str | None:
    """The daily quota a 429 says is used up (its name, or "daily"), or None. Such a quota
    resets within a day, not in seconds: retrying in the meantime is pointless."""
    if status != 429:
        return None
    for quota in details.quotas:
        if _DAILY.search(quota):
            return quota
    said = details.message.lower()
    if "exceeded your current quota" in said and _DAILY.search(said):
        return "daily"
    return None


def server_delay(headers: Mapping[str, str], details: ErrorDetails) -> float | None:
    """How long the server asked us to wait: its headers (retry-after-ms, retry-after), else
    its error body (Gemini's RetryInfo), else its message ("Please retry in 53s")."""
    after = retry.server_delay(headers)
    if after is None:
        after = details.retry_after
    if after is None and (said := _SAID_DELAY.search(details.message)):
        after = retry.parse_duration(said.group(1))
    return after


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
    stop = f"the lab does not retry this and sends nothing more to {provider} in this run"
    if is_billing_stop(status, details):
        what = f"HTTP {status}, {code}" if code else f"HTTP {status}"
        return QuotaExceeded(
            f"{provider}: out of credit or quota ({what}){said}. Add credit or raise the limit in "
            f"the provider's billing settings; {stop}.",
            retryable=False,
            **common,
        )
    if quota := daily_quota(status, details):
        which = "" if quota == "daily" else f", {quota}"
        return QuotaExceeded(
            f"{provider}: the daily quota is used up (HTTP 429{which}){said}. It resets within a "
            f"day: wait, or raise the quota tier in the provider's billing settings; {stop}.",
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
    after = server_delay(headers, details)
    if status == 429:
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
            retry_after=after,
            **common,
        )
    if status >= 500:
        return ProviderDown(
            f"{provider}: server error (HTTP {status}){said}. Try again later.",
            retry_after=after,
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
    return AuthError(f"{provider}: no API key found. Add one with {key_hint}.", provider=provider,
                     sent=False)


def cancelled(provider: str, partial_text: str = "") -> Cancelled:
    """The error the runner records when the user stops a call (the task itself was cancelled)."""
    return Cancelled(f"{provider}: cancelled by the user.", provider=provider, partial_text=partial_text)
