"""Per-provider concurrency that adapts to rate limits, in both directions.

A provider starts at the concurrency the run asked for. A 429 (or 529, overloaded) halves the
calls allowed in flight (never below 1); a run of successes adds one (additive increase), up to a
ceiling the user sets (`max_concurrency`; without one, the starting value). A burst of 429s from
calls that all started before the last cut counts once, otherwise one burst would drive the limit
to 1.

Growth is careful near trouble: the level where the last rate limit struck is remembered, and
the step that would reach it again needs eight times the successes (twice that again each time
that same level is refused anew), so the limit settles just below what the provider tolerates
instead of swinging between it and half of it. Growth also
pauses while calls are getting slower (the smoothed latency is over twice the best seen), the
other sign that a server is saturated before it says so.

Limiters compose: the runner can hold a global limiter's slot and then a provider's slot
(`async with global_limiter.slot(), provider_limiter.slot() as slot:`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Callable

CAUTION = 8  # how many times the successes the step onto the last rate-limited level needs
SLOWDOWN = 2.0  # smoothed latency over this many times the best seen pauses growth
_SMOOTHING = 0.2  # weight of the newest call in the smoothed latency


class Slot:
    """One call's permission to run; tell it how the call went."""

    def __init__(self, limiter: AdaptiveLimiter) -> None:
        self._limiter = limiter
        self._epoch = -1
        self._outcome: str | None = None
        self._seconds: float | None = None

    async def __aenter__(self) -> Slot:
        self._epoch = await self._limiter._acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._limiter._release(self._epoch, self._outcome, self._seconds)

    def succeeded(self, seconds: float | None = None) -> None:
        """The call worked; `seconds` (how long it took) lets the limiter see a server slow down."""
        self._outcome = "ok"
        self._seconds = seconds

    def rate_limited(self) -> None:
        self._outcome = "429"


class AdaptiveLimiter:
    def __init__(
        self,
        start: int,
        *,
        ceiling: int | None = None,
        recover_after: int = 5,
        on_change: Callable[[int], None] | None = None,
    ) -> None:
        if start < 1:
            raise ValueError("concurrency must be at least 1")
        self.max_limit = max(start, ceiling or start)
        self.recover_after = recover_after
        self.on_change = on_change
        self._limit = start
        self._in_flight = 0
        self._successes = 0
        self._epoch = 0  # bumped at every cut
        self._limited_at: int | None = None  # the limit when the last rate limit struck
        self._refusals_there = 0  # how often in a row that same level was refused
        self._latency: float | None = None  # smoothed seconds per successful call
        self._best_latency: float | None = None
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
        self._release(-1, None, None)

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

    def _release(self, epoch: int, outcome: str | None, seconds: float | None) -> None:
        # Synchronous on purpose: it also runs on cancellation paths, where awaiting is unsafe.
        self._in_flight -= 1
        if outcome == "429":
            self._on_rate_limited(epoch)
        elif outcome == "ok":
            self._on_success(seconds)
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
        self._refusals_there = self._refusals_there + 1 if self._limited_at == self._limit else 0
        self._limited_at = self._limit
        self._set_limit(max(1, self._limit // 2))

    def _on_success(self, seconds: float | None) -> None:
        if seconds is not None:
            self._latency = seconds if self._latency is None else (
                _SMOOTHING * seconds + (1 - _SMOOTHING) * self._latency)
            if self._best_latency is None or self._latency < self._best_latency:
                self._best_latency = self._latency
        if self._limit >= self.max_limit or self._slowing_down():
            return
        self._successes += 1
        needed = self.recover_after
        if self._limited_at is not None and self._limit + 1 >= self._limited_at:
            needed *= CAUTION * 2 ** min(self._refusals_there, 6)
        if self._successes >= needed:
            self._successes = 0
            self._set_limit(self._limit + 1)

    def _slowing_down(self) -> bool:
        if self._latency is None or not self._best_latency:
            return False
        return self._latency > SLOWDOWN * self._best_latency

    def _set_limit(self, value: int) -> None:
        if value != self._limit:
            self._limit = value
            if self.on_change is not None:
                self.on_change(value)

    def __repr__(self) -> str:
        return f"AdaptiveLimiter(limit={self._limit}/{self.max_limit}, in_flight={self._in_flight})"
