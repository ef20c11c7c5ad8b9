"""Retrieval before a run: index the project's documents, then put each call's passages into
its prompts, so the request, its cache key and the pre-flight estimate are the real ones.

For every variant with retrieval on, the query (a template over the test case; by default the
user message) is rendered per test case and searched once (samples share it), and the top-k
chunks fill `{{context}}` with their citation ids. Documents are indexed at the chunkings the
variants use: each source's own, plus any a variant sets for itself. Files that cannot be read
stop the run before anything is sent; files of a type the lab does not read are warnings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lab.core.experiment import template
from lab.core.model import Retrieval, RetrievedChunk, Variant
from lab.core.providers import ProviderConfig, ProviderError
from lab.core.retrieval.chunking import DEFAULT_OVERLAP
from lab.core.retrieval.context import retrieved
from lab.core.retrieval.embedding import embed_chunks, embed_queries
from lab.core.retrieval.indexing import add_documents, chunking_key
from lab.core.retrieval.vectors import available as vectors_available
from lab.core.retrieval.vectors import fuse, nearest
from lab.core.run.plan import PlanError, RunPlan

if TYPE_CHECKING:  # annotations only: the window's first paint loads neither httpx nor sqlite-utils
    from lab.core.providers.client import ProviderClient
    from lab.core.workspace.store import Store

ClientFactory = Callable[[ProviderConfig], "ProviderClient"]


def retrieving(variant: Variant) -> Retrieval | None:
    return variant.retrieval if variant.retrieval is not None and variant.retrieval.on else None


def own_chunking(retrieval: Retrieval) -> tuple[int, int] | None:
    """The (size, overlap) a variant asks for itself, or None to use the documents' own."""
    if retrieval.chunk_size is None:
        return None
    overlap = retrieval.chunk_overlap
    if overlap is None:
        overlap = min(DEFAULT_OVERLAP, retrieval.chunk_size // 4)
    return retrieval.chunk_size, overlap


def augment(store: Store, plan: RunPlan, project_id: int | None, base_dir: Path | None = None,
            client_factory: ClientFactory | None = None) -> list[str]:
    """Fill the passages into every retrieving call of `plan` (in place); returns warnings."""
    project = plan.spec.project
    settings = {v.name: r for v in project.variants if (r := retrieving(v)) is not None}
    if not settings:
        return []
    if project_id is None:
        project_id = store.project_for_file(project, str(plan.spec.source or plan.spec.origin))
    if base_dir is None:  # paths are relative to the experiment file, if there is one
        source = plan.spec.source or project.source_path
        base_dir = Path(source).parent if source else None
    overrides = [c for r in settings.values() if (c := own_chunking(r)) is not None]
    warnings: list[str] = []
    problems: list[str] = []
    for source in project.documents:
        report = add_documents(store, project_id, [source.path], base_dir=base_dir,
                               chunkings=[(source.chunk_size, source.chunk_overlap), *overrides])
        problems += report.problems
        warnings += report.left_out
    if problems:
        raise PlanError(problems)

    queries: dict[tuple[str, int], str] = {}
    for call in plan.calls:
        retrieval = settings.get(call.variant.name)
        if retrieval is not None:
            queries.setdefault((call.variant.name, call.cell.case_index), template.render(
                retrieval.query or project.user_template, template.with_context(call.case).vars))
    vectors = _query_vectors(store, plan, project_id, settings, queries, client_factory)

    found: dict[tuple[str, int], list[RetrievedChunk]] = {}
    for key, query in queries.items():
        retrieval = settings[key[0]]
        found[key] = _search(store, project_id, retrieval, query, vectors.get(key))
    for index, call in enumerate(plan.calls):
        key = (call.variant.name, call.cell.case_index)
        if key in found:
            plan.calls[index] = call.with_context(found[key], project.user_template)
    empty = sum(1 for chunks in found.values() if not chunks)
    if empty:
        warnings.append(f"Retrieval found no passage for {empty} of {len(found)} queries; "
                        "those calls get an empty {{context}}.")
    return warnings


def _search(store: Store, project_id: int, retrieval: Retrieval, query: str,
            vector: list[float] | None) -> list[RetrievedChunk]:
    own = own_chunking(retrieval)
    chunking = chunking_key(*own) if own else None
    k = retrieval.k
    if retrieval.mode == "lexical":
        return retrieved(store.search_chunks(project_id, chunking, query, k), "lexical")
    assert vector is not None and store.path is not None
    near = nearest(store.path, project_id, chunking, retrieval.embedding_model, vector,
                   k if retrieval.mode == "embeddings" else 2 * k)
    if retrieval.mode == "embeddings":
        return retrieved(near, "embeddings")
    lexical = store.search_chunks(project_id, chunking, query, 2 * k)
    return retrieved(fuse([lexical, near], k), "hybrid")


def _query_vectors(store: Store, plan: RunPlan, project_id: int,
                   settings: dict[str, Retrieval], queries: dict[tuple[str, int], str],
                   client_factory: ClientFactory | None) -> dict[tuple[str, int], list[float]]:
    """Embed the chunks and the queries of every variant that searches by embeddings."""
    wanted = {name: r for name, r in settings.items() if r.mode in ("embeddings", "hybrid")}
    if not wanted:
        return {}
    if store.path is None:
        raise PlanError(["embeddings retrieval needs a workspace file, not an in-memory one."])
    problem = vectors_available()
    if problem:
        raise PlanError([problem])
    from lab.core.providers.client import ProviderClient

    factory = client_factory or ProviderClient

    async def embed_all() -> dict[tuple[str, int], list[float]]:
        clients: dict[str, ProviderClient] = {}
        try:
            found: dict[tuple[str, int], list[float]] = {}
            for name, retrieval in wanted.items():
                provider, _, model = retrieval.embedding_model.partition("/")
                if provider not in clients:
                    clients[provider] = factory(plan.providers[provider])
                client = clients[provider]
                own = own_chunking(retrieval)
                await embed_chunks(store, client, model, project_id,
                                   chunking_key(*own) if own else None)
                mine = {key: q for key, q in queries.items() if key[0] == name}
                by_text = await embed_queries(store, client, model, list(mine.values()))
                found.update({key: by_text[q] for key, q in mine.items()})
            return found
        finally:
            for client in clients.values():
                await client.aclose()

    try:
        return asyncio.run(embed_all())
    except ProviderError as error:
        raise PlanError([f"Embedding the documents or queries failed: {error.message}"]) from None
