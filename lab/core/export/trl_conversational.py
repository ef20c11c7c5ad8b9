"""Hugging Face TRL conversational datasets: prompt/completion (SFT) and prompt/chosen/rejected
(DPO), each value a list of `{"role", "content"}` messages.

The prompt holds the system prompt, few-shot turns and the user's message; `SFTTrainer` computes
the loss on the completion only for prompt/completion data (`completion_only_loss` defaults to
on), so few-shot turns in the prompt are seen but not trained on.

Rules (reference §8, trl 1.16 `trl/data_utils.py`): the key set is exactly {prompt, completion}
or {prompt, chosen, rejected} (the sets `apply_chat_template` accepts); every value is a
conversational list (`is_conversational`: a list whose first item is a dict with `role`); the
prompt ends with a user (or tool, or assistant) turn, as `apply_chat_template` requires (the
lab always ends it with the user's message, so the template adds the generation prompt);
completions are assistant messages; every message has exactly `role` and `content` (uniform
keys keep the `datasets` column a struct). `SFTConfig.max_length` defaults to 1024 tokens: longer examples are
truncated unless the user raises it, which is a warning, not an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lab.core.export.prompt_handling import TrainingExample
from lab.core.export.target import (
    Kind,
    Target,
    not_an_object,
    prompt_messages,
    text_problem,
)
from lab.core.export.validation import Problem, error

ROLES = {"system", "user", "assistant", "tool"}


def _messages_problems(value: Any, key: str, rule: str, roles: set[str]) -> list[Problem]:
    if not isinstance(value, list) or not value or not isinstance(value[0], dict) \
            or "role" not in value[0]:
        return [error(f"{rule}.not-conversational", f"`{key}` is not a list of messages, so TRL "
                      "would not treat the example as conversational.",
                      f"Write `{key}` as [{{\"role\": ..., \"content\": ...}}, ...].")]
    problems = []
    for i, message in enumerate(value, 1):
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            problems.append(error(f"{rule}.message-keys", f"Message {i} of `{key}` does not have "
                                  "exactly the keys role and content.",
                                  "Keep per-message keys uniform: role and content."))
            continue
        if message["role"] not in roles:
            problems.append(error(f"{rule}.role", f"Message {i} of `{key}` has role "
                                  f"{message['role']!r}.", f"Use {', '.join(sorted(roles))}."))
        bad = text_problem(message["content"], f"text of message {i} of `{key}`", rule)
        if bad:
            problems.append(bad)
    return problems


class _TRL(Target):
    masks_examples = True
    service = "TRL"
    token_limit = 1024
    over_limit_note = ("TRL's max_length defaults to 1024 tokens and truncates longer examples; "
                       "set max_length in SFTConfig/DPOConfig above the longest example")
    keys: tuple[str, ...] = ()
    rule = ""

    def check(self, record: Any, kind: Kind) -> Iterable[Problem]:
        problem = not_an_object(record, self.service)
        if problem:
            return [problem]
        if set(record) != set(self.keys):
            return [error(f"{self.rule}.keys", f"The example has keys {sorted(record)}; "
                          f"TRL expects exactly {list(self.keys)} for this dataset type.",
                          "Write one dataset type per file.")]
        problems = _messages_problems(record["prompt"], "prompt", self.rule, ROLES)
        prompt = record["prompt"]
        # TRL adds a generation prompt after a user/tool turn, continues an assistant turn,
        # and raises on anything else.
        if isinstance(prompt, list) and prompt and isinstance(prompt[-1], dict) \
                and prompt[-1].get("role") not in ("user", "tool", "assistant"):
            problems.append(error(f"{self.rule}.prompt-last-role", "The prompt ends with a "
                                  f"{prompt[-1].get('role')!r} turn, which TRL refuses.",
                                  "End the prompt with the user's message."))
        for key in self.keys[1:]:
            problems += _messages_problems(record[key], key, self.rule, {"assistant"})
        if len(self.keys) == 3 and record["chosen"] == record["rejected"]:
            problems.append(error(f"{self.rule}.same-outputs", "Chosen and rejected are "
                                  "identical, so the pair teaches nothing.", "Leave it out."))
        return problems


class TRLPromptCompletion(_TRL):
    name = "trl-sft"
    description = "TRL conversational prompt/completion JSONL for SFTTrainer"
    kinds = ("sft",)
    keys = ("prompt", "completion")
    rule = "trl-sft"

    def record(self, example: TrainingExample, kind: Kind) -> dict[str, Any]:
        return {"prompt": prompt_messages(example),
                "completion": [{"role": "assistant", "content": example.chosen}]}


class TRLPreference(_TRL):
    name = "trl-dpo"
    description = "TRL conversational prompt/chosen/rejected JSONL for DPOTrainer"
    kinds = ("preference",)
    keys = ("prompt", "chosen", "rejected")
    rule = "trl-dpo"

    def record(self, example: TrainingExample, kind: Kind) -> dict[str, Any]:
        return {"prompt": prompt_messages(example),
                "chosen": [{"role": "assistant", "content": example.chosen}],
                "rejected": [{"role": "assistant", "content": example.rejected or ""}]}


SFT_TARGET = TRLPromptCompletion()
DPO_TARGET = TRLPreference()
