"""Every fault a provider can throw at the user ends in one retry path or one clear typed error."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from lab.core.model import Message
from lab.core.providers import (
    AuthError,
    BadRequest,
    BadResponse,
    ChatRequest,
    ModelNotFound,
    NetworkError,
    ProviderClient,
    ProviderConfig,
    ProviderDown,
    ProviderOverloaded,
    ProviderTimeout,
    QuotaExceeded,
    RateLimited,
    StreamCut,
    Timeouts,
)

from tests.core.providers.conftest import KINDS, make_client
from tests.helpers.fake_provider import (
    FakeProviderServer,
    bad_json,
    cut_stream,
    error_after_200,
    http_error,
    insufficient_quota,
    overloaded,
    rate_limited,
    reply,
    slow_first_token,
)

MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash",
          "ollama": "llama3.2"}


def _request(kind: str = "openai", stream: bool = True) -> ChatRequest:
    return ChatRequest(MODELS[kind], [Message("user", "one two three four five six")], stream=stream)


def _run(server: FakeProviderServer, kind: str = "openai", stream: bool = True, deltas: list | None = None,
         on_restart=None, **cfg):
    async def go():
        async with make_client(server, kind, **cfg) as client:
            return await client.complete(_request(kind, stream),
                                         on_delta=None if deltas is None else deltas.append,
                                         on_restart=on_restart)
    return asyncio.run(go())


@pytest.mark.parametrize("kind", ["openai", "anthropic", "gemini"])
def test_wrong_key_is_an_auth_error_that_says_how_to_fix_it(fake_provider: FakeProviderServer, kind: str) -> None:
    with pytest.raises(AuthError) as caught:
        _run(fake_provider, kind, key="sk-wrong-key-1234567890")
    message = str(caught.value)
    assert f"lab keys set {kind}" in message and kind in message
    assert "sk-wrong-key-1234567890" not in message  # the fake echoes the key back; it is scrubbed
    assert len(fake_provider.chat_requests(kind)) == 1  # a bad key is not retried


def test_missing_key_for_a_hosted_vendor_fails_before_sending() -> None:
    async def go():
        client = ProviderClient(ProviderConfig("anthropic", "anthropic"), key_lookup=lambda c: None)
        async with client:
            await client.complete(_request("anthropic"))
    with pytest.raises(AuthError, match="ANTHROPIC_API_KEY"):
        asyncio.run(go())


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_model_is_model_not_found(fake_provider: FakeProviderServer, kind: str) -> None:
    fake_provider.script(http_error(404))
    with pytest.raises(ModelNotFound, match=MODELS[kind]):
        _run(fake_provider, kind)


def test_bad_parameter_names_the_parameter(fake_provider: FakeProviderServer) -> None:
    fake_provider.script(http_error(400, code="unsupported_parameter", param="max_tokens",
                                     message="Unsupported parameter: 'max_tokens' is not supported with this model."))
    with pytest.raises(BadRequest) as caught:
        _run(fake_provider)
    assert caught.value.param == "max_tokens" and "'max_tokens'" in str(caught.value)
    assert len(fake_provider.chat_requests()) == 1


@pytest.mark.parametrize("header", ["retry_after", "retry_after_ms"])
def test_429_waits_as_long_as_the_server_asks(fake_provider: FakeProviderServer, header: str) -> None:
    fake_provider.script(rate_limited(**{header: 0.3 if header == "retry_after" else 300}))
    started = time.monotonic()
    result = _run(fake_provider)
    waited = time.monotonic() - started
    assert result.text == "You said: one two three four five six" and result.retries == 1
    assert 0.28 <= waited < 2.0  # honoured the server's 0.3 s rather than the 10 ms backoff


def test_429_asking_for_too_long_is_not_retried(fake_provider: FakeProviderServer) -> None:
    fake_provider.script(rate_limited(retry_after=3600))
    with pytest.raises(RateLimited, match="3600"):
        _run(fake_provider)
    assert len(fake_provider.chat_requests()) == 1


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_insufficient_quota_is_never_retried(fake_provider: FakeProviderServer, kind: str) -> None:
    fake_provider.script(insufficient_quota() if kind == "openai"
                         else http_error(400, type="billing_error", message="Your credit balance is too low."))
    with pytest.raises(QuotaExceeded, match="billing"):
        _run(fake_provider, kind)
    assert len(fake_provider.chat_requests(kind)) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_overloaded_and_server_errors_are_retried(fake_provider: FakeProviderServer, kind: str) -> None:
    fake_provider.script(overloaded(529), http_error(500), overloaded(503))
    result = _run(fake_provider, kind)
    assert result.text.startswith("You said:") and result.retries == 3
    assert len(fake_provider.chat_requests(kind)) == 4


def test_retries_give_up_after_max_retries(fake_provider: FakeProviderServer) -> None:
    fake_provider.script(*[http_error(500)] * 5)
    with pytest.raises(ProviderDown, match="HTTP 500"):
        _run(fake_provider, max_retries=2)
    assert len(fake_provider.chat_requests()) == 3


def test_x_should_retry_false_is_obeyed(fake_provider: FakeProviderServer) -> None:
    fake_provider.script(http_error(503, headers={"x-should-retry": "false"}))
    with pytest.raises(ProviderOverloaded):
        _run(fake_provider)
    assert len(fake_provider.chat_requests()) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_cut_stream_is_retried_and_the_reply_starts_over(fake_provider: FakeProviderServer, kind: str) -> None:
    fake_provider.script(cut_stream(after=2))
    deltas: list[str] = []
    restarts: list[int] = []
    result = _run(fake_provider, kind, deltas=deltas, on_restart=lambda: restarts.append(len(deltas)))
    assert result.text == "You said: one two three four five six" and result.retries == 1
    assert restarts == [2]  # told to start over after the two pieces of the cut reply
    assert "".join(deltas[2:]) == result.text
    assert len(fake_provider.chat_requests(kind)) == 2


@pytest.mark.parametrize("kind", KINDS)
def test_a_stream_cut_every_time_ends_with_the_partial_text_once_retries_run_out(
        fake_provider: FakeProviderServer, kind: str) -> None:
    fake_provider.script(*[cut_stream(after=2)] * 3)
    with pytest.raises(StreamCut) as caught:
        _run(fake_provider, kind, max_retries=2)
    assert caught.value.partial_text == "You said: "
    assert "partial text is kept" in str(caught.value)
    assert len(fake_provider.chat_requests(kind)) == 3


@pytest.mark.parametrize("kind", ["openai", "anthropic", "ollama"])
def test_stream_missing_its_end_marker_is_a_cut(fake_provider: FakeProviderServer, kind: str) -> None:
    fake_provider.script(cut_stream(after=99))  # all the text, then the connection drops
    with pytest.raises(StreamCut) as caught:
        _run(fake_provider, kind, max_retries=0)
    assert caught.value.partial_text == "You said: one two three four five six"


def test_stream_cut_before_any_text_is_retried(fake_provider: FakeProviderServer) -> None:
    fake_provider.script(cut_stream(after=0))
    result = _run(fake_provider, "anthropic")
    assert result.retries == 1 and result.text.startswith("You said:")


def test_anthropic_error_event_after_200_is_retried_like_any_overload(fake_provider: FakeProviderServer) -> None:
    fake_provider.script(error_after_200(after=3))
    result = _run(fake_provider, "anthropic")
    assert result.text == "You said: one two three four five six" and result.retries == 1
    fake_provider.script(*[error_after_200(after=3)] * 2)
    with pytest.raises(ProviderOverloaded) as caught:
        _run(fake_provider, "anthropic", max_retries=1)
    assert caught.value.partial_text == "You said: one "


@pytest.mark.parametrize("kind", KINDS)
def test_bad_json_is_a_bad_response(fake_provider: FakeProviderServer, kind: str) -> None:
    fake_provider.script(bad_json(), bad_json())
    for stream in (False, True):
        with pytest.raises(BadResponse, match="unexpected"):
            _run(fake_provider, kind, stream=stream)


def test_slow_first_token_hits_the_first_token_timeout(fake_provider: FakeProviderServer) -> None:
    fake_provider.script(slow_first_token(2.0))
    with pytest.raises(ProviderTimeout) as caught:
        _run(fake_provider, "anthropic", max_retries=0, timeouts=Timeouts(first_token=0.3))
    assert caught.value.which == "first_token" and "first-token timeout" in str(caught.value)


def test_a_stream_that_stalls_after_its_first_words_is_cut(fake_provider: FakeProviderServer) -> None:
    fake_provider.script(reply("one two three", chunk_delay=2.0))
    with pytest.raises(StreamCut, match="no data for 0.3 s") as caught:
        _run(fake_provider, "ollama", timeouts=Timeouts(first_token=0.3), max_retries=0)
    assert caught.value.partial_text == "one "


def test_a_call_slower_than_the_total_timeout_stops_with_its_partial_text(fake_provider: FakeProviderServer) -> None:
    fake_provider.script(reply("a b c d e f g h i j", chunk_delay=0.1))
    with pytest.raises(ProviderTimeout) as caught:
        _run(fake_provider, "gemini", timeouts=Timeouts(first_token=5, total=0.45))
    assert caught.value.which == "total" and "total timeout" in str(caught.value)
    assert caught.value.partial_text.startswith("a b ")
    assert len(fake_provider.chat_requests()) == 1  # slow but working: not retried


def test_connection_refused_is_a_network_error() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def go():
        config = ProviderConfig("local", "openai", base_url=f"http://127.0.0.1:{port}/v1", max_retries=1)
        async with ProviderClient(config, key_lookup=lambda c: None) as client:
            await client.complete(_request())
    with pytest.raises(NetworkError, match=f"127.0.0.1:{port}.*running"):
        asyncio.run(go())


def test_cancel_mid_stream_closes_the_connection(fake_provider: FakeProviderServer) -> None:
    fake_provider.script(reply("word " * 200, chunk_delay=0.02))

    async def go() -> None:
        async with make_client(fake_provider, "openai") as client:
            got: list[str] = []
            task = asyncio.create_task(client.complete(_request(), on_delta=got.append))
            while len(got) < 3:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert len(got) < 200 and client.limiter.in_flight == 0
            # Still inside the client: the cancelled response's connection was dropped, not pooled.
            assert await asyncio.to_thread(fake_provider.wait_for_connections, 0)
            assert fake_provider.disconnects == 1
            # And the client carries on normally afterwards.
            result = await client.complete(_request())
            assert result.text.startswith("You said:")

    asyncio.run(go())
