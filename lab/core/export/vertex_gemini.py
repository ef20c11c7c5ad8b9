"""Google Vertex AI Gemini supervised tuning JSONL: `systemInstruction` and `contents`.

Roles are `user` and `model` (not `assistant`); text sits in `parts`. Vertex has no way to mask
a turn, so few-shot examples are folded into the system instruction by default; kept as turns,
the model is trained on their answers too (the report warns).

Rules (reference §6): `contents` is required, other top-level keys are `systemInstruction` and
`tools`; roles user/model alternate starting with `user` (Vertex reports `consecutive_turns`
and `Invalid role 'assistant'`); the last turn is the model's; every part holds `text` (or
`fileData`). Limits for Gemini 2.5 Flash / Flash-Lite: 131,072 input+output tokens per example,
at most 5,000 validation examples, 1M training examples, a 1 GB file; about 100 examples is
the recommended start (older Gemini 1.0/1.5 models needed at least 16).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lab.core.export.prompt_handling import TrainingExample
from lab.core.export.target import (
    Kind,
    Target,
    alternation_problems,
    keys_problem,
    not_an_object,
    text_problem,
)
from lab.core.export.validation import Problem, error


def _turn(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"text": text}]}


class VertexGemini(Target):
    name = "vertex-gemini"
    description = "Vertex AI Gemini supervised tuning JSONL (contents with user/model roles)"
    service = "Vertex AI"
    min_examples = 1
    recommended_examples = 100
    max_train_examples = 1_000_000
    max_validation_examples = 5_000
    token_limit = 131_072
    over_limit = "error"
    over_limit_note = "Gemini 2.5 tuning accepts at most 131,072 input+output tokens per example"
    max_file_bytes = 1_000_000_000

    def record(self, example: TrainingExample, kind: Kind) -> dict[str, Any]:
        contents = []
        for user, reply in example.shots:
            contents += [_turn("user", user), _turn("model", reply)]
        contents += [_turn("user", example.user), _turn("model", example.chosen)]
        record: dict[str, Any] = {}
        if example.system:
            record["systemInstruction"] = {"role": "system", "parts": [{"text": example.system}]}
        record["contents"] = contents
        return record

    def check(self, record: Any, kind: Kind) -> Iterable[Problem]:
        problem = not_an_object(record, self.service) or keys_problem(
            record, ("contents", "systemInstruction", "tools"), ("contents",), "vertex",
            self.service)
        if problem:
            return [problem]
        problems: list[Problem] = []
        system = record.get("systemInstruction")
        if system is not None:
            problems += self._parts_problems(system, "systemInstruction")
        contents = record["contents"]
        if not isinstance(contents, list):
            return problems + [error("vertex.contents", "`contents` is not a list.",
                                     "Write the conversation as a list of turns.")]
        roles = []
        for i, turn in enumerate(contents, 1):
            if not isinstance(turn, dict):
                problems.append(error("vertex.turn", f"Turn {i} is not an object.",
                                      "Write each turn as {\"role\", \"parts\"}."))
                continue
            role = turn.get("role")
            roles.append(role)
            if role not in ("user", "model"):
                problems.append(error("vertex.role", f"Invalid role {role!r} in turn {i}.",
                                      "Vertex uses the roles user and model (not assistant)."))
            problems += self._parts_problems(turn, f"turn {i}")
        return problems + alternation_problems(roles, {"user"}, "user", "model", "model",
                                               "vertex", self.service)

    @staticmethod
    def _parts_problems(turn: Any, where: str) -> list[Problem]:
        parts = turn.get("parts") if isinstance(turn, dict) else None
        if not isinstance(parts, list) or not parts:
            return [error("vertex.parts", f"{where} has no `parts` list.",
                          "Put the text in parts: [{\"text\": ...}].")]
        problems = []
        for part in parts:
            if isinstance(part, dict) and "fileData" in part:
                continue
            bad = text_problem(part.get("text") if isinstance(part, dict) else None,
                               f"text of {where}", "vertex")
            if bad:
                problems.append(bad)
        return problems


TARGET = VertexGemini()
