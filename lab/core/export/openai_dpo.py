"""OpenAI preference fine-tuning (DPO) JSONL: `input`, `preferred_output`, `non_preferred_output`.

The input is the prompt (system prompt and the user's message). OpenAI trains preference data
"on one-turn conversations", so few-shot examples are folded into the system prompt by default;
kept as turns, each such line gets a warning. Each output is a list of one assistant message.

Rules (reference §3 and §9.7): exactly those three top-level keys; `input.messages` ends with
the user's turn (OpenAI trains on one-turn conversations, the outputs being the last assistant
message); each output holds exactly one assistant message (OpenAI and Together both require
it); both outputs non-empty and different. The same shape is read by Together and Fireworks
for preference tuning, so `preference_problems` is shared with their exporters.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lab.core.export.openai_sft import (
    DEFAULT_LIMIT,
    limit_for_model,
    message_problems,
    training_estimate,
)
from lab.core.export.prompt_handling import TrainingExample
from lab.core.export.target import (
    Kind,
    Target,
    keys_problem,
    not_an_object,
    prompt_messages,
    text_problem,
)
from lab.core.export.validation import Problem, error, warning

INPUT_KEYS = {"messages", "tools", "parallel_tool_calls"}
OUTPUT_KEYS = ("preferred_output", "non_preferred_output")


def preference_record(example: TrainingExample) -> dict[str, Any]:
    return {
        "input": {"messages": prompt_messages(example)},
        "preferred_output": [{"role": "assistant", "content": example.chosen}],
        "non_preferred_output": [{"role": "assistant", "content": example.rejected or ""}],
    }


def preference_problems(record: Any, service: str, rule: str) -> list[Problem]:
    problem = not_an_object(record, service) or keys_problem(
        record, ("input", *OUTPUT_KEYS), ("input", *OUTPUT_KEYS), rule, service)
    if problem:
        return [problem]
    problems: list[Problem] = []
    given = record["input"]
    if not isinstance(given, dict) or not isinstance(given.get("messages"), list):
        return [error(f"{rule}.input", "`input` is not an object with a `messages` list.",
                      "Write the prompt as {\"input\": {\"messages\": [...]}}.")]
    if set(given) - INPUT_KEYS:
        problems.append(error(f"{rule}.input-key", f"`input` has key(s) "
                              f"{', '.join(sorted(set(given) - INPUT_KEYS))} {service} does "
                              "not accept.", "Keep messages, tools and parallel_tool_calls."))
    problems += [p for p in message_problems(given["messages"], rule)
                 if not p.rule.endswith(("example_missing_assistant_message", "nothing_trained"))]
    if given["messages"] and isinstance(given["messages"][-1], dict) \
            and given["messages"][-1].get("role") != "user":
        problems.append(error(f"{rule}.input-last-role", "The prompt does not end with the "
                              "user's turn.", f"{service} trains on one-turn conversations: end "
                              "`input.messages` with the user message the outputs answer."))
    texts = []
    for key in OUTPUT_KEYS:
        output = record[key]
        if not isinstance(output, list) or len(output) != 1 or not isinstance(output[0], dict):
            problems.append(error(f"{rule}.output-count", f"`{key}` must be a list holding "
                                  "exactly one assistant message.",
                                  "Write one assistant message per output."))
            continue
        message = output[0]
        if message.get("role") != "assistant":
            problems.append(error(f"{rule}.output-role", f"`{key}` holds a {message.get('role')!r}"
                                  " message.", "Outputs are assistant messages."))
        bad = text_problem(message.get("content"), f"`{key}` text", rule)
        if bad:
            problems.append(bad)
        texts.append(message.get("content"))
    if len(texts) == 2 and texts[0] == texts[1]:
        problems.append(error(f"{rule}.same-outputs", "The preferred and non-preferred outputs "
                              "are identical, so the pair teaches nothing.",
                              "Leave this pair out."))
    return problems


class OpenAIDPO(Target):
    name = "openai-dpo"
    description = "OpenAI preference fine-tuning (DPO) JSONL from pairwise judgements"
    kinds = ("preference",)
    # The input is never trained on, but OpenAI trains preference data on one-turn
    # conversations: few-shot examples are folded into the system prompt by default.
    masks_examples = False
    turns_note = ("OpenAI trains preference data on one-turn conversations, so an input with "
                  "earlier turns may be refused")
    service = "OpenAI"
    min_examples = 10
    token_limit = DEFAULT_LIMIT
    over_limit_note = "OpenAI truncates longer examples during fine-tuning"

    def limit_for(self, base_model: str | None) -> int | None:
        return limit_for_model(base_model)

    def record(self, example: TrainingExample, kind: Kind) -> dict[str, Any]:
        return preference_record(example)

    def training_estimate(self, tokens: list[int], base_model: str | None) -> str | None:
        return training_estimate(tokens, limit_for_model(base_model))

    def check(self, record: Any, kind: Kind) -> Iterable[Problem]:
        problems = preference_problems(record, self.service, "openai-dpo")
        messages = record.get("input", {}).get("messages") if isinstance(record, dict) else None
        if isinstance(messages, list) and sum(
                1 for m in messages if isinstance(m, dict) and m.get("role") == "user") > 1:
            problems.append(warning("openai-dpo.one-turn", "The input has more than one user "
                                    "turn; OpenAI trains preference data on one-turn "
                                    "conversations.", "Fold the few-shot examples into the "
                                    "system prompt or drop them."))
        return problems


TARGET = OpenAIDPO()
