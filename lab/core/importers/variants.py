"""Variants from prompts × models, named from their labels, sharing one user message.

The lab's variants share the experiment's user message (`[cases] user`) and differ in system
prompt, few-shot examples, model and parameters. Prompts whose user message differs from the
first prompt's cannot be variants of the same experiment; the caller reports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lab.core.importers.messages import PromptParts
from lab.core.model import Variant


@dataclass
class Source:
    label: str
    parts: PromptParts


@dataclass
class Model:
    label: str
    model: str  # provider/model
    params: dict[str, Any] = field(default_factory=dict)


def unique(name: str, taken: set[str]) -> str:
    result, n = name, 2
    while result in taken:
        result, n = f"{name} #{n}", n + 1
    taken.add(result)
    return result


def variant(prompt: Source, model: Model, name: str) -> Variant:
    return Variant(name=name, model=model.model, system=prompt.parts.system,
                   examples=list(prompt.parts.examples), params=dict(model.params))


def name_for(prompt: Source, model: Model, many_prompts: bool, many_models: bool) -> str:
    if many_prompts and many_models:
        return f"{prompt.label} · {model.label}"
    return prompt.label if many_prompts else model.label
