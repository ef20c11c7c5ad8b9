"""The batch client against the fake's batch endpoints, in each provider's wire format: submit,
poll until it ends, read every result back by custom id (at the batch price), per-line errors,
expiry, cancellation, a poll that 500s, and the splitting of requests into batches."""

from __future__ import annotations

import asyncio

import pytest
from lab.core.model import Message
from lab.core.providers import AuthError, ChatRequest
from lab.core.providers.batches import (
    CANCELED,
    ENDED,
    ERRORED,
    EXPIRED,
    IN_PROGRESS,
    SUCCEEDED,
    BatchClient,
    BatchExpired,
    BatchItem,
    BatchLimits,
    batch_limits,
    request_bytes,
    split,
    unsupported_reason,
)

from tests.core.providers.conftest import FAST_RETRIES
from tests.helpers.fake_provider import API_KEY, FakeProviderServer, assert_clean, http_error, reply

MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash"}
FAMILIES = list(MODELS)


@pytest.fixture
def fake(fake_server_checked: FakeProviderServer) -> FakeProviderServer:
    return fake_server_checked


def _client(fake: FakeProviderServer, kind: str, prices, key: str = API_KEY) -> BatchClient:
    return BatchClient(fake.provider_config(kind, local=False), key_lookup=lambda _c: key,
                       prices=prices, retry_policy=FAST_RETRIES)


def _requests(kind: str, n: int) -> dict[str, ChatRequest]:
    return {f"v0-c{i}-s0": ChatRequest(MODELS[kind], [Message("system", "Be brief."),
                                                       Message("user", f"question {i}")],
                                       params={"max_tokens": 20, "temperature": 0.5})
            for i in range(n)}


async def _until_ended(client: BatchClient, batch_id: str, info: dict, polls: list | None = None):
    for _ in range(50):
        state = await client.poll(batch_id, info)
        if polls is not None:
            polls.append(state)
        if state.ended:
            return state
    raise AssertionError("the batch never ended")


def _run_batch(fake, kind, prices, n=3, polls=None):
    requests = _requests(kind, n)

    async def go():
        async with _client(fake, kind, prices) as client:
            submitted = await client.submit([BatchItem(c, r) for c, r in requests.items()],
                                            label="test batch")
            state = await _until_ended(client, submitted.batch_id, submitted.info, polls)
            return submitted, state, await client.results(state, requests)

    return asyncio.run(go())


@pytest.mark.parametrize("kind", FAMILIES)
def test_a_batch_goes_in_the_wire_format_and_every_answer_comes_back_at_the_batch_price(
        fake, kind, prices):
    fake.batches.polls_to_finish = 3
    polls: list = []
    submitted, state, results = _run_batch(fake, kind, prices, n=4, polls=polls)
    assert submitted.batch_id and [p.status for p in polls] == [IN_PROGRESS, IN_PROGRESS, ENDED]
    assert (state.outcome, state.total, state.succeeded, state.failed) == ("completed", 4, 4, 0)
    assert [r.custom_id for r in results] == [f"v0-c{i}-s0" for i in range(4)]  # joined by id
    for i, r in enumerate(results):
        assert r.outcome == SUCCEEDED and r.reply.text == f"You said: question {i}"
        assert r.reply.usage.input_tokens > 0 and r.reply.usage.output_tokens > 0
        full = prices.cost(fake.provider_config(kind).kind, MODELS[kind], r.reply.usage)
        assert r.reply.cost_usd == pytest.approx(full / 2)  # every provider: half price
        assert "stream" not in r.reply.request_body  # a batch request never streams
    (created,) = fake.batches.created(kind)
    assert created.total == 4
    assert not fake.chat_requests()  # nothing went the ordinary way


def test_openai_uploads_a_jsonl_file_and_downloads_output_and_error_files(fake, prices):
    fake.script(reply(), http_error(400, message="max_tokens is too large"), reply())
    submitted, state, results = _run_batch(fake, "openai", prices, n=3)
    paths = [(r.method, r.path) for r in fake.batch_requests("openai")]
    assert paths[:2] == [("POST", "/v1/files"), ("POST", "/v1/batches")]
    assert ("GET", f"/v1/files/{state.info['output_file_id']}/content") in paths
    assert ("GET", f"/v1/files/{state.info['error_file_id']}/content") in paths
    assert submitted.info["input_file_id"].startswith("file-")
    created = fake.batch_requests("openai")[1].body
    assert created["endpoint"] == "/v1/chat/completions" and created["completion_window"] == "24h"
    assert [r.outcome for r in results] == [SUCCEEDED, ERRORED, SUCCEEDED]
    assert results[1].error.error_type == "BadRequest"
    assert "max_tokens is too large" in results[1].error.message
    assert (state.succeeded, state.failed) == (2, 1)


@pytest.mark.parametrize("kind", FAMILIES)
def test_an_errored_line_is_a_typed_error_and_the_others_succeed(fake, kind, prices):
    fake.script(http_error(400, message="bad parameter"), reply())
    _, state, results = _run_batch(fake, kind, prices, n=2)
    assert [r.outcome for r in results] == [ERRORED, SUCCEEDED]
    assert results[0].error.status == 400 and "bad parameter" in results[0].error.message
    assert results[0].reply is None and API_KEY not in results[0].error.raw_body


@pytest.mark.parametrize("kind", FAMILIES)
def test_a_batch_that_expires_returns_what_it_finished_and_the_rest_expired(fake, kind, prices):
    fake.batches.expire_next, fake.batches.expire_done = 1, 2
    _, state, results = _run_batch(fake, kind, prices, n=5)
    assert state.outcome == "expired"
    assert [r.outcome for r in results] == [SUCCEEDED] * 2 + [EXPIRED] * 3
    assert isinstance(results[4].error, BatchExpired) and "24-hour" in results[4].error.message


@pytest.mark.parametrize("kind", FAMILIES)
def test_cancel_stops_the_batch_and_the_unfinished_requests_come_back_cancelled(fake, kind, prices):
    fake.batches.hold = True
    requests = _requests(kind, 3)

    async def go():
        async with _client(fake, kind, prices) as client:
            submitted = await client.submit([BatchItem(c, r) for c, r in requests.items()],
                                            label="to cancel")
            running = await client.poll(submitted.batch_id, submitted.info)
            await client.cancel(submitted.batch_id)
            state = await _until_ended(client, submitted.batch_id, submitted.info)
            return submitted, running, state, await client.results(state, requests)

    submitted, running, state, results = asyncio.run(go())
    assert running.status == IN_PROGRESS and fake.batches.cancelled == [submitted.batch_id]
    assert state.outcome == "cancelled"
    assert {r.outcome for r in results} == {CANCELED}
    assert results[0].error.error_type == "Cancelled"


@pytest.mark.parametrize("kind", FAMILIES)
def test_a_poll_that_500s_is_tried_again(fake, kind, prices):
    fake.batches.fail_polls = 2
    _, state, results = _run_batch(fake, kind, prices, n=2)
    assert state.ended and [r.outcome for r in results] == [SUCCEEDED, SUCCEEDED]
    polls = [r for r in fake.batch_requests(kind) if r.method == "GET" and "batches/" in r.path]
    assert len(polls) >= 4  # two answered 500, then the ones that counted


def test_a_refused_key_is_an_auth_error_with_the_key_scrubbed(fake, prices):
    async def go():
        async with _client(fake, "anthropic", prices, key="sk-wrong-123456") as client:
            await client.submit([BatchItem(c, r) for c, r in _requests("anthropic", 1).items()],
                                label="x")

    with pytest.raises(AuthError) as caught:
        asyncio.run(go())
    assert "sk-wrong-123456" not in str(caught.value) + caught.value.raw_body


def test_local_servers_and_ollama_have_no_batch_api(fake):
    assert "no batch API" in unsupported_reason(fake.provider_config("ollama"))
    assert "this machine" in unsupported_reason(fake.provider_config("openai", local=True))
    assert unsupported_reason(fake.provider_config("openai", local=False)) is None
    assert batch_limits(fake.provider_config("ollama")) is None


def test_limits_per_provider_follow_the_reference(fake):
    openai = batch_limits(fake.provider_config("openai", local=False))
    anthropic = batch_limits(fake.provider_config("anthropic", local=False))
    gemini = batch_limits(fake.provider_config("gemini", local=False))
    assert (openai.max_requests, openai.max_bytes) == (50_000, 200_000_000)
    assert (anthropic.max_requests, anthropic.max_bytes) == (100_000, 256_000_000)
    assert (gemini.max_requests, gemini.max_bytes) == (None, 20_000_000)
    assert batch_limits(fake.provider_config("openai", local=False), 10).max_requests == 10
    assert batch_limits(fake.provider_config("openai", local=False), 10**6).max_requests == 50_000


def test_split_keeps_every_batch_under_both_limits():
    limits = BatchLimits(3, 100, "")
    assert split([10] * 7, limits) == [(0, 3), (3, 6), (6, 7)]
    assert split([60, 30, 30, 90, 5], limits) == [(0, 2), (2, 3), (3, 5)]
    assert split([500], limits) == [(0, 1)]  # one too big still goes (the provider says why)
    assert split([], limits) == []


def test_request_bytes_counts_the_body_sent(fake):
    config = fake.provider_config("openai", local=False)
    small = ChatRequest("gpt-4o-mini", [Message("user", "hi")])
    large = ChatRequest("gpt-4o-mini", [Message("user", "hi " * 1000)])
    assert 160 < request_bytes(config, small) < request_bytes(config, large)


def test_the_fake_is_clean_after_a_batch_of_every_family(prices):
    with FakeProviderServer() as fake:
        for kind in FAMILIES:
            _run_batch(fake, kind, prices, n=2)
        assert_clean(fake)
