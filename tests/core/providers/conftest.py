"""Fixtures for the provider tests: the fake provider server and clients pointed at it."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from lab.core.providers import ProviderClient, RetryPolicy
from lab.core.providers.pricing import PriceTable

from tests.helpers.fake_provider import API_KEY, FakeProviderServer

KINDS = ["openai", "anthropic", "gemini", "ollama"]
# Short backoff so retry paths take milliseconds; server-directed waits are still honoured.
FAST_RETRIES = RetryPolicy(initial_delay=0.01, max_delay=0.05, max_server_delay=5.0)


@pytest.fixture
def fake_provider() -> Iterator[FakeProviderServer]:
    """The fake server. Tests here send bad requests on purpose, so they assert on
    `validation_failures` themselves; what the fake sends must always be readable."""
    server = FakeProviderServer().start()
    try:
        yield server
    finally:
        server.stop()
    assert server.wire_errors == [], server.wire_errors


@pytest.fixture(scope="session")
def prices() -> PriceTable:
    return PriceTable.load()


def make_client(server: FakeProviderServer, kind: str, *, key: str | None = API_KEY,
                prices: PriceTable | None = None, retry_policy: RetryPolicy = FAST_RETRIES,
                **config: Any) -> ProviderClient:
    """A client for `kind` talking to the fake. Call it inside the test's event loop."""
    return ProviderClient(server.provider_config(kind, **config), key_lookup=lambda _c: key,
                          prices=prices, retry_policy=retry_policy)
