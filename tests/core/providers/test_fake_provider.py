"""The fake server itself: its request checks must bite, or every "no validation failures"
assertion elsewhere would prove nothing. It must also carry a benchmark's load."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from lab.core.model import Message
from lab.core.providers import BadRequest, ChatRequest

from tests.core.providers.conftest import make_client
from tests.helpers.fake_provider import API_KEY, FakeProviderServer, openai_spec_path

BAD_REQUESTS = {
    "openai": ("/v1/chat/completions", {"Authorization": f"Bearer {API_KEY}"},
               {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "temperature": 5},
               lambda e: e["error"]["type"] == "invalid_request_error" and "temperature" in e["error"]["message"]),
    "anthropic": ("/v1/messages", {"x-api-key": API_KEY, "anthropic-version": "2023-06-01"},
                  {"model": "claude-haiku-4-5", "messages": [{"role": "system", "content": "x"},
                                                              {"role": "user", "content": "hi"}]},
                  lambda e: e["type"] == "error" and "max_tokens" in e["error"]["message"]),
    "gemini": ("/v1beta/models/gemini-2.5-flash:generateContent", {"x-goog-api-key": API_KEY},
               {"contents": [{"role": "assistant", "parts": [{"text": "hi"}]}],
                "generationConfig": {"max_tokens": 5}},
               lambda e: e["error"]["status"] == "INVALID_ARGUMENT" and "max_tokens" in e["error"]["message"]),
    "ollama": ("/api/chat", {}, {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}],
                                 "options": {"max_tokens": 5}},
               lambda e: "max_tokens" in e["error"]),
}


@pytest.mark.parametrize("kind", list(BAD_REQUESTS))
def test_invalid_requests_get_a_400_in_the_api_s_own_format(fake_provider: FakeProviderServer, kind: str) -> None:
    path, headers, body, looks_right = BAD_REQUESTS[kind]
    response = httpx.post(fake_provider.root_url + path, json=body, headers=headers)
    assert response.status_code == 400 and looks_right(response.json())
    assert [r.family for r in fake_provider.validation_failures] == [kind]
    if kind == "openai":
        assert openai_spec_path().is_file()  # checked against the official schema, not by hand


def test_a_client_bug_would_surface_as_a_bad_request(fake_provider: FakeProviderServer) -> None:
    async def go() -> None:
        async with make_client(fake_provider, "anthropic") as client:
            # Temperature 1.5 is valid for OpenAI but not for Anthropic: the fake says so, like the API.
            await client.complete(ChatRequest("claude-haiku-4-5", [Message("user", "hi")],
                                              params={"temperature": 1.5}))
    with pytest.raises(BadRequest, match="temperature"):
        asyncio.run(go())
    assert len(fake_provider.validation_failures) == 1


def test_keys_are_checked_but_never_recorded(fake_provider: FakeProviderServer) -> None:
    httpx.post(fake_provider.base_url("openai") + "/chat/completions",
               json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
               headers={"Authorization": f"Bearer {API_KEY}"})
    recorded = fake_provider.requests[-1]
    assert recorded.key_present and recorded.headers["authorization"] == "<redacted>"


def test_serves_sixteen_calls_at_once_with_fixed_latency(fake_provider: FakeProviderServer) -> None:
    fake_provider.latency = 0.3

    async def go() -> list[str]:
        async with make_client(fake_provider, "openai", concurrency=16) as client:
            request = ChatRequest("gpt-4o-mini", [Message("user", "load")])
            return [r.text for r in await asyncio.gather(*(client.complete(request) for _ in range(16)))]

    assert asyncio.run(go()) == ["You said: load"] * 16
    assert fake_provider.max_concurrent == 16
