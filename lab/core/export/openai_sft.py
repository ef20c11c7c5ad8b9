"""OpenAI chat fine-tuning (SFT) JSONL: `{"messages": [...]}` per line.

Few-shot turns stay in the example with `weight: 0` on their assistant replies, so the model
sees them but is not trained to produce them; the output being taught carries `weight: 1`.

Validation ports the checks of OpenAI's cookbook notebook "Data preparation and analysis for
chat model fine-tuning" (format error keys `data_type`, `missing_messages_list`,
`message_missing_key`, `message_unrecognized_key`, `unrecognized_role`, `missing_content`,
`example_missing_assistant_message`), extended as the reference says a port must be for tool
calls (`tool_calls`, `tool_call_id`, role `tool`, `content: null` beside `tool_calls`), plus the
published `weight` rule (assistant messages only, integer 0 or 1), the minimum of 10 examples,
and the per-example token limits of the model being tuned.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lab.core.export.prompt_handling import TrainingExample
from lab.core.export.target import Kind, Target, chat_messages, not_an_object
from lab.core.export.validation import Problem, error

MESSAGE_KEYS = {"role", "content", "name", "function_call", "weight", "tool_calls", "tool_call_id"}
ROLES = {"system", "user", "assistant", "tool", "function"}
RECORD_KEYS = {"messages", "tools", "parallel_tool_calls", "functions"}

# Max tokens per training example, by model (reference §2). Longer examples are truncated.
TOKEN_LIMITS = [
    ("gpt-3.5-turbo-0613", 4_096),
    ("gpt-3.5-turbo", 16_385),
    ("gpt-4o", 65_536),
    ("gpt-4.1", 65_536),  # unverified in the reference: read /v1/fine_tuning/model_limits
]
DEFAULT_LIMIT = 65_536


def limit_for_model(base_model: str | None) -> int:
    name = (base_model or "").split("/")[-1]
    for prefix, limit in TOKEN_LIMITS:
        if name.startswith(prefix):
            return limit
    return DEFAULT_LIMIT


# The cookbook's defaults for choosing epochs (reference §2.1).
TARGET_EPOCHS, MIN_TARGET_EXAMPLES, MAX_TARGET_EXAMPLES = 3, 100, 25_000
MIN_DEFAULT_EPOCHS, MAX_DEFAULT_EPOCHS = 1, 25


def training_tokens(tokens: list[int], limit: int = DEFAULT_LIMIT) -> tuple[int, int]:
    """(epochs, billed tokens per epoch) by the cookbook's estimate: the epochs OpenAI picks by
    default for this many examples, and each example's tokens up to the per-example limit.
    (0, 0) for no examples."""
    n = len(tokens)
    if not n:
        return 0, 0
    epochs = TARGET_EPOCHS
    if n * epochs < MIN_TARGET_EXAMPLES:
        epochs = min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n)
    elif n * epochs > MAX_TARGET_EXAMPLES:
        epochs = max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n)
    return epochs, sum(min(limit, t) for t in tokens)


def training_estimate(tokens: list[int], limit: int) -> str | None:
    """The cookbook's estimate: the epochs OpenAI picks by default and the tokens it bills."""
    if not tokens:
        return None
    epochs, billed = training_tokens(tokens, limit)
    return (f"By OpenAI's cookbook estimate, training runs {epochs} epoch(s) by default and "
            f"bills about {billed * epochs:,} tokens ({billed:,} per epoch).")


def message_problems(messages: Any, rule: str = "openai") -> list[Problem]:
    """The cookbook's per-message format checks, with tool calls allowed."""
    if not messages or not isinstance(messages, list):
        return [error(f"{rule}.missing_messages_list", "The line has no `messages` list.",
                      "Each line needs a non-empty `messages` list.")]
    problems = []
    replies = trained = 0  # assistant messages, and those without weight 0
    for i, message in enumerate(messages, 1):
        if not isinstance(message, dict):
            problems.append(error(f"{rule}.message_not_object", f"Message {i} is not an object.",
                                  "Write each message as {\"role\": ..., \"content\": ...}."))
            continue
        role, content = message.get("role"), message.get("content")
        if role == "assistant":
            replies += 1
            trained += message.get("weight") != 0
        if (isinstance(content, str) and content and role in ROLES
                and MESSAGE_KEYS.issuperset(message) and ("weight" not in message or (
                    role == "assistant" and type(message["weight"]) is int
                    and message["weight"] in (0, 1)))):
            continue  # the usual message (text content, a known role and key): nothing below fails
        has_tools = bool(message.get("tool_calls") or message.get("function_call"))
        if "role" not in message or ("content" not in message and not has_tools):
            problems.append(error(f"{rule}.message_missing_key",
                                  f"Message {i} lacks `role` or `content`.",
                                  "Give every message a role and its content."))
        if not MESSAGE_KEYS.issuperset(message):
            extra = sorted(set(message) - MESSAGE_KEYS)
            problems.append(error(f"{rule}.message_unrecognized_key",
                                  f"Message {i} has unrecognised key(s) {', '.join(extra)}.",
                                  f"Allowed: {', '.join(sorted(MESSAGE_KEYS))}."))
        if role not in ROLES:
            problems.append(error(f"{rule}.unrecognized_role",
                                  f"Message {i} has role {role!r}.",
                                  f"Use one of {', '.join(sorted(ROLES))}."))
        if not (content is None and has_tools) and (not content or not isinstance(content, str)):
            problems.append(error(f"{rule}.missing_content", f"Message {i} has no text content.",
                                  "Exclude outputs with empty text, or fill in the turn."))
        if "weight" in message:
            if role != "assistant":
                problems.append(error(f"{rule}.weight_role", f"Message {i} ({role})"
                                      " carries a weight; only assistant messages may.",
                                      "Remove `weight` from non-assistant messages."))
            elif message["weight"] not in (0, 1) or isinstance(message["weight"], bool):
                problems.append(error(f"{rule}.weight_value",
                                      f"Message {i} has weight {message['weight']!r}.",
                                      "A weight is the integer 0 (skip) or 1 (train on)."))
    if not replies:
        problems.append(error(f"{rule}.example_missing_assistant_message",
                              "The example has no assistant message to learn from.",
                              "End each example with the output to learn."))
    elif not trained:
        problems.append(error(f"{rule}.nothing_trained", "Every assistant message has weight 0, "
                              "so the example teaches nothing.", "Give the final reply weight 1."))
    return problems


class OpenAISFT(Target):
    name = "openai-sft"
    description = "OpenAI chat fine-tuning JSONL (few-shot turns carry weight 0)"
    kinds = ("sft",)
    masks_examples = True
    service = "OpenAI"
    min_examples = 10
    token_limit = DEFAULT_LIMIT
    over_limit_note = "OpenAI truncates longer examples during fine-tuning"

    def limit_for(self, base_model: str | None) -> int | None:
        return limit_for_model(base_model)

    def training_estimate(self, tokens: list[int], base_model: str | None) -> str | None:
        return training_estimate(tokens, limit_for_model(base_model))

    def record(self, example: TrainingExample, kind: Kind) -> dict[str, Any]:
        return {"messages": chat_messages(example, weights=True)}

    def check(self, record: Any, kind: Kind) -> Iterable[Problem]:
        problem = not_an_object(record, self.service)
        if problem:
            return [problem]
        extra = sorted(set(record) - RECORD_KEYS)
        problems = [error("openai.unrecognized_key", f"The line has key(s) {', '.join(extra)} "
                          "that OpenAI's chat format does not define.",
                          "Keep only messages, tools and parallel_tool_calls.")] if extra else []
        return problems + message_problems(record.get("messages"))


TARGET = OpenAISFT()
