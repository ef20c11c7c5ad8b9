"""Anthropic Claude (3 Haiku) fine-tuning on Amazon Bedrock JSONL: `system` and `messages`.

There is no weight and no way to mask a turn, so few-shot examples are folded into the system
prompt by default; kept as turns, their answers are trained on (the report warns).

Rules, from Anthropic's Bedrock fine-tuning cookbook (reference §5): "The `system` field is
optional." "There must be at least two messages." "The first message must be from the user."
"The last message must be from the assistant." "User and assistant messages must alternate."
"No extraneous keys are allowed." Content is a plain string; there is no system role inside
`messages`. Records hold up to 32K tokens. The commonly cited quotas (10,000 training and 1,000
validation records) are unverified, so going past them is a warning, not an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lab.core.export.prompt_handling import TrainingExample
from lab.core.export.target import (
    Kind,
    Target,
    alternation_problems,
    chat_messages,
    keys_problem,
    not_an_object,
    text_problem,
)
from lab.core.export.validation import Problem, error, warning

# Unverified quotas (reference §5): warned about, not enforced.
TRAINING_QUOTA = 10_000
VALIDATION_QUOTA = 1_000


class BedrockClaude(Target):
    name = "bedrock-claude"
    description = "Anthropic Claude 3 Haiku fine-tuning on Amazon Bedrock JSONL"
    service = "Bedrock"
    min_examples = 1
    token_limit = 32_000
    over_limit = "error"
    over_limit_note = "Claude 3 Haiku fine-tuning on Bedrock takes records of up to 32K tokens"

    def dataset_problems(self, train: int, validation: int, kind: Kind) -> list[Problem]:
        problems = super().dataset_problems(train, validation, kind)
        for count, quota, which in ((train, TRAINING_QUOTA, "training"),
                                    (validation, VALIDATION_QUOTA, "validation")):
            if count > quota:
                problems.append(warning(f"bedrock.{which}-quota", f"{count} {which} records; "
                                        f"Bedrock's quota is commonly cited as {quota:,} "
                                        "(unverified).", "Check your account's Bedrock quotas "
                                        "before uploading, or select fewer outputs."))
        return problems

    def record(self, example: TrainingExample, kind: Kind) -> dict[str, Any]:
        messages = chat_messages(example, weights=False)
        record: dict[str, Any] = {}
        if example.system:
            record["system"] = example.system
        record["messages"] = [m for m in messages if m["role"] != "system"]
        return record

    def check(self, record: Any, kind: Kind) -> Iterable[Problem]:
        problem = not_an_object(record, self.service) or keys_problem(
            record, ("system", "messages"), ("messages",), "bedrock", self.service)
        if problem:
            return [problem]
        problems: list[Problem] = []
        if "system" in record and not isinstance(record["system"], str):
            problems.append(error("bedrock.system", "`system` is not a string.",
                                  "Write the system prompt as one string."))
        messages = record["messages"]
        if not isinstance(messages, list) or len(messages) < 2:
            return problems + [error("bedrock.too-few", "There must be at least two messages.",
                                     "Give each record a user message and the reply.")]
        roles = []
        for i, message in enumerate(messages, 1):
            if not isinstance(message, dict) or set(message) != {"role", "content"}:
                problems.append(error("bedrock.message-keys", f"Message {i} does not have exactly "
                                      "the keys role and content.", "No extraneous keys are "
                                      "allowed (no weight, no tool blocks)."))
                continue
            roles.append(message["role"])
            if message["role"] not in ("user", "assistant"):
                problems.append(error("bedrock.role", f"Message {i} has role "
                                      f"{message['role']!r}.", "Only user and assistant; put the "
                                      "system prompt in the top-level `system` field."))
            bad = text_problem(message["content"], f"content of message {i}", "bedrock")
            if bad:
                problems.append(bad)
        return problems + alternation_problems(roles, {"user"}, "user", "assistant", "assistant",
                                               "bedrock", self.service)


TARGET = BedrockClaude()
