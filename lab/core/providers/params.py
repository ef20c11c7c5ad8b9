"""The documented range of each generation parameter, per API family, checked before a run.

A value outside its range is refused by the provider with a 400 on every call; finding it in
pre-flight names the field once instead. Ranges are the providers' published ones (OpenAI Chat
Completions, Anthropic Messages, Gemini generationConfig, Ollama options); a parameter a family
does not document here goes through unchecked, so server-specific knobs still work.
"""

from __future__ import annotations

import math
from typing import Any

INF = math.inf

# name -> (lowest, highest) inclusive; the API family's documentation is the source.
_TOKENS = (1, INF)
RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "openai": {
        "temperature": (0, 2), "top_p": (0, 1), "presence_penalty": (-2, 2),
        "frequency_penalty": (-2, 2), "max_tokens": _TOKENS, "max_completion_tokens": _TOKENS,
    },
    "anthropic": {"temperature": (0, 1), "top_p": (0, 1), "top_k": (0, INF), "max_tokens": _TOKENS},
    "gemini": {"temperature": (0, 2), "top_p": (0, 1), "top_k": (1, INF), "max_tokens": _TOKENS},
    "ollama": {"temperature": (0, INF), "top_p": (0, 1), "top_k": (1, INF), "max_tokens": _TOKENS},
}
FAMILY_NAMES = {"openai": "OpenAI", "anthropic": "Anthropic", "gemini": "Gemini",
                "ollama": "Ollama"}


def _shown(bound: float) -> str:
    return f"{bound:g}"


def out_of_range(kind: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(parameter, message) for each value outside the family's documented range."""
    problems = []
    for name, (low, high) in RANGES.get(kind, {}).items():
        value = params.get(name)
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue  # absent, or a wrong type the experiment file reports itself
        if low <= value <= high:
            continue
        family = FAMILY_NAMES.get(kind, kind)
        if high == INF:
            allowed = f"at least {_shown(low)}"
        else:
            allowed = f"between {_shown(low)} and {_shown(high)}"
        problems.append((name, f"{name} must be {allowed} for the {family} API (its documented "
                               f"range), not {value:g}."))
    return problems
