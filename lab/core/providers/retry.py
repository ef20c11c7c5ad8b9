"""When to retry a failed call and how long to wait first: one policy for every provider.

It follows the official OpenAI/Anthropic SDKs (reference, section 0): an `x-should-retry`
header decides if present; otherwise 408, 409, 429 and 5xx (so 529) are retried, as are
connection errors and timeouts. The server's `retry-after-ms` / `retry-after` is honoured up to
a cap; a server asking for longer than the cap is not retried at all. A wait the server gives in
its error body instead (Gemini's `RetryInfo.retryDelay`, "37s") is the same request and goes
through the same cap: the error classifier puts it on the error as `retry_after`. Otherwise
exponential backoff with jitter. Billing stops (insufficient_quota, a used-up daily quota) are
never retried: the error classifier marks them non-retryable before this policy sees them.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from typing import Any, Mapping

RETRYABLE_STATUSES = {408, 409, 429}


@dataclass(frozen=True)
class RetryPolicy:
    initial_delay: float = 0.5
    max_delay: float = 8.0
    # Server-directed waits longer than this are not honoured; the error goes to the user.
    max_server_delay: float = 120.0


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # httpx.Headers is case-insensitive already; plain dicts (tests, fake) may not be.
    value = headers.get(name)
    if value is None:
        for key, val in headers.items():
            if key.lower() == name:
                return val
    return value


def status_is_retryable(status: int, headers: Mapping[str, str]) -> bool:
    verdict = (_header(headers, "x-should-retry") or "").strip().lower()
    if verdict == "true":
        return True
    if verdict == "false":
        return False
    return status in RETRYABLE_STATUSES or status >= 500


def server_delay(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, or None if it did not say (or said nonsense)."""
    raw_ms = _header(headers, "retry-after-ms")
    if raw_ms:
        try:
            return float(raw_ms) / 1000.0
        except ValueError:
            pass
    raw = _header(headers, "retry-after")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    import email.utils  # here: an HTTP date is rare, and the window's start-up skips the import

    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return when.timestamp() - (time.time() if now is None else now)


_DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?)\s*(ms|s)\s*", re.IGNORECASE)


def parse_duration(text: str) -> float | None:
    """Seconds in a protobuf Duration as JSON spells it ("37s", "1.5s") or in milliseconds
    ("900ms"); None for anything else."""
    match = _DURATION.fullmatch(str(text))
    if not match:
        return None
    value = float(match.group(1))
    return value / 1000.0 if match.group(2).lower() == "ms" else value


def backoff(attempt: int, policy: RetryPolicy, rand: float | None = None) -> float:
    """Delay before retry number `attempt + 1` (attempt counts from 0)."""
    base = min(policy.initial_delay * (2**attempt), policy.max_delay)
    jitter = 1 - 0.25 * (random.random() if rand is None else rand)
    return base * jitter


def delay_before_retry(error: Any, attempt: int, max_retries: int, policy: RetryPolicy) -> float | None:
    """Seconds to wait before trying again, or None to give up and raise `error`.

    `error` is a ProviderError (duck-typed to keep this module free of imports).
    """
    if not getattr(error, "retryable", False) or attempt >= max_retries:
        return None
    asked = getattr(error, "retry_after", None)
    if asked is not None and asked > 0:
        if asked > policy.max_server_delay:
            return None
        return asked
    return backoff(attempt, policy)
