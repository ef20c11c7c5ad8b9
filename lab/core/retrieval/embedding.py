"""Embedding chunks and queries through a provider, each call logged, nothing embedded twice.

Chunks are embedded once per model (their vectors stay with them in the workspace, and a
chunk whose text did not change keeps its id and so its vector); queries are embedded once per
model and text (`text_embeddings` is their cache). Texts go out in batches; every batch is a
logged call with its request, usage, latency and cost, like any other call, under the
variant name "embeddings: <model>".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lab.core.model import Call
from lab.core.providers.embeddings import EmbeddingCall, Task
from lab.core.providers.errors import ProviderError
from lab.core.retrieval.vectors import text_hash, to_blob
from lab.core.workspace.rows import now_iso

if TYPE_CHECKING:  # annotations only
    from lab.core.providers.client import ProviderClient
    from lab.core.workspace.store import Store

BATCH = 64  # texts per call: under every family's limit (Gemini batchEmbedContents takes 100)


def log_label(model: str) -> str:
    return f"embeddings: {model}"


def _logged(store: Store, client: ProviderClient, model: str, outcome: EmbeddingCall | None,
            error: ProviderError | None, body: dict, started: str) -> None:
    call = Call(provider=client.config.name, model=model, request=body,
                variant_name=log_label(f"{client.config.name}/{model}"), started_at=started,
                finished_at=now_iso())
    if outcome is not None:
        dims = len(outcome.vectors[0]) if outcome.vectors else 0
        call.status = "ok"
        call.response_text = f"{len(outcome.vectors)} vectors of {dims} dimensions"
        if outcome.usage is not None:
            call.usage = outcome.usage
        call.raw_usage = outcome.raw_usage
        call.cost_usd = outcome.cost_usd
        call.latency_ms = outcome.latency_ms
    else:
        call.status = "error"
        call.error_type = type(error).__name__
        call.error_message = error.message if error else ""
    store.insert_calls([call])


async def _embed(store: Store, client: ProviderClient, model: str, texts: list[str],
                 task: Task) -> list[list[float]]:
    started = now_iso()
    try:
        outcome = await client.embed(model, texts, task)
    except ProviderError as error:
        _logged(store, client, model, None, error, {"model": model, "input": texts}, started)
        raise
    _logged(store, client, model, outcome, None, outcome.request_body, started)
    return outcome.vectors


async def embed_chunks(store: Store, client: ProviderClient, model: str, project_id: int,
                       chunking: str | None) -> int:
    """Embed the project's chunks that have no `model` vector yet; returns how many."""
    key = f"{client.config.name}/{model}"
    missing = store.chunks_without_embedding(project_id, chunking, key)
    for start in range(0, len(missing), BATCH):
        batch = missing[start:start + BATCH]
        texts = [f"{c.heading}\n{c.text}" if c.heading else c.text for c in batch]
        vectors = await _embed(store, client, model, texts, "document")
        store.save_embeddings(key, [(c.id, len(v), to_blob(v)) for c, v in zip(batch, vectors)])
    return len(missing)


async def embed_queries(store: Store, client: ProviderClient, model: str,
                        texts: Sequence[str]) -> dict[str, list[float]]:
    """A vector for each distinct text, from the cache where it has one."""
    from array import array

    key = f"{client.config.name}/{model}"
    distinct = list(dict.fromkeys(texts))
    stored = store.text_embeddings(key, [text_hash(t) for t in distinct])
    vectors = {t: list(array("f", stored[text_hash(t)])) for t in distinct if text_hash(t) in stored}
    todo = [t for t in distinct if t not in vectors]
    for start in range(0, len(todo), BATCH):
        batch = todo[start:start + BATCH]
        found = await _embed(store, client, model, batch, "query")
        store.save_text_embeddings(key, [(text_hash(t), len(v), to_blob(v))
                                         for t, v in zip(batch, found)])
        vectors.update(zip(batch, found))
    return vectors
