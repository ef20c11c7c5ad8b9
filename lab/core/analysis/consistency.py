"""Consistency: how often repeated samples of the same input agree.

Agreement is counted on what matters to the user: normalised text by default, the value of a JSON
field, or a check's outcome. Each input weighs the same in the overview, however many samples it has.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from lab.core.analysis.intervals import MeanInterval, mean_ci
from lab.core.checks.json_output import parse_json_output


def normalise_text(sample: Any) -> Hashable:
    """The default sameness: text compared after collapsing whitespace and ignoring case."""
    return " ".join(sample.split()).casefold() if isinstance(sample, str) else sample


def json_field(name: str) -> Callable[[str], Hashable]:
    """A key for ``consistency``: samples agree when a field of their JSON has the same value.

    Outputs that are not JSON (or lack the field) are compared by their normalised text, so two
    identical broken outputs still agree and a broken one never matches a good one.
    """

    def key(sample: str) -> Hashable:
        try:
            data = parse_json_output(sample)
        except ValueError:
            return ("not JSON", normalise_text(sample))
        if not isinstance(data, dict) or name not in data:
            return ("no field", normalise_text(sample))
        return json.dumps(data[name], sort_keys=True, ensure_ascii=False)

    return key


@dataclass(frozen=True)
class Consistency:
    """How often repeated samples of one input agree."""

    n: int  # samples
    distinct: int  # different answers after normalising
    modal_share: float | None  # share of samples giving the most common answer
    pairwise_agreement: float | None  # chance two different samples agree; None below 2 samples


def consistency(
    samples: Sequence[Any], normalise: Callable[[Any], Hashable] = normalise_text
) -> Consistency:
    """Agreement among samples of the same input. ``normalise`` maps a sample to what counts as
    "the same answer": the default compares text ignoring whitespace and case; pass ``json_field
    ("label")``, or a check outcome, to compare what matters. Pairwise agreement is
    Σ c(c-1) / n(n-1) over answer counts c (the probability two samples drawn without
    replacement agree; Simpson's index of the answers)."""
    counts = Counter(normalise(s) for s in samples)
    n = len(samples)
    if n == 0:
        return Consistency(0, 0, None, None)
    modal = max(counts.values()) / n
    pairs = sum(c * (c - 1) for c in counts.values()) / (n * (n - 1)) if n > 1 else None
    return Consistency(n, len(counts), modal, pairs)


def agreeing(samples: Sequence[Any], normalise: Callable[[Any], Hashable] = normalise_text) -> int:
    """How many samples give the most common answer ("3 samples · 2 agree"); 0 for none."""
    counts = Counter(normalise(s) for s in samples)
    return max(counts.values()) if counts else 0


@dataclass(frozen=True)
class ConsistencyOverview:
    """Consistency over many inputs: inputs with a single sample are counted but not averaged."""

    inputs: int
    single_sample_inputs: int
    fully_consistent: float | None  # share of inputs where every sample agreed
    mean_modal_share: float | None
    agreement: MeanInterval | None  # mean pairwise agreement with a t interval, clipped to [0, 1]


def consistency_overview(
    per_input: Iterable[Consistency], confidence: float = 0.95
) -> ConsistencyOverview:
    """Aggregate per-input consistency; each input weighs the same, however many samples it has."""
    items = list(per_input)
    rated = [c for c in items if c.n >= 2]
    if not rated:
        return ConsistencyOverview(len(items), len(items) - len(rated), None, None, None)
    agreements = [c.pairwise_agreement for c in rated if c.pairwise_agreement is not None]
    return ConsistencyOverview(
        inputs=len(items),
        single_sample_inputs=len(items) - len(rated),
        fully_consistent=sum(1 for c in rated if c.distinct == 1) / len(rated),
        mean_modal_share=fmean(c.modal_share for c in rated if c.modal_share is not None),
        agreement=mean_ci(agreements, confidence, bounds=(0.0, 1.0)),
    )
