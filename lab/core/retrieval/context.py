"""What the model is shown: the retrieved chunks as one `{{context}}` text, each labelled with the
citation id a `citations` check later looks for, e.g. `[policy.md#3]`."""

from __future__ import annotations

import re
from collections.abc import Iterable

from lab.core.model import RetrievedChunk
from lab.core.workspace.documents import ChunkHit

CITATION = re.compile(r"\[([^\[\]\n]+?#\d+)\]")


def citation_of(document: str, position: int) -> str:
    return f"{document}#{position}"


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


def cited(text: str) -> list[str]:
    """Citation ids an output names, in order, without repeats: "[faq.md#2]" -> "faq.md#2"."""
    found: list[str] = []
    for match in CITATION.finditer(text):
        if match.group(1) not in found:
            found.append(match.group(1))
    return found
