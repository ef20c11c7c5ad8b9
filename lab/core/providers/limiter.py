"""Per-provider concurrency that adapts to rate limits (additive increase, multiplicative decrease).

A provider starts at the concurrency the user configured. A 429 halves the number of calls
allowed in flight (never below 1); a run of successes adds one back, never above the configured
limit. A burst of 429s from calls that all started before the last cut counts once, otherwise one
burst would drive the limit to 1.

Limiters compose: the runner can hold a global limiter's slot and then a provider's slot
(`async with global_limiter.slot(), provider_limiter.slot() as slot:`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Callable


class Slot:
    """One call's permission to run; tell it how the call went."""

    def __init__(self, limiter: AdaptiveLimiter) -> None:
        self._limiter = limiter
        self._epoch = -1
        self._outcome: str | None = None

    async def __aenter__(self) -> Slot:
        self._epoch = await self._limiter._acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._limiter._release(self._epoch, self._outcome)

    def succeeded(self) -> None:
        self._outcome = "ok"

    def rate_limited(self) -> None:
        self._outcome = "429"


class AdaptiveLimiter:
    def __init__(
        self,
        max_limit: int,
        *,
        recover_after: int = 5,
        on_change: Callable[[int], None] | None = None,
    ) -> None:
        if max_limit < 1:
            raise ValueError("concurrency must be at least 1")
        self.max_limit = max_limit
        self.recover_after = recover_after
        self.on_change = on_change
        self._limit = max_limit
        self._in_flight = 0
        self._successes = 0
        self._epoch = 0  # bumped at every cut
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def limit(self) -> int:
        """Calls currently allowed in flight (for the UI)."""
        return self._limit

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def slot(self) -> Slot:
        return Slot(self)

    async def __aenter__(self) -> None:
        # `async with limiter:` when the caller has no outcome to report.
        await self._acquire()

    async def __aexit__(self, *exc: object) -> None:
        self._release(-1, None)

    async def _acquire(self) -> int:
        loop = asyncio.get_running_loop()
        while self._in_flight >= self._limit:
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # we were woken but will not run: pass the turn on
                raise
        self._in_flight += 1
        return self._epoch

    def _release(self, epoch: int, outcome: str | None) -> None:
        # Synchronous on purpose: it also runs on cancellation paths, where awaiting is unsafe.
        self._in_flight -= 1
        if outcome == "429":
            self._on_rate_limited(epoch)
        elif outcome == "ok":
            self._on_success()
        self._wake()

    def _wake(self) -> None:
        free = self._limit - self._in_flight
        while free > 0 and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                free -= 1

    def _on_rate_limited(self, epoch: int) -> None:
        self._successes = 0
        if epoch != self._epoch:
            return  # started before the last cut: same burst, already accounted for
        self._epoch += 1
        self._set_limit(max(1, self._limit // 2))

    def _on_success(self) -> None:
        if self._limit >= self.max_limit:
            return
        self._successes += 1
        if self._successes >= self.recover_after:
            self._successes = 0
            self._set_limit(self._limit + 1)

    def _set_limit(self, value: int) -> None:
        if value != self._limit:
            self._limit = value
            if self.on_change is not None:
                self.on_change(value)

    def __repr__(self) -> str:
        return f"AdaptiveLimiter(limit={self._limit}/{self.max_limit}, in_flight={self._in_flight})"
