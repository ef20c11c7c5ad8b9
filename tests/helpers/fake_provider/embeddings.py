"""The fake's embeddings endpoints, in each family's wire format, with vectors that mean something.

- OpenAI-compatible `POST /v1/embeddings`: request checked against the official SDK's
  `EmbeddingCreateParams`, reply parsed with its `CreateEmbeddingResponse`.
- Gemini `POST /v1beta/models/{model}:batchEmbedContents` (one request per text, each naming
  the same model) and `:embedContent`.
- Ollama `POST /api/embed`.

A vector is a bag of words hashed into 64 buckets and normalised, so texts that share words
are close and the retrieval tests can know which chunk is nearest without a real model.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from tests.helpers.fake_provider import sdk

DIMENSIONS = 64
_WORD = re.compile(r"[a-z0-9]+")
STOP = {"the", "a", "an", "of", "to", "is", "in", "and", "or", "what", "how", "do", "does", "my",
        "i", "it", "for", "on", "with", "be", "can", "we", "you", "your", "are", "if", "now"}


def fake_vector(text: str) -> list[float]:
    vector = [0.0] * DIMENSIONS
    for word in _WORD.findall(text.lower()):
        if word in STOP:
            continue
        word = word[:-1] if word.endswith("s") and len(word) > 3 else word  # "items" ~ "item"
        bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % DIMENSIONS
        vector[bucket] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def route(method: str, path: str) -> tuple[str, str] | None:
    """(family, model) of an embeddings request, or None."""
    if method != "POST":
        return None
    if path == "/v1/embeddings":
        return "openai", ""
    m = re.fullmatch(r"/v1beta/models/([^/:]+):(batchEmbedContents|embedContent)", path)
    if m:
        return "gemini", m.group(1)
    if path == "/api/embed":
        return "ollama", ""
    return None


def _texts(family: str, model: str, path: str, body: dict) -> tuple[list[str], list[str]]:
    """(texts, problems) of a request body."""
    if family == "openai":
        problems = sdk.request_errors(
            sdk.load("openai.types.embedding_create_params").EmbeddingCreateParams, body)
        raw = body.get("input")
        texts = [raw] if isinstance(raw, str) else list(raw or [])
        if not texts or not all(isinstance(t, str) and t for t in texts):
            problems.append("input must be a non-empty list of non-empty texts")
        return texts, problems
    if family == "ollama":
        raw = body.get("input")
        texts = [raw] if isinstance(raw, str) else list(raw or [])
        problems = [] if body.get("model") and texts else ["model and input are required"]
        extra = set(body) - {"model", "input", "truncate", "options", "keep_alive", "dimensions"}
        return texts, problems + [f"unknown field {k}" for k in sorted(extra)]
    if path.endswith(":embedContent"):
        requests = [body]
    else:
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            return [], ["requests must be a non-empty list"]
        if len(requests) > 100:
            return [], ["at most 100 requests per batchEmbedContents call"]
    texts, problems = [], []
    for i, request in enumerate(requests):
        if "requests" in body and request.get("model") != f"models/{model}":
            problems.append(f"requests[{i}].model must be models/{model}")
        parts = (request.get("content") or {}).get("parts") or []
        texts.append("".join(p.get("text", "") for p in parts))
        task = request.get("taskType")
        if task is not None and task not in {"RETRIEVAL_QUERY", "RETRIEVAL_DOCUMENT",
                                             "SEMANTIC_SIMILARITY", "CLASSIFICATION", "CLUSTERING"}:
            problems.append(f"requests[{i}].taskType {task!r} is not a task type")
    return texts, problems


def answer(family: str, model: str, path: str, body: dict) -> tuple[int, dict[str, Any], list[str]]:
    """(status, payload, problems): the reply in the family's shape, or the problems found."""
    texts, problems = _texts(family, model, path, body)
    if problems:
        return 400, {}, problems
    vectors = [fake_vector(t) for t in texts]
    tokens = sum(max(1, len(t) // 4) for t in texts)
    if family == "openai":
        return 200, {"object": "list", "model": body["model"],
                     "data": [{"object": "embedding", "index": i, "embedding": v}
                              for i, v in enumerate(vectors)],
                     "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}, []
    if family == "ollama":
        return 200, {"model": body["model"], "embeddings": vectors, "total_duration": 1000,
                     "load_duration": 10, "prompt_eval_count": tokens}, []
    if path.endswith(":embedContent"):
        return 200, {"embedding": {"values": vectors[0]}}, []
    return 200, {"embeddings": [{"values": v} for v in vectors]}, []


def reply_errors(family: str, data: bytes) -> list[str]:
    """What an official client could not read in a reply the fake sent (OpenAI only)."""
    if family != "openai":
        return []
    return sdk.response_errors(sdk.load("openai.types").CreateEmbeddingResponse, data)
