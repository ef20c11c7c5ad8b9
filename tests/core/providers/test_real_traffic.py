"""Shapes real providers send that an early replay of recorded traffic got wrong (issue #16, "Real
traffic"), each sent by the fake server in the provider's own wire format."""

from __future__ import annotations

import asyncio

import pytest
from lab.core.model import Message
from lab.core.providers import ChatRequest

from tests.core.providers.conftest import make_client
from tests.helpers.fake_provider import FakeProviderServer, refusal, reply

MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash",
          "ollama": "llama3.2"}
STREAMS = pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])


def _request(kind: str, stream: bool = True) -> ChatRequest:
    return ChatRequest(MODELS[kind], [Message("user", "Name two pelicans.")], stream=stream)


def _complete(server: FakeProviderServer, kind: str, stream: bool = True, **cfg):
    async def go():
        async with make_client(server, kind, **cfg) as client:
            return await client.complete(_request(kind, stream))
    return asyncio.run(go())


# ----- usage the providers report in newer fields --------------------------------------------

@STREAMS
def test_anthropic_thinking_tokens_are_read_as_reasoning_tokens(fake_provider: FakeProviderServer,
                                                                stream: bool) -> None:
    fake_provider.script(reply("Percy and Scoop.", thinking_tokens=261))
    result = _complete(fake_provider, "anthropic", stream)
    assert result.usage.reasoning_tokens == 261
    assert result.usage.output_tokens == 3 + 261  # thinking is billed as output, and counted in it
    assert fake_provider.validation_failures == []


@STREAMS
def test_gemini_tool_use_prompt_tokens_count_as_input(fake_provider: FakeProviderServer, stream: bool) -> None:
    fake_provider.script(reply("Percy and Scoop.", tool_use_prompt_tokens=102, thinking_tokens=412))
    result = _complete(fake_provider, "gemini", stream)
    raw = result.raw_usage
    assert result.usage.input_tokens == raw["promptTokenCount"] + 102
    assert result.usage.input_tokens + result.usage.output_tokens == raw["totalTokenCount"]
    assert result.usage.reasoning_tokens == 412


# ----- refusals ----------------------------------------------------------------------------

@STREAMS
@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_a_refusal_is_the_reply_text_and_marked_refused(fake_provider: FakeProviderServer, kind: str,
                                                       stream: bool) -> None:
    said = "I'm sorry, I can't assist with that request."
    fake_provider.script(refusal(said))
    deltas: list[str] = []

    async def go():
        async with make_client(fake_provider, kind) as client:
            return await client.complete(_request(kind, stream), on_delta=deltas.append)

    result = asyncio.run(go())
    assert result.text == said and "".join(deltas) == said  # shown as it streams, kept as the output
    assert result.finish_reason == "refusal" and result.refused
    assert result.usage.output_tokens > 0 and result.cost_usd is not None  # a refusal is billed
