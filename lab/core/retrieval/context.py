"""What the model is shown: the retrieved chunks as one `{{context}}` text, each labelled with the
citation id a `citations` check later looks for, e.g. `[policy.md#3]` (the format is the
checks' own: `lab.core.checks.citations`)."""

from __future__ import annotations

from collections.abc import Iterable

from lab.core.checks.citations import citation_of
from lab.core.model import RetrievedChunk
from lab.core.workspace.documents import ChunkHit


def retrieved(hits: Iterable[ChunkHit], method: str) -> list[RetrievedChunk]:
    return [RetrievedChunk(h.chunk.id, citation_of(h.chunk.document, h.chunk.position),
                           h.chunk.heading, h.chunk.text, h.score, h.rank, method) for h in hits]


def context_text(chunks: Iterable[RetrievedChunk]) -> str:
    """The passages in rank order, each under its citation id and section heading."""
    parts = []
    for chunk in chunks:
        label = f"[{chunk.citation}]" + (f" {chunk.heading}" if chunk.heading else "")
        parts.append(f"{label}\n{chunk.text}")
    return "\n\n".join(parts)
