"""Chat message lists (promptfoo's chat prompts, Evals inputs) as the lab's prompt parts.

A lab variant sends: its system prompt, its few-shot examples (user/assistant pairs), then the
shared user message. A message list converts when it has that shape: system (or developer)
messages first, then user/assistant pairs, then one user message. Content may be text or a
list of text parts; anything else (images, audio, tool calls) cannot be expressed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lab.core.model import Example

SYSTEM_ROLES = ("system", "developer")


@dataclass
class PromptParts:
    system: str = ""
    examples: list[Example] = field(default_factory=list)
    user: str = ""

    def texts(self) -> list[str]:
        return [self.system, self.user] + [t for e in self.examples for t in (e.input, e.output)]


class NotAPrompt(ValueError):
    """The message list does not have a shape the lab can send; the message says why."""


def is_message_list(value: Any) -> bool:
    return (isinstance(value, list) and bool(value)
            and all(isinstance(m, dict) and "role" in m for m in value))


def content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, dict):  # one part given on its own: {"type": "input_text", ...}
        content = [content]
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and part.get("type") in ("text", "input_text") \
                    and isinstance(part.get("text"), str):
                texts.append(part["text"])
            else:
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise NotAPrompt(f"a message part of type '{kind}' (only text is sent by the lab)")
        return "".join(texts)
    raise NotAPrompt(f"message content of type {type(content).__name__} (only text is sent)")


def split_messages(messages: list[dict[str, Any]]) -> PromptParts:
    """The parts of a message list, or NotAPrompt naming what does not fit."""
    parts = PromptParts()
    turns = []
    systems = []
    for i, message in enumerate(messages, start=1):
        role = message.get("role")
        extra = sorted(set(message) - {"role", "content", "type"})
        if extra:
            raise NotAPrompt(f"message {i} has {', '.join(extra)} (only role and text content "
                             "are sent by the lab)")
        text = content_text(message.get("content", ""))
        if role in SYSTEM_ROLES:
            if turns:
                raise NotAPrompt(f"message {i} is a {role} message after the conversation "
                                 "started (the lab sends the system prompt first)")
            systems.append(text)
        elif role in ("user", "assistant"):
            turns.append((role, text))
        else:
            raise NotAPrompt(f"message {i} has the role '{role}' (the lab sends system, user and "
                             "assistant messages)")
    parts.system = "\n\n".join(systems)
    if not turns or turns[-1][0] != "user":
        raise NotAPrompt("the conversation does not end with a user message (the lab sends the "
                         "test case as the last user message)")
    *history, last = turns
    if len(history) % 2 or any(
            role != ("user" if k % 2 == 0 else "assistant") for k, (role, _) in enumerate(history)):
        raise NotAPrompt("the turns before the last user message do not alternate user, "
                         "assistant (the lab sends earlier turns as few-shot pairs)")
    parts.examples = [Example(input=history[k][1], output=history[k + 1][1])
                      for k in range(0, len(history), 2)]
    parts.user = last[1]
    return parts
