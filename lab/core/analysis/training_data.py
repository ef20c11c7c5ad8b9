"""Enough data to fine-tune? The good outputs a scope holds, after the export's deduplication,
against the published guidance.

Good means, by default, rated 4 or more on the 1–5 scale, or a thumbs up when the output has no
1–5 rating (``by="rating"``); or every automatic check passed (``by="checks"``). Duplicates are
removed exactly as `lab export` removes them (`export.quality.deduplicate`, whitespace
normalised): the same prompt version, the same test-case values and the same output are one
example, whichever run or sample produced them.

The guidance (OpenAI's fine-tuning guide and the articles the lab was founded on): 10 examples
are the minimum a service accepts, 50–100 make a first useful tune, hundreds to thousands give
reliable results.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from lab.core.analysis.links import Link
from lab.core.experiment.template import (
    MESSAGE_OVERHEAD_TOKENS,
    REPLY_PRIMING_TOKENS,
    estimate_tokens,
)
from lab.core.export.prompt_handling import TrainingExample
from lab.core.export.quality import deduplicate

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store


GoodBy = Literal["rating", "checks"]
MINIMUM = 10  # the fewest a fine-tuning service accepts
FIRST_USEFUL = 50  # 50-100 make a first useful tune
RELIABLE = 500  # "hundreds to thousands" for reliable results
GUIDANCE = ("at least 10 examples are accepted, 50–100 make a first useful tune, and hundreds to "
            "thousands give reliable results")


@dataclass(frozen=True)
class TrainingData:
    good_by: GoodBy
    selected: int  # good outputs before deduplication
    examples: int  # after deduplication
    duplicates: int
    by_variant: dict[str, int]  # examples after deduplication, per variant
    mean_tokens: float | None  # estimated tokens of one example without the prompt (input + output)
    stage: str  # "below the minimum", "enough to start", "a first useful tune", "reliable"
    more_for_first_useful: int  # examples still needed for 50
    link: Link  # the good outputs kept after deduplication

    @property
    def guidance(self) -> str:
        return GUIDANCE


def stage_of(examples: int) -> str:
    if examples < MINIMUM:
        return "below the minimum a service accepts"
    if examples < FIRST_USEFUL:
        return "enough to start a job, too few to expect much"
    if examples < RELIABLE:
        return "enough for a first useful tune"
    return "in the range where results become reliable"


def _user_tokens(values_json: str) -> int:
    try:
        values = json.loads(values_json or "{}")
    except json.JSONDecodeError:
        return estimate_tokens(values_json)
    return sum(estimate_tokens(str(v)) for v in values.values()) if isinstance(values, dict) else 0


def training_data(store: Store, by: GoodBy = "rating") -> TrainingData:
    """The good outputs of the scope loaded in the store, deduplicated."""
    rows = store.scope_good_outputs(by)
    versions = store.prompt_versions_by_id(r[2] for r in rows)
    shared: dict[int | None, tuple[str, tuple[tuple[str, str], ...]]] = {}
    examples: list[TrainingExample] = []
    variant_of: dict[int, str] = {}
    for call_id, variant, version_id, values_json, output in rows:
        prompt = shared.get(version_id)
        if prompt is None:  # one shared system string and shots tuple per prompt version
            system, examples_json = versions.get(version_id, ("", "[]"))
            try:
                shots = tuple((str(e.get("input", "")), str(e.get("output", "")))
                              for e in json.loads(examples_json or "[]")
                              if isinstance(e, dict) and e.get("enabled", True))
            except json.JSONDecodeError:
                shots = ()
            prompt = shared[version_id] = (system, shots)
        variant_of[call_id] = variant
        # The test case's values stand for the rendered user message: the same prompt version
        # and values render the same message, so they deduplicate alike.
        examples.append(TrainingExample(call_id, prompt[0], prompt[1], values_json, output))
    kept, removed = deduplicate(examples, "whitespace")
    by_variant: dict[str, int] = {}
    tokens = []
    for example in kept:
        by_variant[variant_of[example.call_id]] = by_variant.get(variant_of[example.call_id], 0) + 1
        tokens.append(REPLY_PRIMING_TOKENS + 2 * MESSAGE_OVERHEAD_TOKENS
                      + _user_tokens(example.user) + estimate_tokens(example.chosen))
    n = len(kept)
    what = "rated 4+ or thumbs up" if by == "rating" else "every check passed"
    return TrainingData(
        by, len(rows), n, len(removed), by_variant,
        sum(tokens) / n if n else None, stage_of(n), max(0, FIRST_USEFUL - n),
        Link.calls((e.call_id for e in kept), f"good outputs ({what}), duplicates removed"))
