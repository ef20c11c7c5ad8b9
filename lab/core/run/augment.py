"""Retrieval before a run: index the project's documents, then put each call's passages into
its prompts, so the request, its cache key and the pre-flight estimate are the real ones.

For every variant with retrieval on, the query (a template over the test case; by default the
user message) is rendered per test case and searched once (samples share it), and the top-k
chunks fill `{{context}}` with their citation ids. Documents are indexed at the chunkings the
variants use: each source's own, plus any a variant sets for itself. Files that cannot be read
stop the run before anything is sent; files of a type the lab does not read are warnings.
"""

from __future__ import annotations

from pathlib import Path

from lab.core.experiment import template
from lab.core.model import Retrieval, RetrievedChunk, Variant
from lab.core.retrieval.chunking import DEFAULT_OVERLAP
from lab.core.retrieval.context import retrieved
from lab.core.retrieval.indexing import add_documents, chunking_key
from lab.core.run.plan import PlanError, RunPlan
from lab.core.workspace.store import Store


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


def augment(store: Store, plan: RunPlan, project_id: int | None,
            base_dir: Path | None = None) -> list[str]:
    """Fill the passages into every retrieving call of `plan` (in place); returns warnings."""
    project = plan.spec.project
    settings = {v.name: r for v in project.variants if (r := retrieving(v)) is not None}
    if not settings:
        return []
    if project_id is None:
        project_id = store.project_for_file(project, str(plan.spec.source or plan.spec.origin))
    if base_dir is None and plan.spec.source is not None:
        base_dir = Path(plan.spec.source).parent
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

    found: dict[tuple[str, int], list[RetrievedChunk]] = {}
    empty = 0
    for index, call in enumerate(plan.calls):
        retrieval = settings.get(call.variant.name)
        if retrieval is None:
            continue
        key = (call.variant.name, call.cell.case_index)
        if key not in found:
            found[key] = _search(store, project_id, retrieval, project.user_template, call.case)
            empty += not found[key]
        plan.calls[index] = call.with_context(found[key], project.user_template)
    if empty:
        warnings.append(f"Retrieval found no passage for {empty} of {len(found)} queries; "
                        "those calls get an empty {{context}}.")
    return warnings


def _search(store: Store, project_id: int, retrieval: Retrieval, user_template: str,
            case) -> list[RetrievedChunk]:
    query = template.render(retrieval.query or user_template, template.with_context(case).vars)
    own = own_chunking(retrieval)
    chunking = chunking_key(*own) if own else None
    if retrieval.mode == "lexical":
        return retrieved(store.search_chunks(project_id, chunking, query, retrieval.k), "lexical")
    raise PlanError([f"retrieval mode '{retrieval.mode}' needs embeddings, which this version of "
                     "the lab cannot compute yet; use mode = \"lexical\"."])
