"""OpenAI-style chat JSONL for Together AI, Fireworks and Mistral, each with its own rules.

All three read `{"messages": [...]}` lines; they differ in what else they accept (reference §7):

* Together: a line matches exactly one format (conversational `messages`, or the preference
  shape `input`/`preferred_output`/`non_preferred_output`), never keys of two; conversations
  start with system or user and then alternate user/assistant; `weight` is an integer 0 or 1,
  so few-shot turns can be masked; at least 1 example.
* Fireworks: roles system/user/assistant only; no documented `weight`, so few-shot examples are
  folded into the system prompt by default; 3 to 3,000,000 examples; preference data uses the
  OpenAI DPO shape.
* Mistral: roles system/user/assistant (and tool); loss only on assistant messages and
  `weight: 0` skips one, so few-shot turns can be masked; the last role must be assistant
  ("Expected last role to be one of: [assistant] but got user").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lab.core.export.openai_dpo import preference_problems, preference_record
from lab.core.export.prompt_handling import TrainingExample
from lab.core.export.target import (
    Kind,
    Target,
    alternation_problems,
    chat_messages,
    not_an_object,
    text_problem,
)
from lab.core.export.validation import Problem, error


class ChatJSONL(Target):
    """A `messages` JSONL target; subclasses set the roles, weight support and limits."""

    roles: frozenset[str] = frozenset({"system", "user", "assistant"})
    first_roles = {"system", "user"}
    weights = False
    rule = ""

    def record(self, example: TrainingExample, kind: Kind) -> dict[str, Any]:
        if kind == "preference":
            return preference_record(example)
        return {"messages": chat_messages(example, weights=self.weights)}

    def check(self, record: Any, kind: Kind) -> Iterable[Problem]:
        if kind == "preference":
            return preference_problems(record, self.service, self.rule)
        problem = not_an_object(record, self.service)
        if problem:
            return [problem]
        if set(record) - {"messages", "tools"}:
            extra = ", ".join(sorted(set(record) - {"messages", "tools"}))
            return [error(f"{self.rule}.extra-key", f"The line has key(s) {extra} besides "
                          "`messages`.", f"{self.service} rejects a line whose keys belong to "
                          "another format; keep only messages (and tools).")]
        messages = record.get("messages")
        if not isinstance(messages, list) or not messages:
            return [error(f"{self.rule}.messages", "The line has no `messages` list.",
                          "Each line needs a non-empty `messages` list.")]
        problems: list[Problem] = []
        for i, message in enumerate(messages, 1):
            problems += self._message_problems(i, message)
        roles = [m.get("role") for m in messages if isinstance(m, dict)]
        return problems + alternation_problems(roles, self.first_roles, "user", "assistant",
                                               "assistant", self.rule, self.service)

    def _message_problems(self, i: int, message: Any) -> list[Problem]:
        if not isinstance(message, dict):
            return [error(f"{self.rule}.message", f"Message {i} is not an object.",
                          "Write each message as {\"role\", \"content\"}.")]
        allowed = {"role", "content"} | ({"weight"} if self.weights else set())
        problems = []
        if set(message) - allowed:
            problems.append(error(f"{self.rule}.message-key", f"Message {i} has key(s) "
                                  f"{', '.join(sorted(set(message) - allowed))}.",
                                  f"{self.service} accepts {', '.join(sorted(allowed))}."))
        if message.get("role") not in self.roles:
            problems.append(error(f"{self.rule}.role", f"Message {i} has role "
                                  f"{message.get('role')!r}.",
                                  f"Use {', '.join(sorted(self.roles))}."))
        if "weight" in message and (message.get("role") != "assistant"
                                    or message["weight"] not in (0, 1)
                                    or isinstance(message["weight"], bool)):
            problems.append(error(f"{self.rule}.weight", f"Message {i} has weight "
                                  f"{message['weight']!r} on a {message.get('role')} message.",
                                  "Only assistant messages take a weight, the integer 0 or 1."))
        bad = text_problem(message.get("content"), f"content of message {i}", self.rule)
        if bad:
            problems.append(bad)
        return problems


class Together(ChatJSONL):
    name = "together"
    description = "Together AI chat JSONL (preference data in the OpenAI DPO shape)"
    kinds = ("sft", "preference")
    masks_examples = True
    weights = True
    service = "Together"
    rule = "together"
    min_examples = 1


class Fireworks(ChatJSONL):
    name = "fireworks"
    description = "Fireworks chat JSONL (preference data in the OpenAI DPO shape)"
    kinds = ("sft", "preference")
    service = "Fireworks"
    rule = "fireworks"
    min_examples = 3
    max_train_examples = 3_000_000


class Mistral(ChatJSONL):
    name = "mistral"
    description = "Mistral fine-tuning chat JSONL (few-shot turns carry weight 0)"
    roles = frozenset({"system", "user", "assistant", "tool"})
    masks_examples = True
    weights = True
    service = "Mistral"
    rule = "mistral"
    min_examples = 1


TOGETHER, FIREWORKS, MISTRAL = Together(), Fireworks(), Mistral()
