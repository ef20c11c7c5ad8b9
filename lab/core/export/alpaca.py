"""Alpaca JSON (`instruction`, `input`, `output`), as Stanford Alpaca, Axolotl and LLaMA-Factory
read it, with a LLaMA-Factory `dataset_info.json`.

Alpaca has no system role. The system prompt (with the few-shot examples folded in, by default)
becomes the `instruction` and the user's message the `input`, which is exactly how the Alpaca
prompt template reads them ("Below is an instruction that describes a task, paired with an
input ..."). Without a system prompt the user's message is the instruction and `input` is "".
Few-shot examples kept as turns go in LLaMA-Factory's `history`, whose answers are trained on.
Preference data (LLaMA-Factory `ranking`) has `chosen` and `rejected` instead of `output`.

The file is a JSON array, one record per line, as `alpaca_data.json` is (reference §8).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from lab.core.export.llama_factory import dataset_info
from lab.core.export.prompt_handling import TrainingExample
from lab.core.export.target import (
    Kind,
    Target,
    keys_problem,
    not_an_object,
    text_problem,
)
from lab.core.export.validation import Problem, error


class Alpaca(Target):
    name = "alpaca"
    description = "Alpaca instruction/input/output JSON array for LLaMA-Factory and Axolotl"
    kinds = ("sft", "preference")
    layout = "json-array"
    suffix = ".json"
    service = "Alpaca"

    def record(self, example: TrainingExample, kind: Kind) -> dict[str, Any]:
        if example.system:
            record: dict[str, Any] = {"instruction": example.system, "input": example.user}
        else:
            record = {"instruction": example.user, "input": ""}
        if kind == "preference":
            record["chosen"] = example.chosen
            record["rejected"] = example.rejected or ""
        else:
            record["output"] = example.chosen
        if example.shots:
            record["history"] = [[user, reply] for user, reply in example.shots]
        return record

    def check(self, record: Any, kind: Kind) -> Iterable[Problem]:
        replies = ("chosen", "rejected") if kind == "preference" else ("output",)
        problem = not_an_object(record, self.service) or keys_problem(
            record, ("instruction", "input", "history", *replies), ("instruction", "input",
                                                                    *replies),
            "alpaca", self.service)
        if problem:
            return [problem]
        problems = [p for key in ("instruction", *replies)
                    if (p := text_problem(record[key], f"`{key}`", "alpaca"))]
        if not isinstance(record["input"], str):
            problems.append(error("alpaca.input", "`input` is not a string.",
                                  "Write an empty string when there is no input."))
        history = record.get("history", [])
        if not isinstance(history, list) or not all(
                isinstance(h, list) and len(h) == 2 and all(isinstance(t, str) for t in h)
                for h in history):
            problems.append(error("alpaca.history", "`history` is not a list of "
                                  "[instruction, response] pairs.",
                                  "Write each earlier turn as [\"input\", \"output\"]."))
        if kind == "preference" and record.get("chosen") == record.get("rejected"):
            problems.append(error("alpaca.same-outputs", "Chosen and rejected are identical.",
                                  "Leave this pair out."))
        return problems

    def extra_files(self, files: dict[str, str], kind: Kind, dataset: str,
                    examples: Sequence[TrainingExample]) -> dict[str, str]:
        # A column is mapped only when records have it: LLaMA-Factory looks every mapped
        # column up, and `history` exists only when few-shot turns were kept as turns.
        columns = {"prompt": "instruction", "query": "input"}
        if any(example.shots for example in examples):
            columns["history"] = "history"
        columns |= {"chosen": "chosen", "rejected": "rejected"} if kind == "preference" \
            else {"response": "output"}
        return {"dataset_info.json": dataset_info(files, dataset, "alpaca",
                                                  kind == "preference", columns)}


TARGET = Alpaca()
