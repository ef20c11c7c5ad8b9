"""Adaptive per-provider concurrency: fewer calls in flight after a 429, more after successes."""

from __future__ import annotations

import asyncio

from lab.core.model import Message
from lab.core.providers import AdaptiveLimiter, ChatRequest
from lab.core.providers.limiter import CAUTION

from tests.core.providers.conftest import make_client
from tests.helpers.fake_provider import FakeProviderServer, rate_limited


def test_halves_on_429_once_per_burst_and_recovers_after_successes() -> None:
    async def go() -> list[int]:
        changes: list[int] = []
        limiter = AdaptiveLimiter(8, recover_after=3, on_change=changes.append)
        # Four calls in flight all hit a 429: one burst, one cut (8 -> 4), not four (8 -> 1).
        slots = [limiter.slot() for _ in range(4)]
        for s in slots:
            await s.__aenter__()
        for s in slots:
            s.rate_limited()
            await s.__aexit__(None, None, None)
        assert limiter.limit == 4
        async with limiter.slot() as s:  # a new call that is limited again: 4 -> 2
            s.rate_limited()
        for _ in range(3):  # three successes: 2 -> 3
            async with limiter.slot() as s:
                s.succeeded()
        assert limiter.limit == 3
        # 4 is where the last rate limit struck: stepping back onto it takes 8 times as long
        for _ in range(3 * CAUTION - 1):
            async with limiter.slot() as s:
                s.succeeded()
        assert limiter.limit == 3
        async with limiter.slot() as s:
            s.succeeded()
        return changes

    assert asyncio.run(go()) == [4, 2, 3, 4]


def test_grows_from_where_it_starts_up_to_the_ceiling_the_user_sets() -> None:
    async def go() -> list[int]:
        changes: list[int] = []
        limiter = AdaptiveLimiter(2, ceiling=4, recover_after=2, on_change=changes.append)
        for _ in range(20):
            async with limiter.slot() as s:
                s.succeeded(0.1)
        return changes

    assert asyncio.run(go()) == [3, 4]


def test_growth_pauses_while_calls_get_slower() -> None:
    async def go() -> int:
        limiter = AdaptiveLimiter(2, ceiling=10, recover_after=1)
        for _ in range(3):
            async with limiter.slot() as s:
                s.succeeded(0.1)  # 2 -> 5 at the best latency seen
        grown = limiter.limit
        for _ in range(20):
            async with limiter.slot() as s:
                s.succeeded(1.0)  # ten times slower: the server is saturating
        assert limiter.limit <= grown + 2  # a step or two while the average catches up, no more
        return limiter.limit

    assert asyncio.run(go()) < 10


def test_never_below_one_nor_above_the_configured_limit() -> None:
    async def go() -> tuple[int, int]:
        limiter = AdaptiveLimiter(2, recover_after=1)
        for _ in range(5):
            async with limiter.slot() as s:
                s.rate_limited()
        lowest = limiter.limit
        for _ in range(200):  # refused again and again at the floor: it climbs back carefully
            async with limiter.slot() as s:
                s.succeeded()
        return lowest, limiter.limit

    assert asyncio.run(go()) == (1, 2)


def test_waiting_calls_run_as_slots_free_and_limiters_compose() -> None:
    async def go() -> int:
        global_limit = AdaptiveLimiter(3)
        per_provider = AdaptiveLimiter(2)
        running = peak = 0

        async def call() -> None:
            nonlocal running, peak
            async with global_limit, per_provider.slot():
                running += 1
                peak = max(peak, running)
                await asyncio.sleep(0.01)
                running -= 1

        await asyncio.gather(*(call() for _ in range(10)))
        assert per_provider.in_flight == 0 and global_limit.in_flight == 0
        return peak

    assert asyncio.run(go()) == 2


def test_client_slows_down_after_a_429_and_never_exceeds_its_concurrency(fake_provider: FakeProviderServer) -> None:
    fake_provider.latency = 0.05
    fake_provider.script(rate_limited(retry_after=0.05))

    changes: list[int] = []

    async def go() -> None:
        async with make_client(fake_provider, "openai", concurrency=4) as client:
            client.limiter.on_change = changes.append
            request = ChatRequest("gpt-4o-mini", [Message("user", "hi")])
            results = await asyncio.gather(*(client.complete(request) for _ in range(12)))
            assert all(r.text == "You said: hi" for r in results)

    asyncio.run(go())
    # Halved by the 429 (the UI shows the provider running slower), then climbed back by successes.
    assert changes[0] == 2 and max(changes) <= 4
    assert fake_provider.max_concurrent <= 4
    assert len(fake_provider.chat_requests()) == 13  # 12 calls + the one retried


def test_a_level_refused_again_is_probed_ever_more_rarely() -> None:
    async def go() -> list[int]:
        limiter = AdaptiveLimiter(8, recover_after=1)
        needed = []
        for _ in range(3):
            async with limiter.slot() as s:  # refused at 8 (then at 8 again): back to 4
                s.rate_limited()
            climbs = 0
            while limiter.limit < 8:
                async with limiter.slot() as s:
                    s.succeeded()
                climbs += 1
            needed.append(climbs)
        return needed

    # 4 -> 7 takes one success a step; the step onto 8, where it was refused, CAUTION times
    # that, then twice as many after each further refusal there
    assert asyncio.run(go()) == [3 + CAUTION, 3 + 2 * CAUTION, 3 + 4 * CAUTION]
