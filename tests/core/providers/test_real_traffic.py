"""Shapes real providers send that an early replay of recorded traffic got wrong (issue #16, "Real
traffic"), each sent by the fake server in the provider's own wire format."""

from __future__ import annotations

import asyncio

import pytest
from lab.core.model import Message
from lab.core.providers import ChatRequest, GenerationFailed

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


# ----- usage nobody reported -----------------------------------------------------------------

@STREAMS
@pytest.mark.parametrize("local", [False, True], ids=["hosted", "local"])
def test_usage_a_server_did_not_report_is_unknown_not_zero(fake_provider: FakeProviderServer, stream: bool,
                                                          local: bool) -> None:
    fake_provider.script(reply("Hello! How are you today?", usage=False))  # Ollama's /v1, as recorded
    result = _complete(fake_provider, "openai", stream, local=local)
    assert result.text == "Hello! How are you today?" and result.raw_usage == {}
    assert result.usage.input_tokens is None and result.usage.output_tokens is None
    assert not result.usage.known
    assert result.tokens_per_second is None
    # Unknown usage, unknown cost; a model on this machine is free whatever it used.
    assert result.cost_usd == (0.0 if local else None)


def test_unknown_usage_has_an_unknown_price(prices) -> None:
    from lab.core.model import Usage

    assert prices.cost("openai", "gpt-4o-mini", Usage.unknown()) is None
    assert prices.cost("openai", "gpt-4o-mini", Usage.unknown(), local=True) == 0.0
    assert prices.cost("openai", "gpt-4o-mini", Usage(input_tokens=100, output_tokens=None)) is None


# ----- Gemini finish reasons -------------------------------------------------------------------

@STREAMS
@pytest.mark.parametrize("reason", ["MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS"])
def test_a_botched_tool_call_is_a_failure_not_a_reply(fake_provider: FakeProviderServer, stream: bool,
                                                      reason: str) -> None:
    fake_provider.script(reply("", finish=reason))
    with pytest.raises(GenerationFailed) as caught:
        _complete(fake_provider, "gemini", stream)
    assert reason in str(caught.value) and "gemini" in str(caught.value)
    assert caught.value.partial_text == ""
    assert len(fake_provider.chat_requests("gemini")) == 1  # the model's outcome, not a fault to retry


@STREAMS
@pytest.mark.parametrize("reason", ["SAFETY", "RECITATION", "PROHIBITED_CONTENT"])
def test_a_filtered_gemini_reply_comes_back_marked_content_filter(fake_provider: FakeProviderServer,
                                                                  stream: bool, reason: str) -> None:
    # What the filter let through is the reply, as with OpenAI's content_filter: checks grade it.
    fake_provider.script(reply("The first line of the song", finish=reason))
    result = _complete(fake_provider, "gemini", stream)
    assert result.finish_reason == "content_filter" and result.text == "The first line of the song"
