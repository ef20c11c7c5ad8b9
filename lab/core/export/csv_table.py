"""CSV for reading: one row per example, to review a dataset in a spreadsheet before training.

Not a training format. Columns carry the example as it would be trained on (system prompt,
few-shot examples as JSON, input, output, and the rejected output for preference data) next to
what the user knows about it: the output's id, variant, model, experiment, rating, tags and
estimated tokens. The only rules are the ones a reader needs: every row has every column.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from lab.core.export.prompt_handling import TrainingExample
from lab.core.export.target import Kind, Target
from lab.core.export.validation import Problem, error

SFT_COLUMNS = ["call_id", "system", "examples", "input", "output", "variant", "model",
               "experiment", "prompt_version_id", "score", "thumbs", "tags", "tokens"]
PREFERENCE_COLUMNS = SFT_COLUMNS[:5] + ["rejected", "rejected_call_id"] + SFT_COLUMNS[5:]


def columns(kind: Kind) -> list[str]:
    return PREFERENCE_COLUMNS if kind == "preference" else SFT_COLUMNS


class CSVTable(Target):
    name = "csv"
    description = "CSV for reading and review in a spreadsheet (not a training format)"
    kinds = ("sft", "preference")
    layout = "csv"
    suffix = ".csv"
    service = "CSV"
    # Nothing trains on a CSV: few-shot turns stay in their own column instead of being folded.
    masks_examples = True
    recommended_examples = 0

    def record(self, example: TrainingExample, kind: Kind) -> dict[str, Any]:
        source = example.source
        row: dict[str, Any] = {
            "call_id": example.call_id, "system": example.system,
            "examples": json.dumps([list(s) for s in example.shots], ensure_ascii=False)
            if example.shots else "",
            "input": example.user, "output": example.chosen,
            "variant": source.variant if source else None,
            "model": f"{source.provider}/{source.model}" if source else None,
            "experiment": source.experiment if source else None,
            "prompt_version_id": source.prompt_version_id if source else None,
            "score": source.score if source else None,
            "thumbs": source.thumbs if source else None,
            "tags": ", ".join(source.tags) if source else "",
            "tokens": example.tokens,
        }
        if kind == "preference":
            row["rejected"] = example.rejected
            row["rejected_call_id"] = example.rejected_call_id
        return {k: ("" if row[k] is None else row[k]) for k in columns(kind)}

    def check(self, record: Any, kind: Kind) -> Iterable[Problem]:
        missing = [c for c in columns(kind) if c not in record]
        if missing:
            return [error("csv.columns", f"The row lacks column(s) {', '.join(missing)}.",
                          f"Rows need {', '.join(columns(kind))}.")]
        return []


TARGET = CSVTable()
