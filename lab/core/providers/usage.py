"""Token counts from each provider's own usage shape, in the lab's one `Usage` shape.

The rules (reference, section 8) in one place:
- input_tokens is the whole prompt, cached part included; cached_tokens is the part read from a
  prompt cache (billed at the cache price).
- output_tokens includes reasoning/thinking tokens, which are billed as output.
- Anthropic reports uncached input, cache writes and cache reads separately; their sum is the
  prompt. Cache writes have their own prices: `cache_creation.ephemeral_1h_input_tokens` is the
  part written for one hour (priced above the default five-minute writes).
- No usage at all (Ollama's /v1 stream has no usage chunk) is unknown (`Usage.unknown()`), not 0.
- OpenAI reports cache writes (billed on GPT-5.6 and later) as
  `prompt_tokens_details.cache_write_tokens`, inside `prompt_tokens` like cached tokens.
- Anthropic's thinking is inside `output_tokens`; recent API versions break it out as
  `output_tokens_details.thinking_tokens` (the lab's reasoning tokens).
- Gemini bills the results of its built-in tools (Google Search) as prompt tokens but reports them
  apart from `promptTokenCount`, as `toolUsePromptTokenCount`: they are input here, so input +
  output is the API's own `totalTokenCount`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.core.model import Usage


@dataclass
class TokenCounts:
    usage: Usage
    cache_write_tokens: int = 0  # the same as usage.cache_write_tokens (kept for older callers)


def _int(data: Any, *path: str) -> int:
    for key in path:
        if not isinstance(data, dict):
            return 0
        data = data.get(key)
    try:
        return int(data or 0)
    except (TypeError, ValueError):
        return 0


def normalise(kind: str, raw: dict[str, Any]) -> TokenCounts:
    if not raw:  # nothing reported: unknown, not zero
        return TokenCounts(Usage.unknown(), cache_write_tokens=0)
    if kind == "anthropic":
        uncached = _int(raw, "input_tokens")
        written = _int(raw, "cache_creation_input_tokens")
        read = _int(raw, "cache_read_input_tokens")
        # Older responses have no split: every write is a five-minute one (the default life).
        written_1h = min(_int(raw, "cache_creation", "ephemeral_1h_input_tokens"), written)
        return TokenCounts(
            Usage(
                input_tokens=uncached + written + read,
                output_tokens=_int(raw, "output_tokens"),
                cached_tokens=read,
                reasoning_tokens=_int(raw, "output_tokens_details", "thinking_tokens"),
                cache_write_tokens=written,
                cache_write_1h_tokens=written_1h,
            ),
            cache_write_tokens=written,
        )
    if kind == "gemini":
        thoughts = _int(raw, "thoughtsTokenCount")
        return TokenCounts(
            Usage(
                input_tokens=_int(raw, "promptTokenCount") + _int(raw, "toolUsePromptTokenCount"),
                output_tokens=_int(raw, "candidatesTokenCount") + thoughts,
                cached_tokens=_int(raw, "cachedContentTokenCount"),
                reasoning_tokens=thoughts,
            )
        )
    if kind == "ollama":
        return TokenCounts(
            Usage(input_tokens=_int(raw, "prompt_eval_count"), output_tokens=_int(raw, "eval_count"))
        )
    # OpenAI Chat Completions and every compatible server.
    written = _int(raw, "prompt_tokens_details", "cache_write_tokens")
    return TokenCounts(
        Usage(
            input_tokens=_int(raw, "prompt_tokens"),
            output_tokens=_int(raw, "completion_tokens"),
            cached_tokens=_int(raw, "prompt_tokens_details", "cached_tokens"),
            reasoning_tokens=_int(raw, "completion_tokens_details", "reasoning_tokens"),
            cache_write_tokens=written,
        ),
        cache_write_tokens=written,
    )
