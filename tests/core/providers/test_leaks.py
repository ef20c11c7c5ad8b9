"""A key never leaves the client: not in errors, reprs, recorded request bodies or logs."""

from __future__ import annotations

import asyncio
import json
import logging
import socket

import pytest
from lab.core.model import Message
from lab.core.providers import (
    ChatRequest,
    ProviderClient,
    ProviderConfig,
    ProviderError,
)

from tests.core.providers.conftest import KINDS, make_client
from tests.helpers.fake_provider import (
    FakeProviderServer,
    cut_stream,
    error_after_200,
    http_error,
)

SECRET = "sk-LEAKCHECK-7f3a9c1e5b2d4680"
MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash",
          "ollama": "llama3.2"}


def test_distinctive_key_appears_nowhere(fake_provider: FakeProviderServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore included
    fake_provider.api_keys.add(SECRET)
    seen: list[str] = []

    def remember(thing: object) -> None:
        seen.extend([str(thing), repr(thing)])
        if isinstance(thing, ProviderError):
            seen.extend([json.dumps(thing.to_dict()), thing.raw_body, thing.partial_text])

    async def go() -> None:
        for kind in KINDS:
            async with make_client(fake_provider, kind, key=SECRET, max_retries=1) as client:
                remember(client)
                remember(client.config.to_dict())
                for stream in (False, True):
                    request = ChatRequest(MODELS[kind], [Message("user", "hello")], stream=stream)
                    result = await client.complete(request)
                    remember(result)
                    seen.append(json.dumps(result.request_body))
                fake_provider.script(http_error(500), http_error(500), cut_stream(1), error_after_200(1))
                for _ in range(2):
                    with pytest.raises(ProviderError) as caught:
                        await client.complete(ChatRequest(MODELS[kind], [Message("user", "hi")]))
                    remember(caught.value)
                remember(await client.list_models())
            # The same key, refused: the fake echoes it in its 401/400 body, as OpenAI does.
            fake_provider.api_keys.discard(SECRET)
            if kind != "ollama":
                async with make_client(fake_provider, kind, key=SECRET) as client:
                    with pytest.raises(ProviderError) as caught:
                        await client.complete(ChatRequest(MODELS[kind], [Message("user", "hi")]))
                    remember(caught.value)
                    assert "Incorrect API key provided" in caught.value.raw_body  # the body was kept...
            fake_provider.api_keys.add(SECRET)

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        config = ProviderConfig("down", "openai", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
        async with ProviderClient(config, key_lookup=lambda c: SECRET) as client:
            with pytest.raises(ProviderError) as caught:
                await client.complete(ChatRequest("m", [Message("user", "hi")]))
            remember(caught.value)

    asyncio.run(go())
    assert len(seen) > 60 and caplog.text  # we really looked at things
    leaks = [text for text in seen + [caplog.text] if SECRET in text]
    assert leaks == []  # ...but scrubbed
    # The key did reach the server, in the header and only there.
    assert all(r.key_present for r in fake_provider.requests if r.family != "ollama")
    assert all(SECRET not in json.dumps(r.body) for r in fake_provider.requests)
