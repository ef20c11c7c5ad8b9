"""ShareGPT JSONL (`conversations` of `from`/`value` turns), as LLaMA-Factory and Axolotl read it.

The system prompt sits in a top-level `system` field (LLaMA-Factory's column); turns use
`human` and `gpt`. Preference data (LLaMA-Factory `ranking`) ends `conversations` on the human
turn and puts one gpt message in each of `chosen` and `rejected`. A `dataset_info.json` for
LLaMA-Factory is written beside the files. (Axolotl reads these files with
`type: chat_template`, `field_messages: conversations` and
`message_property_mappings: {role: from, content: value}`; its `type: sharegpt` is deprecated.)

Both trainers train on every gpt turn by default (LLaMA-Factory unless `mask_history`), so
few-shot examples are folded into the system prompt unless the user asks for turns.

Rules (reference §8, LLaMA-Factory `data/README.md`): human (or observation) turns at odd
positions and gpt (or function_call) turns at even positions; an SFT conversation ends with gpt,
a preference conversation with human; `chosen`/`rejected` are single gpt messages.
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

ASKING = {"human", "observation"}
ANSWERING = {"gpt", "function_call"}


def _turn(who: str, text: str) -> dict[str, str]:
    return {"from": who, "value": text}


class ShareGPT(Target):
    name = "sharegpt"
    description = ("ShareGPT conversations JSONL for LLaMA-Factory and Axolotl, with "
                   "dataset_info.json")
    kinds = ("sft", "preference")
    service = "LLaMA-Factory"

    def record(self, example: TrainingExample, kind: Kind) -> dict[str, Any]:
        turns = []
        for user, reply in example.shots:
            turns += [_turn("human", user), _turn("gpt", reply)]
        turns.append(_turn("human", example.user))
        record: dict[str, Any] = {"conversations": turns}
        if kind == "sft":
            turns.append(_turn("gpt", example.chosen))
        if example.system:
            record["system"] = example.system
        if kind == "preference":
            record["chosen"] = _turn("gpt", example.chosen)
            record["rejected"] = _turn("gpt", example.rejected or "")
        return record

    def check(self, record: Any, kind: Kind) -> Iterable[Problem]:
        keys: tuple[str, ...] = ("conversations",)
        if kind == "preference":
            keys += ("chosen", "rejected")
        problem = not_an_object(record, self.service) or keys_problem(
            record, (*keys, "system", "tools"), keys, "sharegpt", self.service)
        if problem:
            return [problem]
        problems: list[Problem] = []
        if "system" in record and not isinstance(record["system"], str):  # "" is allowed
            problems.append(text_problem(record["system"], "system prompt", "sharegpt"))
        turns = record["conversations"]
        if not isinstance(turns, list) or not turns:
            return problems + [error("sharegpt.conversations", "`conversations` is not a "
                                     "non-empty list.", "Write the turns as a list.")]
        for i, turn in enumerate(turns, 1):
            want = ASKING if i % 2 else ANSWERING
            who = turn.get("from") if isinstance(turn, dict) else None
            if who not in want:
                problems.append(error("sharegpt.position", f"Turn {i} is from {who!r}; at an "
                                      f"{'odd' if i % 2 else 'even'} position LLaMA-Factory "
                                      f"expects {' or '.join(sorted(want))}.",
                                      "Alternate human and gpt turns, starting with human."))
                continue
            bad = text_problem(turn.get("value"), f"value of turn {i}", "sharegpt")
            if bad:
                problems.append(bad)
        ends_on = "human" if kind == "preference" else "gpt"
        if isinstance(turns[-1], dict) and turns[-1].get("from") != ends_on:
            problems.append(error("sharegpt.last-turn", f"The conversation ends with "
                                  f"{turns[-1].get('from')!r}; {kind} data ends with {ends_on!r}.",
                                  "For preference data put the replies in chosen/rejected."
                                  if kind == "preference" else "End with the reply to learn."))
        for key in keys[1:]:
            reply = record[key]
            if not isinstance(reply, dict) or reply.get("from") != "gpt":
                problems.append(error("sharegpt.reply", f"`{key}` is not one gpt message.",
                                      f"Write {key} as {{\"from\": \"gpt\", \"value\": ...}}."))
            elif text_problem(reply.get("value"), f"{key} value", "sharegpt"):
                problems.append(text_problem(reply.get("value"), f"{key} value", "sharegpt"))
        return problems

    def extra_files(self, files: dict[str, str], kind: Kind, dataset: str,
                    examples: Sequence[TrainingExample]) -> dict[str, str]:
        columns = {"messages": "conversations"}
        if any(example.system for example in examples):  # only a column the records have
            columns["system"] = "system"
        if kind == "preference":
            columns |= {"chosen": "chosen", "rejected": "rejected"}
        return {"dataset_info.json": dataset_info(files, dataset, "sharegpt",
                                                  kind == "preference", columns)}


TARGET = ShareGPT()
