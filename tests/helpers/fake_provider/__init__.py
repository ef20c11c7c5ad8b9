"""A fake LLM provider for tests and benchmarks: a real HTTP/1.1 server on 127.0.0.1 speaking
the wire formats of OpenAI Chat Completions, Anthropic Messages, Gemini generateContent and
Ollama /api/chat, streamed and not, with scripted faults. Also a pytest plugin
(`pytest_plugins = ["tests.helpers.fake_provider"]`) providing `fake_server_checked`.

Layout: `server` (routing, keys, recording, faults; `handler` under it), `behaviours` (what the
next call gets), `recording` (what was asked), `wire` (what the families share) and one module
per family (`openai`, `anthropic`, `gemini`, `ollama`) holding its request checks, reply
encoding (whole and streamed) and error bodies. OpenAI and Anthropic traffic is checked against
the official SDKs of the test extra (`sdk`); without them the tests fail and say how to install them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.fake_provider.behaviours import (
    Behaviour,
    bad_json,
    cut_stream,
    error_after_200,
    gemini_quota,
    http_error,
    insufficient_quota,
    overloaded,
    rate_limited,
    refusal,
    reply,
    slow_first_token,
)
from tests.helpers.fake_provider.recording import KEY_HEADERS, Recorded
from tests.helpers.fake_provider.sdk import MissingSDK
from tests.helpers.fake_provider.server import (
    API_KEY,
    DEFAULT_MODELS,
    FAMILIES,
    FakeProviderServer,
    error_body,
    make_call,
)
from tests.helpers.fake_provider.wire import Call, Family

__all__ = [
    "API_KEY", "DEFAULT_MODELS", "FAMILIES", "KEY_HEADERS", "Behaviour", "Call", "FakeProviderServer", "Family",
    "MissingSDK", "Recorded", "assert_clean", "bad_json", "cut_stream", "error_after_200", "error_body", "fake_server_checked", "gemini_quota",
    "http_error", "insufficient_quota", "make_call", "overloaded", "rate_limited", "refusal", "reply", "slow_first_token",
]


def assert_clean(fake: FakeProviderServer) -> None:
    """No request broke its API's rules, and the fake sent nothing an official client could not read."""
    assert not fake.validation_failures, fake.validation_failures[0].validation_errors
    assert not fake.wire_errors, fake.wire_errors


@pytest.fixture
def fake_server_checked() -> Iterator[FakeProviderServer]:
    """A fake provider server that fails the test if any request broke its API's rules."""
    fake = FakeProviderServer().start()
    try:
        yield fake
    finally:
        fake.stop()
        assert_clean(fake)
