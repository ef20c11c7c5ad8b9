"""The retrieval parts of an experiment file: `[[documents]]` tables and a variant's `retrieval`.

    [[documents]]
    path = "policies/"          # a file, folder or glob, relative to the experiment file
    chunk_size = 400            # tokens per chunk (default 400)
    chunk_overlap = 50          # tokens repeated between neighbouring chunks (default 50)

    [[variants]]
    retrieval = { mode = "lexical", k = 4, query = "{{question}}" }

`mode` is "off", "lexical" (SQLite FTS5 BM25, the default), "embeddings" (needs
`embedding_model = "provider/model"`) or "hybrid" (both, fused by reciprocal rank). A variant
may set its own `chunk_size`/`chunk_overlap`, so "same prompt, other chunking" is an A/B too.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from lab.core.experiment.reader import TableReader
from lab.core.model import DocumentSource, Retrieval

DOCUMENT_KEYS = {"path", "chunk_size", "chunk_overlap"}
RETRIEVAL_KEYS = {"mode", "k", "query", "embedding_model", "chunk_size", "chunk_overlap"}
MODES = ("off", "lexical", "embeddings", "hybrid")
_DEFAULTS = Retrieval()
_SOURCE_DEFAULTS = DocumentSource(path="")


def _whole(reader: TableReader, table: dict[str, Any], key: str, where: str, low: int,
           default: int | None) -> int | None:
    value = table.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise reader.fail(f"{where}.{key}", f"must be a whole number of at least {low}, "
                                            f"not {value!r}")
    return value


def _sizes(reader: TableReader, size: int | None, overlap: int | None, where: str) -> None:
    if size is not None and overlap is not None and overlap >= size // 2:
        raise reader.fail(f"{where}.chunk_overlap", f"must be less than half of chunk_size "
                                                    f"({size}), not {overlap}")


def read_documents(reader: TableReader, raw: Any) -> list[DocumentSource]:
    if not isinstance(raw, list):
        raise reader.fail("documents", 'must be written as [[documents]] tables with a path')
    sources = []
    for index, table in enumerate(raw, start=1):
        where = f"documents[{index}]"
        if not isinstance(table, dict):
            raise reader.fail(where, 'must be a table such as { path = "docs/" }')
        reader.check_keys(table, DOCUMENT_KEYS, where)
        size = _whole(reader, table, "chunk_size", where, 20, _SOURCE_DEFAULTS.chunk_size)
        overlap = _whole(reader, table, "chunk_overlap", where, 0, _SOURCE_DEFAULTS.chunk_overlap)
        _sizes(reader, size, overlap, where)
        sources.append(DocumentSource(reader.text(table, "path", where), size, overlap))
    return sources


def read_retrieval(reader: TableReader, raw: Any, where: str) -> Retrieval:
    where = f"{where}.retrieval"
    if not isinstance(raw, dict):
        raise reader.fail(where, 'must be a table such as { mode = "lexical", k = 4 }')
    reader.check_keys(raw, RETRIEVAL_KEYS, where)
    mode = reader.text(raw, "mode", where, default=_DEFAULTS.mode)
    if mode not in MODES:
        raise reader.fail(f"{where}.mode", f"'{mode}' is not one of {', '.join(MODES)}")
    embedding_model = reader.text(raw, "embedding_model", where, default="")
    if mode in ("embeddings", "hybrid") and "/" not in embedding_model:
        raise reader.fail(f"{where}.embedding_model", f"mode '{mode}' needs an embedding model "
                                                      'as provider/model, e.g. '
                                                      '"openai/text-embedding-3-small"')
    size = _whole(reader, raw, "chunk_size", where, 20, None)
    overlap = _whole(reader, raw, "chunk_overlap", where, 0, None)
    _sizes(reader, size, overlap, where)
    return Retrieval(mode=mode, k=_whole(reader, raw, "k", where, 1, _DEFAULTS.k) or 1,
                     query=reader.text(raw, "query", where, default=""),
                     embedding_model=embedding_model, chunk_size=size, chunk_overlap=overlap)


def documents_data(sources: list[DocumentSource]) -> list[dict[str, Any]]:
    """`[[documents]]` tables, leaving out what is the default."""
    tables = []
    for source in sources:
        table: dict[str, Any] = {"path": source.path}
        if source.chunk_size != _SOURCE_DEFAULTS.chunk_size:
            table["chunk_size"] = source.chunk_size
        if source.chunk_overlap != _SOURCE_DEFAULTS.chunk_overlap:
            table["chunk_overlap"] = source.chunk_overlap
        tables.append(table)
    return tables


def retrieval_data(retrieval: Retrieval) -> dict[str, Any]:
    """A variant's `retrieval = {...}`: the mode always, other keys only when not the default."""
    defaults = asdict(_DEFAULTS)
    return {"mode": retrieval.mode, **{k: v for k, v in asdict(retrieval).items()
                                        if k != "mode" and v is not None and v != defaults[k]}}
