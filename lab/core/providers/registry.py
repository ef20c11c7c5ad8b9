"""Which module speaks which API family. Adding a family means one module and one line here."""

from __future__ import annotations

from types import ModuleType
from typing import cast

from lab.core.providers import anthropic, gemini, ollama, openai_chat
from lab.core.providers.base import KINDS, Family

FAMILIES: dict[str, ModuleType] = {
    "openai": openai_chat,
    "anthropic": anthropic,
    "gemini": gemini,
    "ollama": ollama,
}

assert set(FAMILIES) == set(KINDS)


def family_for(kind: str) -> Family:
    try:
        return cast(Family, FAMILIES[kind])
    except KeyError:
        raise ValueError(f"unknown provider kind {kind!r}; use one of {', '.join(KINDS)}") from None
