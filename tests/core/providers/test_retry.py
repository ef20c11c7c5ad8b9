"""The retry policy's decisions: which answers are retried, and how long to wait first."""

from __future__ import annotations

import email.utils
import time
from types import SimpleNamespace

from lab.core.providers.retry import (
    RetryPolicy,
    backoff,
    delay_before_retry,
    server_delay,
    status_is_retryable,
)

POLICY = RetryPolicy(initial_delay=0.5, max_delay=8.0, max_server_delay=120.0)


def test_retryable_statuses_and_the_x_should_retry_header() -> None:
    assert all(status_is_retryable(s, {}) for s in (408, 409, 429, 500, 502, 503, 529))
    assert not any(status_is_retryable(s, {}) for s in (400, 401, 403, 404, 422))
    assert status_is_retryable(400, {"x-should-retry": "true"})
    assert not status_is_retryable(503, {"X-Should-Retry": "false"})


def test_server_delay_prefers_milliseconds_then_seconds_then_a_date() -> None:
    assert server_delay({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert server_delay({"retry-after": "1.5"}) == 1.5
    now = time.time()
    http_date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= server_delay({"retry-after": http_date}, now=now) <= 31
    assert server_delay({"retry-after": "soon"}) is None
    assert server_delay({}) is None


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    assert backoff(0, POLICY, rand=0.0) == 0.5
    assert backoff(2, POLICY, rand=0.0) == 2.0
    assert backoff(10, POLICY, rand=0.0) == 8.0
    assert backoff(1, POLICY, rand=1.0) == 0.75  # up to a quarter shorter


def test_delay_before_retry() -> None:
    error = SimpleNamespace(retryable=True, retry_after=None)
    assert delay_before_retry(error, 0, 4, POLICY) is not None
    assert delay_before_retry(error, 4, 4, POLICY) is None  # out of retries
    assert delay_before_retry(SimpleNamespace(retryable=False, retry_after=1), 0, 4, POLICY) is None
    assert delay_before_retry(SimpleNamespace(retryable=True, retry_after=2.0), 0, 4, POLICY) == 2.0
    assert delay_before_retry(SimpleNamespace(retryable=True, retry_after=600), 0, 4, POLICY) is None
