"""The store's documents: files added for retrieval, their chunks per chunking, full-text (BM25)
search over chunks, chunk embeddings, and which chunks each call was given.

Mixed into `Store` (callers write `store.search_chunks(...)`); like the rest of the workspace
package it knows table names. A document is keyed by its project and source path, so adding a
file again updates it in place; its chunks are replaced keeping the ids of chunks whose text did
not change, so their embeddings and the calls that cited them stay linked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lab.core.workspace.rows import now_iso

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from sqlite_utils import Database

_CHUNK = 500  # bound parameters per statement, well under SQLite's limit
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class StoredChunk:
    id: int
    document_id: int
    document: str  # the document's name, as citations show it
    position: int
    heading: str
    text: str
    tokens: int


@dataclass(frozen=True)
class ChunkHit:
    chunk: StoredChunk
    score: float  # higher is better, whatever the method
    rank: int  # 1-based


# Words that carry no topic: matching them costs time (nearly every chunk has them) and adds
# nothing BM25 would rank by. A question keeps its content words.
STOP_WORDS = frozenset("""a about above after again against all am an and any are as at be because
been before being below between both but by can could did do does doing down during each few for
from further had has have having he her here hers herself him himself his how i if in into is it
its itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them themselves
then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves""".split())


def query_words(text: str, limit: int = 32) -> list[str]:
    """The content words of `text`, in order, without repeats; a text of nothing but stop
    words keeps them, rather than match nothing."""
    words = [w for w in _WORD.findall(text.lower()) if len(w) > 1]
    content = [w for w in words if w not in STOP_WORDS] or words
    return list(dict.fromkeys(content))[:limit]


def fts_terms(text: str | list[str], limit: int = 32) -> str:
    """An FTS5 query matching any of the words (OR), each quoted so no word is an operator."""
    words = query_words(text, limit) if isinstance(text, str) else text
    return " OR ".join(f'"{w}"' for w in words)


# A word in more than this share of the chunks says little about which chunk answers a
# question (its BM25 weight is small) and costs the most to rank (every chunk it is in must be
# scored): a query with rarer words leaves it out.
COMMON_SHARE = 0.1


class Documents:
    """Document, chunk and embedding tables; mixed into `Store`."""

    db: Database

    if TYPE_CHECKING:
        def transaction(self) -> AbstractContextManager[None]: ...  # provided by Store

    # ----- documents -----------------------------------------------------------------------

    def document_hash(self, project_id: int, source_path: str) -> str | None:
        row = self.db.execute(
            "SELECT content_hash FROM documents WHERE project_id = ? AND source_path = ?",
            [project_id, source_path]).fetchone()
        return row[0] if row else None

    def save_document(self, project_id: int, source_path: str, name: str, kind: str, text: str,
                      content_hash: str, chunking: str) -> int:
        """Insert or update the document from `source_path`; returns its id. `chunking` is the
        one retrieval uses for it unless a variant asks for another."""
        stamp = now_iso()
        with self.transaction():
            row = self.db.execute(
                "SELECT id FROM documents WHERE project_id = ? AND source_path = ?",
                [project_id, source_path]).fetchone()
            values = {"name": name, "kind": kind, "text": text, "content_hash": content_hash,
                      "chunking": chunking, "updated_at": stamp}
            if row:
                self.db["documents"].update(row[0], values)
                return row[0]
            return self.db["documents"].insert(
                {"project_id": project_id, "source_path": source_path, "created_at": stamp,
                 **values}).last_pk

    def list_documents(self, project_id: int) -> list[dict[str, Any]]:
        """The project's documents: name, kind, source path, content hash, when last indexed
        (`updated_at`), size in characters, and how many chunks it has at its own chunking."""
        return list(self.db.query(
            "SELECT d.id, d.name, d.kind, d.source_path, d.content_hash, d.chunking,"
            " d.updated_at, length(d.text) AS chars,"
            " (SELECT count(*) FROM chunks c WHERE c.document_id = d.id"
            "  AND c.chunking = d.chunking) AS chunks"
            " FROM documents d WHERE d.project_id = ? ORDER BY d.name, d.id", [project_id]))

    def delete_documents(self, document_ids: Iterable[int]) -> None:
        ids = list(document_ids)
        with self.transaction():
            for start in range(0, len(ids), _CHUNK):
                part = ids[start:start + _CHUNK]
                self.db.execute(f"DELETE FROM documents WHERE id IN ({','.join('?' * len(part))})",
                                part)

    # ----- chunks --------------------------------------------------------------------------

    def chunkings(self, document_id: int) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT chunking FROM chunks WHERE document_id = ?", [document_id])]

    def replace_chunks(self, document_id: int, chunking: str,
                       chunks: Sequence[tuple[int, str, str, int, str]]) -> tuple[int, int, int]:
        """Make the document's chunks for `chunking` exactly `chunks` (position, text, heading,
        tokens, content hash), keeping the rows of unchanged chunks. Returns (kept, added,
        removed)."""
        with self.transaction():
            existing: dict[str, list[int]] = {}
            for chunk_id, digest in self.db.execute(
                    "SELECT id, content_hash FROM chunks WHERE document_id = ? AND chunking = ?"
                    " ORDER BY position", [document_id, chunking]):
                existing.setdefault(digest, []).append(chunk_id)
            moved: list[tuple[int, int]] = []
            new: list[tuple[Any, ...]] = []
            for position, text, heading, tokens, digest in chunks:
                ids = existing.get(digest)
                if ids:
                    moved.append((position, ids.pop(0)))
                else:
                    new.append((document_id, chunking, position, text, heading, tokens, digest))
            conn = self.db.conn
            conn.executemany("UPDATE chunks SET position = ? WHERE id = ?", moved)
            conn.executemany(
                "INSERT INTO chunks (document_id, chunking, position, text, heading, tokens,"
                " content_hash) VALUES (?, ?, ?, ?, ?, ?, ?)", new)
            kept, added = len(moved), len(new)
            stale = [i for ids in existing.values() for i in ids]
            for start in range(0, len(stale), _CHUNK):
                part = stale[start:start + _CHUNK]
                self.db.execute(f"DELETE FROM chunks WHERE id IN ({','.join('?' * len(part))})",
                                part)
        return kept, added, len(stale)

    def count_chunks(self, project_id: int, chunking: str | None = None) -> int:
        return self.db.execute(
            "SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id"
            " WHERE d.project_id = ? AND c.chunking = coalesce(?, d.chunking)",
            [project_id, chunking]).fetchone()[0]

    def document_chunks(self, document_id: int) -> list[StoredChunk]:
        """A document's chunks at its own chunking, in order."""
        return [StoredChunk(*row) for row in self.db.execute(
            "SELECT c.id, c.document_id, d.name, c.position, c.heading, c.text, c.tokens"
            " FROM chunks c JOIN documents d ON d.id = c.document_id"
            " WHERE c.document_id = ? AND c.chunking = d.chunking ORDER BY c.position",
            [document_id])]

    def chunks_by_id(self, chunk_ids: Iterable[int]) -> dict[int, StoredChunk]:
        ids = list(chunk_ids)
        found: dict[int, StoredChunk] = {}
        for start in range(0, len(ids), _CHUNK):
            part = ids[start:start + _CHUNK]
            for row in self.db.execute(
                    "SELECT c.id, c.document_id, d.name, c.position, c.heading, c.text, c.tokens"
                    " FROM chunks c JOIN documents d ON d.id = c.document_id"
                    f" WHERE c.id IN ({','.join('?' * len(part))})", part):
                found[row[0]] = StoredChunk(*row)
        return found

    def search_chunks(self, project_id: int, chunking: str | None, query: str,
                      k: int) -> list[ChunkHit]:
        """The `k` chunks that best match `query` by BM25 (SQLite FTS5), best first, among the
        chunks of `chunking` (None: each document's own)."""
        words = self._rare_words(query_words(query))
        if not words or k < 1:
            return []
        terms = fts_terms(words)
        # FTS5 ranks its matches fastest alone; the best few hundred are then narrowed to this
        # project's chunks at this chunking. Only when too few survive (a workspace of many
        # projects or chunkings) is every match joined and filtered.
        rows: list[Any] = []
        for pool in (max(200, 32 * k), None):
            ranked = ("SELECT rowid, rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank"
                      + (" LIMIT ?" if pool else ""))
            rows = self.db.execute(
                "SELECT c.id, c.document_id, d.name, c.position, c.heading, c.text, c.tokens,"
                f" m.rank FROM ({ranked}) m JOIN chunks c ON c.id = m.rowid"
                " JOIN documents d ON d.id = c.document_id"
                " WHERE d.project_id = ? AND c.chunking = coalesce(?, d.chunking)"
                " ORDER BY m.rank LIMIT ?",
                [terms, *([pool] if pool else []), project_id, chunking, k]).fetchall()
            if len(rows) >= k or pool is None:
                break
        # bm25() is lower-is-better and negative; flip it so every method's score reads the same
        return [ChunkHit(StoredChunk(*row[:7]), -row[7], rank)
                for rank, row in enumerate(rows, start=1)]

    def _rare_words(self, words: list[str]) -> list[str]:
        """`words` without those in more than COMMON_SHARE of the chunks, unless none is rarer.
        Counting stops at the limit, so a common word costs a bounded scan."""
        if len(words) < 2:
            return words
        total = self.db.execute("SELECT max(id) FROM chunks").fetchone()[0] or 0
        cap = int(total * COMMON_SHARE)
        if cap < 50:
            return words  # a small library: every search is quick
        rare = [w for w in words if self.db.execute(
            "SELECT count(*) FROM (SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?"
            " LIMIT ?)", [f'"{w}"', cap]).fetchone()[0] < cap]
        return rare or words

    # ----- embeddings ----------------------------------------------------------------------

    def chunks_without_embedding(self, project_id: int, chunking: str | None,
                                 model: str) -> list[StoredChunk]:
        return [StoredChunk(*row) for row in self.db.execute(
            "SELECT c.id, c.document_id, d.name, c.position, c.heading, c.text, c.tokens"
            " FROM chunks c JOIN documents d ON d.id = c.document_id"
            " WHERE d.project_id = ? AND c.chunking = coalesce(?, d.chunking) AND NOT EXISTS (SELECT 1 FROM"
            " chunk_embeddings e WHERE e.chunk_id = c.id AND e.model = ?) ORDER BY c.id",
            [project_id, chunking, model])]

    def save_embeddings(self, model: str, vectors: Iterable[tuple[int, int, bytes]]) -> None:
        """(chunk id, dimensions, float32 vector bytes) for `model`."""
        with self.transaction():
            self.db["chunk_embeddings"].upsert_all(
                ({"chunk_id": c, "model": model, "dimensions": d, "vector": v}
                 for c, d, v in vectors), pk=("chunk_id", "model"))

    def text_embeddings(self, model: str, hashes: Iterable[str]) -> dict[str, bytes]:
        """Stored query vectors of `model` by text hash (float32 bytes)."""
        wanted = list(hashes)
        found: dict[str, bytes] = {}
        for start in range(0, len(wanted), _CHUNK):
            part = wanted[start:start + _CHUNK]
            for digest, vector in self.db.execute(
                    "SELECT text_hash, vector FROM text_embeddings WHERE model = ? AND text_hash IN"
                    f" ({','.join('?' * len(part))})", [model, *part]):
                found[digest] = vector
        return found

    def save_text_embeddings(self, model: str, vectors: Iterable[tuple[str, int, bytes]]) -> None:
        """(text hash, dimensions, float32 vector bytes) for `model`."""
        with self.transaction():
            self.db["text_embeddings"].upsert_all(
                ({"model": model, "text_hash": h, "dimensions": d, "vector": v}
                 for h, d, v in vectors), pk=("model", "text_hash"))

    # ----- what each call was given --------------------------------------------------------

    def chunks_for_call(self, call_id: int) -> list[dict[str, Any]]:
        return list(self.db.query(
            "SELECT cc.rank, cc.score, cc.method, cc.citation, c.id AS chunk_id, d.name AS"
            " document, c.position, c.heading, c.text FROM call_chunks cc"
            " JOIN chunks c ON c.id = cc.chunk_id JOIN documents d ON d.id = c.document_id"
            " WHERE cc.call_id = ? ORDER BY cc.rank", [call_id]))
