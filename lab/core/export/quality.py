"""Dataset hygiene before anything is written: duplicates, the train/validation split, token
statistics.

* Deduplication compares whole examples as they will be trained on (system prompt, few-shot
  turns, input, output and, for preference data, the rejected output), either exactly or with
  whitespace normalised (runs of spaces and newlines count as one space, ends trimmed). The
  oldest output of a group of duplicates is kept.
* The split is seeded and grouped by input: every example whose input (whitespace-normalised)
  is the same lands on the same side, so the validation loss never rewards a model for having
  seen the very input during training. Groups are shuffled with the seed and validation is
  filled group by group up to its share, never past it (when every group is bigger than
  the share, the smallest group goes to validation rather than none).
"""

from __future__ import annotations

import hashlib
import random
import statistics
from collections.abc import Sequence
from typing import Literal

from lab.core.export.prompt_handling import TrainingExample

DedupMode = Literal["whitespace", "exact", "none"]


def normalise(text: str) -> str:
    return " ".join(text.split())


def _digest(parts: list[str], mode: DedupMode) -> bytes:
    if mode == "whitespace":
        parts = [normalise(p) for p in parts]
    # A separator that cannot be typed keeps ("ab", "c") and ("a", "bc") apart.
    blob = "\x1e".join(p.replace("\x1e", " ") for p in parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(blob, digest_size=16).digest()


def deduplicate(
    examples: Sequence[TrainingExample], mode: DedupMode = "whitespace"
) -> tuple[list[TrainingExample], dict[int, int]]:
    """(the examples without duplicates, {removed output id: the kept output id it repeats})."""
    if mode == "none":
        return list(examples), {}
    # Examples of one prompt share its system prompt and few-shot objects: digest those once
    # (by identity, safe while the examples hold them) instead of once per example.
    prompts: dict[tuple[int, int], str] = {}
    seen: dict[bytes, int] = {}
    kept: list[TrainingExample] = []
    removed: dict[int, int] = {}
    for example in examples:
        ids = (id(example.system), id(example.shots))
        prompt = prompts.get(ids)
        if prompt is None:
            prompt = prompts[ids] = _digest(
                [example.system, *(t for shot in example.shots for t in shot)], mode).hex()
        key = _digest([prompt, example.user, example.chosen, example.rejected or ""], mode)
        if key in seen:
            removed[example.call_id] = seen[key]
        else:
            seen[key] = example.call_id
            kept.append(example)
    return kept, removed


def split(examples: Sequence[TrainingExample], train_fraction: float, seed: int) -> None:
    """Set `example.split` to "train" or "validation", grouped by input, reproducibly."""
    if not 0 < train_fraction <= 1:
        raise ValueError(f"the train fraction must be in (0, 1], not {train_fraction}")
    for example in examples:
        example.split = "train"
    want = round(len(examples) * (1 - train_fraction))
    if want == 0:  # no validation split (train fraction 1, or too few examples for any)
        return
    groups: dict[str, list[TrainingExample]] = {}
    for example in examples:
        groups.setdefault(normalise(example.user), []).append(example)
    order = sorted(groups)  # a fixed order first, so the shuffle depends on the seed alone
    random.Random(seed).shuffle(order)
    taken = 0
    for key in order:
        # A group that would overshoot waits its turn; training always keeps something.
        if taken + len(groups[key]) <= want and taken + len(groups[key]) < len(examples):
            for example in groups[key]:
                example.split = "validation"
            taken += len(groups[key])
    if taken == 0 and want > 0 and len(groups) > 1:
        # Every group is bigger than the share: take the smallest rather than none.
        for example in groups[min(order, key=lambda k: len(groups[k]))]:
            example.split = "validation"


def token_stats(values: Sequence[int]) -> dict[str, float]:
    """min, mean, median, p90, max and total; the cookbook reports the same spread."""
    if not values:
        return {"count": 0, "min": 0, "mean": 0, "median": 0, "p90": 0, "max": 0, "total": 0}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return {"count": len(ordered), "min": ordered[0], "mean": round(statistics.fmean(ordered), 1),
            "median": statistics.median(ordered), "p90": p90, "max": ordered[-1],
            "total": sum(ordered)}
