"""Which prompting techniques the variants tried, read from the variants themselves.

The founding rule is "prompt first": before a fine-tune, the usual techniques should have been
tried. Each is recognised from what a variant holds:

* **few-shot examples**: the variant has enabled examples;
* **chain of thought**: the system prompt holds the lab's "Chain of thought" snippet
  (`resources/snippets.toml`) or step-by-step phrasing ("step by step", "think through",
  "reason before answering", "show your reasoning", ...);
* **output format**: a ``response_format`` parameter (JSON mode or a JSON schema), or explicit
  format instructions in the system prompt (JSON, a schema, exact keys, XML, YAML, CSV, a
  bulleted list, a given format or template);
* **retrieval** (context retrieved per case; a variant's ``retrieval`` with a mode other than
  "off") and **chaining** (a variant of several ``steps``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lab.core.experiment.snippets import load_snippets
from lab.core.model import Variant

_COT = re.compile(
    r"step[- ]by[- ]step|think (it |this )?through|chain[- ]of[- ]thought|let'?s think|"
    r"reason(ing)? (first|before|carefully)|show (your )?(work|reasoning)|"
    r"explain your reasoning|work (it )?out (the|your) reasoning", re.IGNORECASE)
_FORMAT = re.compile(
    r"\bjson\b|\bschema\b|\bxml\b|\byaml\b|\bcsv\b|exactly these keys|bullet(ed)?[- ]?(points?|"
    r"list)|numbered list|markdown table|(in|use|following|this) (the )?(following )?format|"
    r"\btemplate\b|output format|reply format|respond (only )?with (a|one|the)", re.IGNORECASE)


@dataclass(frozen=True)
class Technique:
    key: str  # few_shot, chain_of_thought, output_format, retrieval, chaining
    name: str
    variants: tuple[str, ...]  # the variants that use it
    available: bool = True  # False: this version of the lab cannot express it yet
    evidence: dict[str, str] = field(default_factory=dict)  # variant -> what shows it

    @property
    def tried(self) -> bool:
        return bool(self.variants)


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()


@lru_cache(maxsize=1)
def _cot_snippets() -> tuple[str, ...]:
    try:
        return tuple(_squash(s.text) for s in load_snippets() if "thought" in s.name.casefold())
    except (OSError, KeyError, ValueError):
        return ()


def _few_shot(v: Variant, raw: Mapping[str, Any]) -> str | None:
    n = len(v.enabled_examples())
    return f"{n} enabled example{'s' if n != 1 else ''}" if n else None


def _chain_of_thought(v: Variant, raw: Mapping[str, Any]) -> str | None:
    system = _squash(v.system)
    if any(snippet and snippet in system for snippet in _cot_snippets()):
        return "the Chain of thought snippet in the system prompt"
    found = _COT.search(v.system)
    return f"“{found.group(0)}” in the system prompt" if found else None


def _output_format(v: Variant, raw: Mapping[str, Any]) -> str | None:
    fmt = v.params.get("response_format")
    if fmt:
        kind = fmt.get("type") if isinstance(fmt, dict) else fmt
        return f"response_format {kind}"
    found = _FORMAT.search(v.system)
    return f"“{found.group(0)}” in the system prompt" if found else None


def _attribute(v: Variant, raw: Mapping[str, Any], name: str) -> Any:
    value = getattr(v, name, None)
    return value if value not in (None, "", [], {}) else raw.get(name)


def _retrieval(v: Variant, raw: Mapping[str, Any]) -> str | None:
    value = _attribute(v, raw, "retrieval")
    mode = value.get("mode", "lexical") if isinstance(value, Mapping) else getattr(value, "mode", None)
    if not value or mode == "off":
        return None
    return f"{mode} retrieval of context per case"


def _chaining(v: Variant, raw: Mapping[str, Any]) -> str | None:
    steps = _attribute(v, raw, "steps")
    if isinstance(steps, (list, tuple)) and len(steps) > 1:
        return f"{len(steps)} steps"
    return None


_DETECTORS = (
    ("few_shot", "few-shot examples", _few_shot, True),
    ("chain_of_thought", "chain of thought", _chain_of_thought, True),
    ("output_format", "output format", _output_format, True),
    ("retrieval", "retrieval of context", _retrieval, hasattr(Variant, "retrieval")
     or "retrieval" in getattr(Variant, "__dataclass_fields__", {})),
    ("chaining", "prompt chaining", _chaining, hasattr(Variant, "steps")
     or "steps" in getattr(Variant, "__dataclass_fields__", {})),
)


def techniques(variants: Iterable[Variant], raw: Mapping[str, Mapping[str, Any]] | None = None
               ) -> list[Technique]:
    """Every technique, with the variants that tried it. ``raw``: the variants' stored
    definitions by name (fields a newer lab adds are read from there too)."""
    variants = list(variants)
    raw = raw or {}
    out = []
    for key, name, detect, available in _DETECTORS:
        evidence = {}
        for v in variants:
            why = detect(v, raw.get(v.name, {}))
            if why:
                evidence[v.name] = why
        out.append(Technique(key, name, tuple(evidence), available or bool(evidence), evidence))
    return out
