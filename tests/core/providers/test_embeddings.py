"""Embeddings from each family's own endpoint, through the shared client, against the fake."""

from __future__ import annotations

import asyncio
import math

import pytest

from lab.core.providers.embeddings import NoEmbeddings
from tests.core.providers.conftest import make_client
from tests.helpers.fake_provider import FakeProviderServer, http_error
from tests.helpers.fake_provider.embeddings import fake_vector

TEXTS = ["Refunds take five business days.", "Express delivery costs nine euros."]
MODELS = {"openai": "text-embedding-3-small", "gemini": "text-embedding-004",
          "ollama": "nomic-embed-text"}


@pytest.mark.parametrize("kind", ["openai", "gemini", "ollama"])
def test_vectors_come_back_in_order_with_usage_where_the_api_reports_it(
        fake_provider: FakeProviderServer, kind: str) -> None:
    async def go():
        async with make_client(fake_provider, kind) as client:
            return await client.embed(MODELS[kind], TEXTS, "document")

    result = asyncio.run(go())
    assert [[round(x, 6) for x in v] for v in result.vectors] == [
        [round(x, 6) for x in fake_vector(t)] for t in TEXTS]
    assert math.isclose(sum(x * x for x in result.vectors[0]), 1.0, rel_tol=1e-6)
    if kind == "gemini":
        assert result.usage is None  # Gemini does not say: unknown, not 0
        (request,) = fake_provider.embedding_requests("gemini")
        assert {r["taskType"] for r in request.body["requests"]} == {"RETRIEVAL_DOCUMENT"}
    else:
        assert result.usage.input_tokens > 0
    assert fake_provider.validation_failures == [] and fake_provider.wire_errors == []


def test_embedding_calls_are_retried_like_any_call(fake_provider: FakeProviderServer) -> None:
    fake_provider.script(http_error(503))

    async def go():
        async with make_client(fake_provider, "openai") as client:
            return await client.embed("text-embedding-3-small", TEXTS[:1], "query")

    assert asyncio.run(go()).retries == 1
    assert len(fake_provider.embedding_requests()) == 2


def test_anthropic_has_no_embeddings_and_says_what_to_use(fake_provider: FakeProviderServer) -> None:
    async def go():
        async with make_client(fake_provider, "anthropic") as client:
            await client.embed("claude-haiku-4-5", TEXTS, "document")

    with pytest.raises(NoEmbeddings, match="no embeddings endpoint; use an embedding model of an"):
        asyncio.run(go())
