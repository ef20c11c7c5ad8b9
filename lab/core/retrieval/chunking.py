"""Cutting a document's blocks into chunks of about `size` tokens that overlap by `overlap`.

A chunk never spans two sections: a heading starts a new chunk (and is its first line), so a
retrieved passage reads as part of one section, and its heading path travels with it. Inside a
section, paragraphs are packed whole while they fit; a paragraph too long for one chunk is cut
at sentence ends, and a sentence too long at word boundaries. Records (CSV/JSONL rows) are one
chunk each. The next chunk repeats the last sentences of the one before, up to `overlap`
tokens, so an answer that straddles a cut is still found in one piece. Sizes use the lab's
offline token estimate, the one the pre-flight shows.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from collections.abc import Iterable
from dataclasses import dataclass

from lab.core.experiment.template import estimate_tokens as _estimate
from lab.core.retrieval.reading import Block

DEFAULT_SIZE = 400
DEFAULT_OVERLAP = 50
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+")


@dataclass(frozen=True)
class Chunk:
    position: int  # 1-based within the document: the N of a citation [name#N]
    text: str
    heading: str  # the section path, "Refunds > Damaged items"; "" before any heading
    tokens: int

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(f"{self.heading}\n{self.text}".encode()).hexdigest()


def check_sizes(size: int, overlap: int) -> None:
    if not isinstance(size, int) or size < 20:
        raise ValueError(f"chunk_size must be a whole number of at least 20 tokens, not {size!r}")
    if not isinstance(overlap, int) or not 0 <= overlap < size // 2:
        raise ValueError(f"chunk_overlap must be between 0 and half of chunk_size ({size // 2 - 1}"
                         f" here), not {overlap!r}")


def _pieces(text: str, size: int, estimate_tokens=_estimate) -> list[str]:
    """Sentences of `text`; any sentence over `size` tokens cut at word boundaries."""
    out = []
    for sentence in (s.strip() for s in _SENTENCE_END.split(text)):
        if not sentence:
            continue
        if estimate_tokens(sentence) <= size:
            out.append(sentence)
            continue
        words, current = sentence.split(), []
        for word in words:
            if current and estimate_tokens(" ".join(current + [word])) > size:
                out.append(" ".join(current))
                current = []
            current.append(word)
        if current:
            out.append(" ".join(current))
    return out


def _sections(blocks: Iterable[Block]) -> list[tuple[str, list[Block]]]:
    """Blocks grouped by section: a heading (or a record) starts a new group."""
    sections: list[tuple[str, list[Block]]] = []
    for block in blocks:
        heading = " > ".join(block.headings)
        if block.kind in ("heading", "record") or not sections or sections[-1][0] != heading:
            sections.append((heading, []))
        sections[-1][1].append(block)
    return sections


def chunk_blocks(blocks: Iterable[Block], size: int = DEFAULT_SIZE,
                 overlap: int = DEFAULT_OVERLAP) -> list[Chunk]:
    check_sizes(size, overlap)
    chunks: list[Chunk] = []
    # Every paragraph and sentence is measured more than once (packing, then the overlap):
    # measure each text once.
    estimate_tokens = lru_cache(maxsize=4096)(_estimate)

    def emit(heading: str, parts: list[str]) -> None:
        text = "\n\n".join(parts).strip()
        if text:
            chunks.append(Chunk(len(chunks) + 1, text, heading, estimate_tokens(text)))

    for heading, section in _sections(blocks):
        parts: list[str] = []  # paragraphs (or sentences of a long one) of the chunk being built
        used = 0
        for block in section:
            cost = estimate_tokens(block.text)
            units = [block.text] if cost <= size else _pieces(block.text, size, estimate_tokens)
            for i, unit in enumerate(units):
                unit_tokens = estimate_tokens(unit)
                if parts and used + unit_tokens > size:
                    emit(heading, parts)
                    parts = _tail(parts, overlap, estimate_tokens)
                    used = sum(estimate_tokens(p) for p in parts)
                if i and parts:  # the next sentence of the same paragraph: same line
                    parts[-1] = f"{parts[-1]} {unit}"
                else:
                    parts.append(unit)
                used += unit_tokens
        emit(heading, parts)
    return chunks


def _tail(parts: list[str], overlap: int, estimate_tokens=_estimate) -> list[str]:
    """The last sentences of a chunk, up to `overlap` tokens, to begin the next one with."""
    if overlap <= 0:
        return []
    sentences = _pieces("\n".join(parts), overlap, estimate_tokens)
    kept: list[str] = []
    used = 0
    for sentence in reversed(sentences):
        cost = estimate_tokens(sentence)
        if used + cost > overlap:
            break
        kept.insert(0, sentence)
        used += cost
    return [" ".join(kept)] if kept else []
