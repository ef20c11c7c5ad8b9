"""The fake server itself: its request checks must bite, or every "no validation failures"
assertion elsewhere would prove nothing; what it sends must parse with the official SDKs'
models, or it could drift from the real wire format. It must also carry a benchmark's load."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from lab.core.model import Message
from lab.core.providers import BadRequest, ChatRequest

from tests.core.providers.conftest import make_client
from tests.helpers.fake_provider import (
    API_KEY,
    Behaviour,
    FakeProviderServer,
    cut_stream,
    error_after_200,
    http_error,
    insufficient_quota,
    overloaded,
    rate_limited,
    refusal,
    reply,
    sdk,
    slow_first_token,
)
from tests.helpers.fake_provider.wire import sse_events

ROUTES = {
    "openai": ("/v1/chat/completions", {"Authorization": f"Bearer {API_KEY}"}),
    "anthropic": ("/v1/messages", {"x-api-key": API_KEY, "anthropic-version": "2023-06-01"}),
    "gemini": ("/v1beta/models/gemini-2.5-flash:generateContent", {"x-goog-api-key": API_KEY}),
    "ollama": ("/api/chat", {}),
}
BAD_REQUESTS = {
    "openai": ({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "temperature": 5},
               lambda e: e["error"]["type"] == "invalid_request_error" and "temperature" in e["error"]["message"]),
    "anthropic": ({"model": "claude-haiku-4-5", "messages": [{"role": "system", "content": "x"},
                                                              {"role": "user", "content": "hi"}]},
                  lambda e: e["type"] == "error" and "max_tokens" in e["error"]["message"]),
    "gemini": ({"contents": [{"role": "assistant", "parts": [{"text": "hi"}]}],
                "generationConfig": {"max_tokens": 5}},
               lambda e: e["error"]["status"] == "INVALID_ARGUMENT" and "max_tokens" in e["error"]["message"]),
    "ollama": ({"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}], "options": {"max_tokens": 5}},
               lambda e: "max_tokens" in e["error"]),
}
GOOD = {"openai": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        "anthropic": {"model": "claude-haiku-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}}
# Mistakes only the SDKs' request types catch, each with what the 400 must say.
SDK_CATCHES = {
    "openai-bad-role": ("openai", {"messages": [{"role": "boss", "content": "hi"}]},
                        "messages.0.role: Input should be 'developer' | Input should be 'system'"),
    "openai-temperature-as-string": ("openai", {"temperature": "0.5"}, "temperature: Input should be a valid number"),
    "openai-unknown-field": ("openai", {"max_output_tokens": 5}, "max_output_tokens: Extra inputs are not permitted"),
    "openai-content-as-number": ("openai", {"messages": [{"role": "user", "content": 7}]}, "messages.0.content"),
    "openai-stream-as-string": ("openai", {"stream": "yes"}, "stream: Input should be"),
    "anthropic-no-max-tokens": ("anthropic", {"max_tokens": None}, "max_tokens: Field required"),
    "anthropic-unknown-field": ("anthropic", {"max_tokens_to_sample": 5},
                                "max_tokens_to_sample: Extra inputs are not permitted"),
    "anthropic-bad-role": ("anthropic", {"messages": [{"role": "model", "content": "hi"}]}, "messages.0.role"),
    "anthropic-system-blocks": ("anthropic", {"system": [{"type": "image"}]}, "system.0.type: Input should be 'text'"),
    "anthropic-stop-as-number": ("anthropic", {"stop_sequences": [1]}, "stop_sequences.0: Input should be a valid string"),
    "anthropic-block-field": ("anthropic", {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "hi", "cache": True}]}]}, "messages.0.content.0.cache: Extra inputs are not permitted"),
}


def _post(server: FakeProviderServer, kind: str, body: dict) -> httpx.Response:
    path, headers = ROUTES[kind]
    return httpx.post(server.root_url + path, json=body, headers=headers)


@pytest.mark.parametrize("kind", list(BAD_REQUESTS))
def test_invalid_requests_get_a_400_in_the_api_s_own_format(fake_provider: FakeProviderServer, kind: str) -> None:
    body, looks_right = BAD_REQUESTS[kind]
    response = _post(fake_provider, kind, body)
    assert response.status_code == 400 and looks_right(response.json())
    assert [r.family for r in fake_provider.validation_failures] == [kind]


@pytest.mark.parametrize("case", list(SDK_CATCHES))
def test_the_sdk_request_types_catch_malformed_requests(fake_provider: FakeProviderServer, case: str) -> None:
    kind, change, says = SDK_CATCHES[case]
    body = {k: v for k, v in {**GOOD[kind], **change}.items() if v is not None}
    response = _post(fake_provider, kind, body)
    message = response.json()["error"]["message"]
    assert response.status_code == 400 and says in message, message
    assert [r.family for r in fake_provider.validation_failures] == [kind]
    # ...while the same request, put right, passes.
    assert _post(fake_provider, kind, GOOD[kind]).status_code == 200
    assert len(fake_provider.validation_failures) == 1


def test_a_missing_sdk_fails_and_says_how_to_install_it(fake_provider: FakeProviderServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai.types.chat.completion_create_params", None)
    response = _post(fake_provider, "openai", GOOD["openai"])
    assert response.status_code == 400 and "./scripts/test.sh" in response.json()["error"]["message"]
    with pytest.raises(sdk.MissingSDK, match=r"run \./scripts/test\.sh"):
        sdk.load("openai.types.chat.completion_create_params")


def test_a_client_bug_would_surface_as_a_bad_request(fake_provider: FakeProviderServer) -> None:
    async def go() -> None:
        async with make_client(fake_provider, "anthropic") as client:
            # Temperature 1.5 is valid for OpenAI but not for Anthropic: the fake says so, like the API.
            await client.complete(ChatRequest("claude-haiku-4-5", [Message("user", "hi")],
                                              params={"temperature": 1.5}))
    with pytest.raises(BadRequest, match="temperature"):
        asyncio.run(go())
    assert len(fake_provider.validation_failures) == 1


# ----- what the fake sends parses with the SDKs' own models --------------------------------

# Every behaviour that still sends a body (bad_json sends a broken one on purpose), and the
# errors only one of the APIs has.
SHAPES = {
    "reply": reply(), "length": reply("cut short", finish="length"),
    "usage-details": reply("Fine thanks", cached_tokens=8, thinking_tokens=3), "keep-alives": reply(comments=True),
    "slow": slow_first_token(0.01), "error-after-200": error_after_200(1), "cut-stream": cut_stream(1),
    "400": http_error(400, code="unsupported_parameter", param="max_tokens", message="Unsupported"),
    "401": http_error(401), "404": http_error(404), "429": rate_limited(retry_after=1),
    "500": http_error(500), "503": overloaded(503), "529": overloaded(529), "refusal": refusal(),
    "no-usage": reply(usage=False),
}
OWN_SHAPES = {"openai": {"quota": insufficient_quota()},
              "anthropic": {"billing": http_error(400, type="billing_error", message="Your credit balance is too low.")}}
CASES = [(kind, shape) for kind in ("openai", "anthropic") for shape in [*SHAPES, *OWN_SHAPES[kind]]]


def _read(server: FakeProviderServer, kind: str, body: dict) -> tuple[int, bytes]:
    """Status and raw body, as far as it came (a cut stream ends early)."""
    path, headers = ROUTES[kind]
    received = b""
    with httpx.stream("POST", server.root_url + path, json=body, headers=headers) as response:
        try:
            for data in response.iter_raw():
                received += data
        except httpx.RemoteProtocolError:
            pass
    return response.status_code, received


def _readers(kind: str) -> tuple[Any, Any, Callable[[str | bytes], list[str]]]:
    """The SDK's models for a whole reply and a stream item, and a reader for error bodies."""
    if kind == "openai":
        chat, types = sdk.load("openai.types.chat"), sdk.load("openai.types")
        # The SDK reads body["error"] as an ErrorObject; the envelope itself has no model.
        return (chat.ChatCompletion, chat.ChatCompletionChunk,
                lambda data: sdk.response_errors(types.ErrorObject, json.dumps(json.loads(data)["error"])))
    types = sdk.load("anthropic.types")
    return types.Message, types.RawMessageStreamEvent, lambda data: sdk.response_errors(types.ErrorResponse, data)


def _parse(kind: str, status: int, stream: bool, data: bytes) -> list[str]:
    """Problems the official SDK's models have with what the fake sent."""
    whole, item, error = _readers(kind)
    if status != 200:
        return error(data)
    if not stream:
        return sdk.response_errors(whole, data)
    problems: list[str] = []
    events = sse_events(data)
    assert events, data
    for event, payload in events:
        if payload == "[DONE]" or event == "ping":  # both SDKs stop at [DONE] and drop pings
            continue
        is_error = event == "error" or "error" in json.loads(payload)
        problems += error(payload) if is_error else sdk.response_errors(item, payload)
    return problems


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize(("kind", "shape"), CASES, ids=[f"{kind}-{shape}" for kind, shape in CASES])
def test_every_shape_the_fake_sends_parses_with_the_sdk_models(fake_provider: FakeProviderServer, kind: str,
                                                               shape: str, stream: bool) -> None:
    behaviour: Behaviour = {**SHAPES, **OWN_SHAPES[kind]}[shape]
    body = {**GOOD[kind], **({"stream": True} if stream else {})}
    bodies = [body]
    if stream and kind == "openai":  # chunks carry "usage" only when it was asked for
        bodies.append({**body, "stream_options": {"include_usage": True}})
    for sent in bodies:
        fake_provider.script(behaviour)
        status, data = _read(fake_provider, kind, sent)
        assert status == behaviour.status
        assert _parse(kind, status, stream, data) == []
    assert fake_provider.validation_failures == [] and fake_provider.wire_errors == []


WRONG_KEYS = {"openai": {"Authorization": "Bearer sk-wrong"},
              "anthropic": {"x-api-key": "sk-wrong", "anthropic-version": "2023-06-01"}}
MODEL_PAGES = {"openai": ("openai.pagination", "openai.types", "Model"),
               "anthropic": ("anthropic.pagination", "anthropic.types", "ModelInfo")}


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_auth_and_validation_errors_and_model_lists_parse_with_the_sdk_models(
        fake_provider: FakeProviderServer, kind: str) -> None:
    path, headers = ROUTES[kind]
    refused = httpx.post(fake_provider.root_url + path, json=GOOD[kind], headers=WRONG_KEYS[kind])
    invalid = _post(fake_provider, kind, {**GOOD[kind], "model": 5})
    assert (refused.status_code, invalid.status_code) == (401, 400)
    assert _parse(kind, 401, False, refused.content) == [] and _parse(kind, 400, False, invalid.content) == []
    listing = httpx.get(fake_provider.root_url + "/v1/models", headers=headers)
    pagination, types, item = MODEL_PAGES[kind]
    page_model = sdk.load(pagination).SyncPage[getattr(sdk.load(types), item)]
    assert listing.status_code == 200 and sdk.response_errors(page_model, listing.content) == []
    assert fake_provider.wire_errors == []


def test_the_fake_notes_what_an_sdk_could_not_read(fake_provider: FakeProviderServer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The send-time check bites: a made-up field in a reply is a wire error, not a silent pass."""
    from tests.helpers.fake_provider.openai import FAMILY

    whole = FAMILY.whole
    monkeypatch.setattr(FAMILY, "whole", lambda c: {**whole(c), "finish": "stop"})
    assert _post(fake_provider, "openai", GOOD["openai"]).status_code == 200
    assert fake_provider.wire_errors == ["openai reply: finish: not a field of the SDK's model"]
    fake_provider.wire_errors.clear()  # the fixture asserts there are none


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
