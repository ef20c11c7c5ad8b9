"""Nearest chunks by embedding, searched inside SQLite with the sqlite-vec extension.

Vectors are stored in the workspace as float32 blobs (`chunk_embeddings`, `text_embeddings`);
the search runs sqlite-vec's `vec_distance_cosine` over them in SQL, so ranking happens in the
extension's C code next to the data rather than in Python. Loading an extension needs a SQLite
binding that allows it: Python's own `sqlite3` where it was built with extension loading, else
`apsw`. Both `sqlite-vec` and `apsw` come with the `vectors` extra; without them, asking for
embeddings retrieval is a clear message saying what to install.
"""

from __future__ import annotations

import hashlib
import sqlite3
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lab.core.workspace.documents import ChunkHit, StoredChunk

INSTALL_HINT = "pip install 'prompt-lab[vectors]'"


class VectorsUnavailable(RuntimeError):
    """No way to load the sqlite-vec extension here; the message says what to install."""


def to_blob(vector: Sequence[float]) -> bytes:
    return array("f", vector).tobytes()


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _connect(path: Path) -> Any:
    """A read connection to the workspace with sqlite-vec loaded."""
    try:
        import sqlite_vec
    except ImportError:
        raise VectorsUnavailable(f"embeddings retrieval needs the sqlite-vec extension: "
                                 f"{INSTALL_HINT}") from None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    if hasattr(conn, "enable_load_extension"):
        conn.enable_load_extension(True)
        conn.load_extension(sqlite_vec.loadable_path())
        conn.enable_load_extension(False)
        return conn
    conn.close()
    try:  # this Python's sqlite3 cannot load extensions; apsw can
        import apsw
    except ImportError:
        raise VectorsUnavailable("this Python's sqlite3 cannot load extensions; embeddings "
                                 f"retrieval needs apsw as well: {INSTALL_HINT}") from None
    conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
    conn.enable_load_extension(True)
    conn.load_extension(sqlite_vec.loadable_path())
    conn.enable_load_extension(False)
    return conn


def available() -> str | None:
    """None when embeddings retrieval can run here, else why not (with what to install)."""
    try:
        conn = _connect(Path(":memory:"))
    except VectorsUnavailable as exc:
        return str(exc)
    except Exception:  # noqa: BLE001 - ":memory:" in read-only mode may refuse; loading worked
        return None
    conn.close()
    return None


def nearest(path: Path, project_id: int, chunking: str | None, model: str,
            query: Sequence[float], k: int) -> list[ChunkHit]:
    """The `k` chunks whose `model` embedding is closest to `query` (cosine), best first."""
    conn = _connect(path)
    try:
        rows = list(conn.execute(
            "SELECT c.id, c.document_id, d.name, c.position, c.heading, c.text, c.tokens,"
            " vec_distance_cosine(e.vector, ?) AS distance"
            " FROM chunk_embeddings e JOIN chunks c ON c.id = e.chunk_id"
            " JOIN documents d ON d.id = c.document_id"
            " WHERE d.project_id = ? AND c.chunking = coalesce(?, d.chunking) AND e.model = ?"
            " AND e.dimensions = ? ORDER BY distance LIMIT ?",
            (to_blob(query), project_id, chunking, model, len(query), k)))
    finally:
        conn.close()
    return [ChunkHit(StoredChunk(*row[:7]), 1.0 - row[7], rank)
            for rank, row in enumerate(rows, start=1)]


def fuse(rankings: Sequence[Sequence[ChunkHit]], k: int, constant: int = 60) -> list[ChunkHit]:
    """Reciprocal rank fusion (Cormack, Clarke & Büttcher 2009): score = Σ 1 / (60 + rank)
    over the rankings a chunk appears in; best `k`, ranked anew."""
    scores: dict[int, float] = {}
    chunks: dict[int, StoredChunk] = {}
    for ranking in rankings:
        for hit in ranking:
            scores[hit.chunk.id] = scores.get(hit.chunk.id, 0.0) + 1.0 / (constant + hit.rank)
            chunks[hit.chunk.id] = hit.chunk
    best = sorted(scores, key=lambda cid: (-scores[cid], cid))[:k]
    return [ChunkHit(chunks[cid], scores[cid], rank) for rank, cid in enumerate(best, start=1)]
