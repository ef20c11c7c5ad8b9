"""Reusable prompt blocks (chain of thought, output format, ...) from resources/snippets.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from lab.core.runtime.resources import resource_path


@dataclass(frozen=True)
class Snippet:
    name: str
    text: str


def load_snippets() -> list[Snippet]:
    data = tomllib.loads(resource_path("snippets.toml").read_text(encoding="utf-8"))
    return [Snippet(s["name"], s["text"].strip() + "\n") for s in data.get("snippets", [])]
