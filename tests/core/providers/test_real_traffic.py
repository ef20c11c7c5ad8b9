"""Shapes real providers send that an early replay of recorded traffic got wrong (issue #16, "Real
traffic"), each sent by the fake server in the provider's own wire format."""

from __future__ import annotations

import asyncio
import time

import pytest
from lab.core.model import Message
from lab.core.providers import (
    AuthError,
    BadRequest,
    ChatRequest,
    GenerationFailed,
    QuotaExceeded,
    RateLimited,
    retry,
)

from tests.core.providers.conftest import make_client
from tests.helpers.fake_provider import (
    FakeProviderServer,
    gemini_quota,
    http_error,
    insufficient_quota,
    refusal,
    reply,
)

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


# ----- waits and stops a provider asks for in the body -------------------------------------------

def test_gemini_429_waits_as_long_as_its_body_says(fake_provider: FakeProviderServer) -> None:
    fake_provider.script(gemini_quota("minute", retry_delay="0.4s"))  # no retry-after header
    started = time.monotonic()
    result = _complete(fake_provider, "gemini")
    assert result.retries == 1 and time.monotonic() - started >= 0.38  # not the 10 ms backoff


def test_gemini_429_asking_for_longer_than_the_cap_is_not_retried(fake_provider: FakeProviderServer) -> None:
    fake_provider.script(gemini_quota("minute", retry_delay="37s"))  # the tests' cap is 5 s
    with pytest.raises(RateLimited, match="37 s"):
        _complete(fake_provider, "gemini")
    assert len(fake_provider.chat_requests("gemini")) == 1


def test_the_body_delay_goes_through_the_retry_policy() -> None:
    from lab.core.providers.errors import ErrorDetails, error_from_status

    said = ErrorDetails(message="Rate limit reached. Please try again in 1.5s.")
    body = ErrorDetails(message="Resource exhausted.", retry_after=37.0)
    assert error_from_status("p", 429, said).retry_after == 1.5
    assert error_from_status("p", 429, body).retry_after == 37.0
    assert error_from_status("p", 429, body, headers={"retry-after": "2"}).retry_after == 2.0  # headers first
    assert retry.delay_before_retry(error_from_status("p", 429, body), 0, 4, retry.RetryPolicy()) == 37.0
    assert retry.delay_before_retry(error_from_status("p", 429, body), 0, 4,
                                    retry.RetryPolicy(max_server_delay=30)) is None
    assert retry.parse_duration("37s") == 37.0 and retry.parse_duration("1.5s") == 1.5
    assert retry.parse_duration("900ms") == 0.9 and retry.parse_duration("soon") is None


@pytest.mark.parametrize("retry_delay", ["37s", None])
def test_a_daily_quota_429_stops_the_provider_instead_of_retrying(fake_provider: FakeProviderServer,
                                                                  retry_delay: str | None) -> None:
    fake_provider.script(gemini_quota("day", retry_delay=retry_delay))
    with pytest.raises(QuotaExceeded) as caught:
        _complete(fake_provider, "gemini")
    assert "daily quota" in str(caught.value) and not caught.value.retryable
    assert len(fake_provider.chat_requests("gemini")) == 1


BILLING_STOPS = {
    "openai-insufficient-quota": ("openai", insufficient_quota()),
    "openai-billing-not-active": ("openai", http_error(429, type="insufficient_quota", code="billing_not_active",
                                                      message="Your account is not active, please check your billing details on our website.")),
    "anthropic-credit-balance": ("anthropic", http_error(
        400, type="invalid_request_error",
        message="Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to "
                "upgrade or purchase credits.")),
    "anthropic-billing-error": ("anthropic", http_error(402, type="billing_error", message="Billing issue.")),
    "gemini-credits-depleted": ("gemini", http_error(
        429, message="Your prepayment credits are depleted. Please go to AI Studio at https://ai.studio/projects "
                     "to manage your project and billing.")),
    "gemini-billing-not-enabled": ("gemini", http_error(
        400, type="FAILED_PRECONDITION",
        message="Gemini API free tier is not available in your country. Please enable billing on your project "
                "in Google AI Studio.")),
    "gemini-billing-disabled": ("gemini", http_error(
        403, type="PERMISSION_DENIED", code="BILLING_DISABLED",
        message="This API method requires billing to be enabled. Please enable billing on project #1.")),
}


@pytest.mark.parametrize("case", BILLING_STOPS)
def test_billing_stops_of_every_family_are_quota_exceeded(fake_provider: FakeProviderServer, case: str) -> None:
    kind, behaviour = BILLING_STOPS[case]
    fake_provider.script(behaviour)
    with pytest.raises(QuotaExceeded) as caught:
        _complete(fake_provider, kind)
    message = str(caught.value)
    assert message.startswith(f"{kind}: ") and "billing" in message and "None" not in message
    assert len(fake_provider.chat_requests(kind)) == 1  # never retried


def test_a_plain_rate_limit_with_billing_words_is_still_a_rate_limit(fake_provider: FakeProviderServer) -> None:
    # Gemini says "exceeded your current quota, please check your plan and billing details" for
    # its per-minute limits too: that is a wait, not a stop.
    fake_provider.script(gemini_quota("minute", retry_delay="0.05s"))
    assert _complete(fake_provider, "gemini").retries == 1


@pytest.mark.parametrize("first", ["quota", "key"])
def test_a_client_sends_nothing_more_after_a_billing_stop_or_a_refused_key(fake_provider: FakeProviderServer,
                                                                          first: str) -> None:
    fake_provider.script(insufficient_quota() if first == "quota"
                         else http_error(401, code="invalid_api_key", message="Incorrect API key"))

    async def go():  # one at a time: the two others wait for a slot while the first fails
        async with make_client(fake_provider, "openai", concurrency=1) as client:
            return await asyncio.gather(*(client.complete(_request("openai")) for _ in range(3)),
                                        return_exceptions=True)

    first_error, *later = asyncio.run(go())
    assert isinstance(first_error, QuotaExceeded if first == "quota" else AuthError) and first_error.sent
    assert len(fake_provider.chat_requests()) == 1  # the other two were never sent
    for error in later:
        assert type(error) is type(first_error) and not error.sent and error.message == first_error.message


# ----- servers that refuse stream_options ------------------------------------------------------

def test_a_server_that_refuses_stream_options_is_asked_again_without_it(fake_provider: FakeProviderServer) -> None:
    fake_provider.refused_fields = {"stream_options"}
    learned: list[dict] = []

    async def go():
        async with make_client(fake_provider, "openai") as client:
            client.on_learned = learned.append
            first = await client.complete(_request("openai"))
            second = await client.complete(_request("openai"))
            return client, first, second

    client, first, second = asyncio.run(go())
    bodies = [r.body for r in fake_provider.chat_requests()]
    assert len(bodies) == 3 and fake_provider.refused == 1  # refused once, then never asked again
    assert "stream_options" in bodies[0] and "stream_options" not in bodies[1] and "stream_options" not in bodies[2]
    for result in (first, second):
        assert result.text == "You said: Name two pelicans."
        assert not result.usage.known and result.cost_usd is None  # no usage in the stream: unknown
        assert "stream_options" not in result.request_body  # what was really sent
    assert first.retries == 1 and second.retries == 0
    assert client.config.stream_usage is False and learned == [{"stream_usage": False}]


def test_a_provider_set_to_stream_without_usage_never_asks_for_it() -> None:
    from lab.core.providers import ProviderConfig, openai_chat

    config = ProviderConfig("azure-old", "openai", base_url="https://x.example/v1", stream_usage=False)
    assert "stream_options" not in openai_chat.build_body(config, _request("openai"))
    assert "stream_options" in openai_chat.build_body(ProviderConfig("openai", "openai"), _request("openai"))


def test_a_400_about_anything_else_is_not_retried(fake_provider: FakeProviderServer) -> None:
    fake_provider.refused_fields = {"messages"}  # every request has it: no way around
    with pytest.raises(BadRequest, match="messages"):
        _complete(fake_provider, "openai")
    assert fake_provider.refused == 1
