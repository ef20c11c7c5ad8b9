"""Each API family, streamed and not, against the fake server speaking its real wire format."""

from __future__ import annotations

import asyncio
import json

import pytest
from lab.core.model import Message
from lab.core.providers import (
    ChatRequest,
    ProviderConfig,
    anthropic,
    gemini,
    openai_chat,
)
from lab.core.providers.pricing import PriceTable

from tests.core.providers.conftest import KINDS, make_client
from tests.helpers.fake_provider import (
    FakeProviderServer,
    reply,
    sdk,
)

MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash",
          "ollama": "llama3.2"}

CONVERSATION = [
    Message("system", "Answer in one short sentence."),
    Message("user", "What is 2+2?", is_example=True),
    Message("assistant", "4.", is_example=True),
    Message("user", "And 3+3?"),
]


def _request(kind: str, stream: bool, **kw) -> ChatRequest:
    return ChatRequest(MODELS[kind], list(CONVERSATION), params={"temperature": 0.2, "max_tokens": 64},
                       stream=stream, **kw)


async def _complete(server: FakeProviderServer, kind: str, request: ChatRequest, **cfg):
    deltas: list[str] = []
    async with make_client(server, kind, **cfg) as client:
        result = await client.complete(request, on_delta=deltas.append)
    return result, deltas


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("kind", KINDS)
def test_reply_text_usage_finish_and_cost(fake_provider: FakeProviderServer, prices: PriceTable,
                                          kind: str, stream: bool) -> None:
    result, deltas = asyncio.run(_complete(fake_provider, kind, _request(kind, stream)))

    assert result.text == "You said: And 3+3?"
    assert result.finish_reason == "stop"
    assert result.usage.output_tokens == 4 and result.usage.input_tokens > 0
    assert result.raw_usage  # kept exactly as the provider sent it, for the log
    if stream:  # the user watched the text arrive, piece by piece
        assert "".join(deltas) == result.text and len(deltas) == 4
        assert result.ttft_ms is not None and result.ttft_ms <= result.latency_ms
    if kind == "ollama":  # local: free, and tokens/s from the server's own eval_duration (20 ms/token)
        assert result.cost_usd == 0.0
        assert result.tokens_per_second == pytest.approx(50.0)
    else:
        price = prices.price_for(kind, MODELS[kind])
        expected = (result.usage.input_tokens * price.input + 4 * price.output) / 1e6
        assert result.cost_usd == pytest.approx(expected)
    assert result.request_body == json.loads(json.dumps(result.request_body))
    assert fake_provider.chat_requests(kind)[-1].body == result.request_body  # exactly what was sent
    assert fake_provider.validation_failures == []


def test_openai_stream_reads_the_final_usage_chunk_and_skips_comments(fake_provider: FakeProviderServer) -> None:
    fake_provider.script(reply("Fine thanks", comments=True, cached_tokens=8, thinking_tokens=3))
    result, _ = asyncio.run(_complete(fake_provider, "openai", _request("openai", True)))

    body = fake_provider.chat_requests("openai")[-1].body
    assert body["stream_options"] == {"include_usage": True}
    # The only usage is in the extra chunk with "choices": [] before [DONE].
    assert result.usage.output_tokens == 2 + 3 and result.usage.reasoning_tokens == 3
    assert result.usage.cached_tokens == 8
    assert result.text == "Fine thanks"
    assert fake_provider.validation_failures == []


def test_openai_max_tokens_field_follows_the_host() -> None:
    request = _request("openai", False)
    hosted = openai_chat.build_body(ProviderConfig("openai", "openai"), request)
    compatible = openai_chat.build_body(ProviderConfig("vllm", "openai", base_url="http://gpu-box:8000/v1"), request)
    forced = openai_chat.build_body(
        ProviderConfig("groq", "openai", base_url="https://api.groq.com/openai/v1",
                       max_tokens_field="max_completion_tokens"), request)
    assert hosted["max_completion_tokens"] == 64 and "max_tokens" not in hosted
    assert compatible["max_tokens"] == 64 and "max_completion_tokens" not in compatible
    assert forced["max_completion_tokens"] == 64


@pytest.mark.parametrize("kind", KINDS)
def test_json_schema_output_is_requested_in_each_api_s_own_way(fake_provider: FakeProviderServer, kind: str) -> None:
    schema = {"type": "object", "properties": {"echo": {"type": "string"}}, "required": ["echo"]}
    request = _request(kind, True, response_format={"type": "json_schema", "name": "echo reply", "schema": schema})
    result, _ = asyncio.run(_complete(fake_provider, kind, request))

    assert json.loads(result.text) == {"echo": "And 3+3?"}
    body = fake_provider.chat_requests(kind)[-1].body
    if kind == "openai":
        assert body["response_format"]["json_schema"]["name"] == "echo_reply"
        assert body["response_format"]["json_schema"]["schema"] == schema
    elif kind == "gemini":
        assert body["generationConfig"]["responseMimeType"] == "application/json"
        assert body["generationConfig"]["responseJsonSchema"] == schema
    elif kind == "ollama":
        assert body["format"] == schema
    else:  # Anthropic's structured outputs, natively: no instruction added to the prompt
        assert body["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
        assert "JSON" not in body.get("system", "")
    assert fake_provider.validation_failures == []


def test_anthropic_json_mode_without_a_schema_asks_in_the_system_prompt(fake_provider: FakeProviderServer) -> None:
    request = _request("anthropic", False, response_format={"type": "json_object"})
    result, _ = asyncio.run(_complete(fake_provider, "anthropic", request))
    body = fake_provider.chat_requests("anthropic")[-1].body
    assert "Reply with one JSON object only" in body["system"] and "output_config" not in body
    assert json.loads(result.text)
    assert fake_provider.validation_failures == []


def test_anthropic_body_merges_turns_and_lifts_the_system_prompt(fake_provider: FakeProviderServer) -> None:
    messages = [Message("system", "Be terse."), Message("user", "Part one."), Message("user", "Part two."),
                Message("system", "No emojis.")]
    request = ChatRequest("claude-haiku-4-5", messages, params={"seed": 7, "stop": "END"}, stream=True)
    fake_provider.script(reply("Ok.", comments=True))  # extra pings between the deltas
    result, _ = asyncio.run(_complete(fake_provider, "anthropic", request))

    body = fake_provider.chat_requests("anthropic")[-1].body
    assert body["system"] == "Be terse.\n\nNo emojis."
    assert body["messages"] == [{"role": "user", "content": "Part one.\n\nPart two."}]
    assert body["max_tokens"] == anthropic.DEFAULT_MAX_TOKENS
    assert body["stop_sequences"] == ["END"] and "seed" not in body  # Anthropic rejects unknown fields
    assert result.text == "Ok." and result.finish_reason == "stop"
    assert fake_provider.validation_failures == []


def test_anthropic_usage_counts_cache_reads_in_the_prompt(fake_provider: FakeProviderServer) -> None:
    fake_provider.script(reply("Yes.", cached_tokens=10))
    result, _ = asyncio.run(_complete(fake_provider, "anthropic", _request("anthropic", True)))
    raw = result.raw_usage
    assert result.usage.input_tokens == raw["input_tokens"] + raw["cache_read_input_tokens"]
    assert result.usage.cached_tokens == 10
    assert result.usage.output_tokens == 1  # message_delta's cumulative count replaced message_start's 1


def test_gemini_takes_the_last_cumulative_usage_and_counts_thoughts_as_output(
        fake_provider: FakeProviderServer, prices: PriceTable) -> None:
    fake_provider.script(reply("Six, of course.", thinking_tokens=40))
    result, deltas = asyncio.run(_complete(fake_provider, "gemini", _request("gemini", True)))

    assert result.text == "Six, of course."  # the thought part is not part of the reply
    assert "Thinking" not in "".join(deltas)
    assert result.usage.output_tokens == 3 + 40 and result.usage.reasoning_tokens == 40
    price = prices.price_for("gemini", "gemini-2.5-flash")
    assert result.cost_usd == pytest.approx((result.usage.input_tokens * price.input + 43 * price.output) / 1e6)
    body = fake_provider.chat_requests("gemini")[-1].body
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["systemInstruction"] == {"parts": [{"text": "Answer in one short sentence."}]}
    assert body["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 64}
    assert fake_provider.validation_failures == []


def test_gemini_blocked_prompt_is_reported() -> None:
    reply_ = gemini.parse_reply({"promptFeedback": {"blockReason": "SAFETY"},
                                 "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9}})
    assert reply_.finish_reason == "content_filter" and "SAFETY" in (reply_.warning or "")


def test_ollama_options_and_done_line(fake_provider: FakeProviderServer) -> None:
    request = ChatRequest("llama3.2", list(CONVERSATION), params={"max_tokens": 32, "top_k": 20, "stop": "\n\n",
                                                                  "keep_alive": "1m"}, stream=True)
    fake_provider.script(reply("Six.", finish="length"))
    result, _ = asyncio.run(_complete(fake_provider, "ollama", request))

    body = fake_provider.chat_requests("ollama")[-1].body
    assert body["options"] == {"num_predict": 32, "top_k": 20, "stop": ["\n\n"]}
    assert body["keep_alive"] == "1m" and body["stream"] is True
    assert result.finish_reason == "length"
    assert result.raw_usage["eval_count"] == 1 and result.tokens_per_second == pytest.approx(50.0)
    assert fake_provider.validation_failures == []


def test_a_server_that_ignores_stream_true_still_gives_a_result() -> None:
    import httpx
    from lab.core.providers import ProviderClient

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "x", "object": "chat.completion", "created": 1, "model": "tiny",
                                         "choices": [{"index": 0, "message": {"role": "assistant", "content": "hey"},
                                                      "finish_reason": "stop"}]})

    async def go():
        config = ProviderConfig("llamacpp", "openai", base_url="http://127.0.0.1:8080/v1")
        async with ProviderClient(config, transport=httpx.MockTransport(answer), key_lookup=lambda c: None) as client:
            deltas: list[str] = []
            return await client.complete(_request("openai", True), on_delta=deltas.append), deltas

    result, deltas = asyncio.run(go())
    assert result.text == "hey" and deltas == ["hey"]
    assert result.cost_usd == 0.0  # a server on this machine is free
    assert result.usage.output_tokens is None and result.tokens_per_second is None  # it reported no usage: unknown


@pytest.mark.parametrize("kind", KINDS)
def test_model_listing(fake_provider: FakeProviderServer, kind: str) -> None:
    async def listing() -> list[str]:
        async with make_client(fake_provider, kind) as client:
            return await client.list_models()

    expected = [m for m in fake_provider.models[kind] if "embedding" not in m]
    # Anthropic and Gemini answer two per page here, so this also follows their pagination.
    assert asyncio.run(listing()) == expected


def test_the_fake_answers_in_openai_s_published_response_shapes(fake_provider: FakeProviderServer) -> None:
    """Guards the fake itself: its OpenAI replies must parse with the official SDK's models
    (tests/core/providers/test_fake_provider.py checks every shape of every family)."""
    import httpx

    chat = sdk.load("openai.types.chat")  # fails, saying how to install it, if the SDK is missing
    headers = {"Authorization": "Bearer sk-fake-0123456789abcdef"}
    url = f"{fake_provider.base_url('openai')}/chat/completions"
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    whole = httpx.post(url, json=body, headers=headers).text
    assert sdk.response_errors(chat.ChatCompletion, whole) == []
    streamed = httpx.post(url, json={**body, "stream": True, "stream_options": {"include_usage": True}},
                          headers=headers).text
    lines = [line[6:] for line in streamed.splitlines() if line.startswith("data: {")]
    assert lines and all(sdk.response_errors(chat.ChatCompletionChunk, line) == [] for line in lines)
    last = chat.ChatCompletionChunk.model_validate_json(lines[-1], strict=True)
    assert last.choices == [] and last.usage.completion_tokens == 3  # "You said: hi"
    assert fake_provider.wire_errors == []


@pytest.mark.parametrize("kind", KINDS)
def test_hitting_the_token_limit_reads_as_length(fake_provider: FakeProviderServer, kind: str) -> None:
    fake_provider.script(reply("cut short", finish="length"))
    result, _ = asyncio.run(_complete(fake_provider, kind, _request(kind, True)))
    assert result.finish_reason == "length"


def test_anthropic_stream_keeps_only_reply_text() -> None:
    events = [
        ("message_start", {"type": "message_start", "message": {"id": "msg_1", "model": "claude-sonnet-4-5",
                                                                "usage": {"input_tokens": 25, "output_tokens": 1}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "thinking", "thinking": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "thinking_delta", "thinking": "Let me see"}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "signature_delta", "signature": "EqQB"}}),
        ("ping", {"type": "ping"}),
        ("content_block_start", {"type": "content_block_start", "index": 1,
                                 "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                 "delta": {"type": "text_delta", "text": "Hello!"}}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                           "usage": {"output_tokens": 7}}),
        ("message_delta", {"type": "message_delta", "delta": {}, "usage": {"output_tokens": 15}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    stream = anthropic.new_stream()
    assert "".join(stream.feed(json.dumps(data), name) for name, data in events) == "Hello!"
    reply_ = stream.finish()
    assert reply_.complete and reply_.finish_reason == "stop"
    assert reply_.raw_usage == {"input_tokens": 25, "output_tokens": 15}  # the last count, not a sum
