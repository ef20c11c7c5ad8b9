"""Evals samples (openai/evals `samples.jsonl`: `input` as a chat message list or a string, `ideal`
as a string or a list) as the lab's variants and test cases.

The lab's variants share one user message, so the samples' last user turns become the test
cases' `input` column (the user message is `{{input}}`); a system prompt that is the same in every
sample is the variant's system prompt, and one that differs goes to a `system` column
(the system prompt reads `{{system}}`); earlier turns are few-shot pairs, in columns when they
differ. A sample whose conversation has another shape than the first sample's is reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lab.core.importers.messages import NotAPrompt, PromptParts, split_messages
from lab.core.importers.report import ImportReport
from lab.core.model import Example, TestCase


@dataclass
class Samples:
    parts: PromptParts  # the variant's system prompt and examples (maybe templated)
    cases: list[TestCase] = field(default_factory=list)
    ideals: list[list[str] | None] = field(default_factory=list)  # per case


def read_samples(rows: list[tuple[str, Any]], report: ImportReport) -> Samples:
    """`rows`: (where, sample). Cases get `input`, and `system`/`example_N_*` when those differ."""
    converted: list[tuple[str, Any, PromptParts, list[str] | None]] = []
    for where, sample in rows:
        if not isinstance(sample, dict) or "input" not in sample:
            report.skip(where, "sample", "a sample is an object with 'input'", sample)
            continue
        raw = sample["input"]
        try:
            parts = PromptParts(user=raw) if isinstance(raw, str) else split_messages(raw)
        except (NotAPrompt, AttributeError, TypeError) as exc:
            report.skip(where, "sample", f"its input cannot be sent by the lab: {exc}", sample)
            continue
        ideal = sample.get("ideal")
        ideals = None if ideal is None else [str(i) for i in ideal] if isinstance(
            ideal, list) else [str(ideal)]
        converted.append((where, sample, parts, ideals))
    if not converted:
        return Samples(PromptParts())
    first = converted[0][2]
    shared_system = all(p.system == first.system for _, _, p, _ in converted)
    turns = len(first.examples)
    shared_examples = all(p.examples == first.examples for _, _, p, _ in converted)
    result = Samples(PromptParts(
        system=first.system if shared_system else "{{system}}",
        examples=first.examples if shared_examples else [
            Example(f"{{{{example_{n}_user}}}}", f"{{{{example_{n}_assistant}}}}")
            for n in range(1, turns + 1)],
        user="{{input}}"))
    for where, sample, parts, ideals in converted:
        if len(parts.examples) != turns:
            report.skip(where, "sample", f"its conversation has {len(parts.examples)} earlier "
                        f"exchange(s) where the first sample has {turns}; the lab's variants "
                        "send the same number of few-shot turns to every test case", sample)
            continue
        values = {"input": parts.user}
        if not shared_system:
            values["system"] = parts.system
        if not shared_examples:
            for n, ex in enumerate(parts.examples, start=1):
                values[f"example_{n}_user"] = ex.input
                values[f"example_{n}_assistant"] = ex.output
        for key, value in sample.items():
            if key not in ("input", "ideal"):
                values[key] = value if isinstance(value, str) else json.dumps(value)
        result.cases.append(TestCase(vars=values))
        result.ideals.append(ideals)
    return result


def ideal_columns(samples: Samples) -> str:
    """Put the ideal answers into the cases: `ideal` (text) when every sample has one, or a JSON
    list when some have several. Returns "text" or "list"."""
    single = all(i is not None and len(i) == 1 for i in samples.ideals)
    for case, ideals in zip(samples.cases, samples.ideals):
        ideals = ideals or []
        case.vars["ideal"] = ideals[0] if single else json.dumps(ideals, ensure_ascii=False)
    return "text" if single else "list"


def ideal_slots(samples: Samples) -> list[str]:
    """Columns `ideal_1` ... `ideal_N` (N: the most ideals a sample has), empty where a sample
    has fewer, for checks that take a list of templated values."""
    most = max((len(i or []) for i in samples.ideals), default=1)
    for case, ideals in zip(samples.cases, samples.ideals):
        ideals = ideals or []
        for n in range(most):
            case.vars[f"ideal_{n + 1}"] = ideals[n] if n < len(ideals) else ""
    return [f"{{{{ideal_{n + 1}}}}}" for n in range(most)]
