"""Failure modes: what goes wrong, per variant, and whether it is missing knowledge or behaviour.

Two sources, each counted per variant with the call ids behind every count: the tags people put
on outputs (the failure modes they saw) and the checks outputs failed.

The decision needs to know *what kind* of failure dominates. A model that invents facts or lacks
information needs the information (retrieval), not a tune; a model that gets format, tone,
length or style wrong is what prompting and, failing that, fine-tuning fix. A tag or a check's
name is **knowledge-type** when it contains one of `KNOWLEDGE_WORDS` (matched case-insensitively,
as words or phrases: "hallucination", "hallucinated", "wrong fact", "made up", ...), otherwise
**behaviour-type**. The vocabulary can be replaced: pass ``knowledge_words`` to the analysis
(`AnalysisOptions.knowledge_words`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from lab.core.analysis.links import Link

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store


# Words that mark a failure as missing or wrong knowledge, not behaviour. Matched at the start of
# a word, so "hallucinat" covers hallucination, hallucinated and hallucinates.
KNOWLEDGE_WORDS: tuple[str, ...] = (
    "hallucinat", "wrong fact", "factual", "incorrect fact", "made up", "made-up", "invented",
    "fabricat", "missing info", "missing information", "lacks info", "outdated", "out of date",
    "not in source", "not in the source", "unsupported claim", "wrong answer", "inaccura",
    "knowledge", "unknown fact", "citation",
)
Kind = Literal["knowledge", "behaviour"]


def classify(name: str, knowledge_words: Sequence[str] = KNOWLEDGE_WORDS) -> Kind:
    """"knowledge" when the name holds a knowledge word (case-insensitive), else "behaviour"."""
    text = " ".join(name.replace("_", " ").replace("-", " ").split()).casefold()
    for word in knowledge_words:
        w = " ".join(word.replace("_", " ").replace("-", " ").split()).casefold()
        if re.search(r"(?<![a-z0-9])" + re.escape(w), text):
            return "knowledge"
    return "behaviour"


@dataclass(frozen=True)
class FailureMode:
    source: Literal["tag", "check"]
    name: str
    kind: Kind
    count: int  # outputs
    share: float  # of the variant's successful outputs
    link: Link


@dataclass(frozen=True)
class VariantFailures:
    variant: str
    outputs: int  # successful outputs
    modes: list[FailureMode]  # most frequent first, tags and checks together

    @property
    def tags(self) -> list[FailureMode]:
        return [m for m in self.modes if m.source == "tag"]

    @property
    def checks(self) -> list[FailureMode]:
        return [m for m in self.modes if m.source == "check"]


def failure_modes(store: Store, order: Iterable[str], outputs: dict[str, int],
                  check_names: Sequence[str],
                  knowledge_words: Sequence[str] = KNOWLEDGE_WORDS) -> list[VariantFailures]:
    """Tags and failed checks per variant; ``outputs``: successful outputs per variant."""
    found: dict[str, list[FailureMode]] = {}
    rows = [("tag", *r) for r in store.scope_tags()] + \
           [("check", *r) for r in store.scope_failed_checks(check_names)]
    for source, variant, name, ids in rows:
        total = outputs.get(variant, 0)
        what = f"outputs of {variant} tagged {name}" if source == "tag" else \
            f"outputs of {variant} that failed {name}"
        found.setdefault(variant, []).append(FailureMode(
            source, name, classify(name, knowledge_words), len(ids),
            len(ids) / total if total else 0.0, Link.calls(ids, what)))
    return [VariantFailures(v, outputs.get(v, 0),
                            sorted(found.get(v, []), key=lambda m: (-m.count, m.source, m.name)))
            for v in order]
