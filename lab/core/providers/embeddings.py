"""Embeddings from the providers' own endpoints, in each family's wire format.

- OpenAI and every compatible server: `POST {base}/embeddings` with `{"model", "input": [...],
  "encoding_format": "float"}`; the vectors come back in `data[].embedding` by `index`, usage
  in `usage.prompt_tokens`.
- Gemini: `POST {base}/models/{model}:batchEmbedContents` with one request per text, each with
  its `taskType` (RETRIEVAL_DOCUMENT for chunks, RETRIEVAL_QUERY for queries); vectors in
  `embeddings[].values`. No usage is reported: tokens are unknown, not 0.
- Ollama: `POST {base}/api/embed` with `{"model", "input": [...]}`; vectors in `embeddings`,
  tokens in `prompt_eval_count`.
- Anthropic has no embeddings endpoint: asking is a clear error naming what to use instead.

The client (`ProviderClient.embed`) sends these with the shared retries and limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from lab.core.model import Usage
from lab.core.providers.base import ProviderConfig

Task = Literal["document", "query"]
_GEMINI_TASK = {"document": "RETRIEVAL_DOCUMENT", "query": "RETRIEVAL_QUERY"}


class NoEmbeddings(ValueError):
    """The provider's API has no embeddings endpoint."""


@dataclass
class EmbeddingCall:
    """One embeddings call as it ended: vectors, usage (None: not reported) and cost (None:
    unknown), how long it took and the body sent, for the log."""

    vectors: list[list[float]]
    usage: Usage | None
    raw_usage: dict[str, Any] | None
    cost_usd: float | None
    latency_ms: float
    request_body: dict[str, Any]
    retries: int = 0


@dataclass
class Embedded:
    vectors: list[list[float]]  # one per input text, in order
    usage: Usage | None  # None: the provider did not say
    raw_usage: dict[str, Any] | None


def embeddings_request(config: ProviderConfig, model: str, texts: list[str],
                       task: Task) -> tuple[str, dict[str, Any]]:
    """(url, body) of one embeddings call for `texts`."""
    if config.kind == "gemini":
        name = model if model.startswith("models/") else f"models/{model}"
        url = f"{config.base_url}/{quote(name, safe='/')}:batchEmbedContents"
        return url, {"requests": [{"model": name, "content": {"parts": [{"text": t}]},
                                   "taskType": _GEMINI_TASK[task]} for t in texts]}
    if config.kind == "ollama":
        return f"{config.base_url}/api/embed", {"model": model, "input": texts}
    if config.kind == "openai":
        return f"{config.base_url}/embeddings", {"model": model, "input": texts,
                                                 "encoding_format": "float"}
    raise NoEmbeddings(
        f"{config.name}: the {config.kind} API has no embeddings endpoint; use an embedding model "
        "of an OpenAI-compatible, Gemini or Ollama provider (e.g. openai/text-embedding-3-small).")


def parse_embeddings(kind: str, data: Any, count: int) -> Embedded:
    """The vectors and usage of a reply; ValueError when its shape is not what the API sends."""
    if kind == "gemini":
        vectors = [list(map(float, e["values"])) for e in data["embeddings"]]
        embedded = Embedded(vectors, None, None)
    elif kind == "ollama":
        vectors = [list(map(float, v)) for v in data["embeddings"]]
        tokens = data.get("prompt_eval_count")
        embedded = Embedded(vectors, Usage(input_tokens=int(tokens)) if tokens is not None else None,
                            {"prompt_eval_count": tokens} if tokens is not None else None)
    else:
        rows = sorted(data["data"], key=lambda row: row["index"])
        vectors = [list(map(float, row["embedding"])) for row in rows]
        usage = data.get("usage") or None
        tokens = usage.get("prompt_tokens") if usage else None
        embedded = Embedded(vectors, Usage(input_tokens=int(tokens)) if tokens is not None else None,
                            usage)
    if len(embedded.vectors) != count:
        raise ValueError(f"{len(embedded.vectors)} vectors for {count} texts")
    if len({len(v) for v in embedded.vectors}) > 1:
        raise ValueError("vectors of different lengths in one reply")
    return embedded
