"""The conversation a logged call really sent, read back from its recorded request body.

Each provider family reshapes the lab's messages for its wire format (system as a message, as a
top-level string, or as `systemInstruction`; `assistant` or `model`; plain strings or parts).
An export needs them back in the lab's own words, so this module reads all four shapes. When a
body cannot be read (an old row, a request recorded without its body), the conversation is
rebuilt from the call's prompt version and test-case values with the same `build_messages` the
runner used.

Everything before the final user message is the prompt's context (system prompt, few-shot turns,
earlier steps of a chain): it is marked `is_example` where it is a user/assistant turn, because
only the final reply is what the user judged and what a training example should teach.
"""

from __future__ import annotations

import json
from typing import Any

from lab.core.experiment.template import MissingVariables, build_messages
from lab.core.model import Message, PromptVersion, TestCase, Variant

_ROLES = {"system": "system", "developer": "system", "user": "user",
          "assistant": "assistant", "model": "assistant"}

# A message of a conversation as plain data: (role, text, is_example). Calls made with one prompt
# repeat the same leading turns; `Interner.context` turns each distinct run into Messages once.
Turn = tuple[str, str, bool]


class Interner:
    """Hands back one shared object for equal prompt parts.

    A workspace with 100,000 calls of one prompt holds the same long system prompt 100,000
    times once the request bodies are parsed; sharing one copy keeps an export's memory at the
    size of the inputs and outputs alone.
    """

    def __init__(self) -> None:
        self._seen: dict[Any, Any] = {}
        self._last: tuple[list[Turn], tuple[Message, ...]] = ([], ())

    def __call__(self, value: Any) -> Any:
        return self._seen.setdefault(value, value)

    def context(self, turns: list[Turn]) -> tuple[Message, ...]:
        """One shared tuple of messages for every equal run of turns, made the first time."""
        last_turns, last = self._last
        if turns == last_turns:  # calls in a row of one prompt: comparing costs less than hashing
            return last
        key = tuple(turns)
        shared = self._seen.get(key)
        if shared is None:
            shared = self._seen[key] = tuple(Message(role, text, example)  # type: ignore[arg-type]
                                             for role, text, example in key)
        self._last = (turns, shared)
        return shared


def _text(content: Any) -> str | None:
    """Plain text of a message's content: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            else:
                return None  # an image or a tool block: not a text conversation we can export
        return "".join(texts)
    if isinstance(content, dict) and isinstance(content.get("parts"), list):
        return _text(content["parts"])
    return None


def turns_from_request(request: dict[str, Any]) -> list[Turn] | None:
    """The turns of a recorded request body (OpenAI, Ollama, Anthropic or Gemini shape).

    None when the body holds no conversation we can read, so the caller rebuilds it instead.
    """
    turns: list[Turn] = []
    if isinstance(request.get("contents"), list):  # Gemini
        system = _text(request.get("systemInstruction") or request.get("system_instruction"))
        if system:
            turns.append(("system", system, False))
        messages, default_role, content_key = request["contents"], "user", "parts"
    elif isinstance(request.get("messages"), list):  # OpenAI, Ollama, Anthropic
        system = request.get("system")
        if system is not None:  # Anthropic keeps the system prompt out of the messages
            text = _text(system)
            if text is None:
                return None
            if text:
                turns.append(("system", text, False))
        messages, default_role, content_key = request["messages"], None, "content"
    else:
        return None
    for message in messages:
        if not isinstance(message, dict):
            continue
        content = message.get(content_key)
        text = content if isinstance(content, str) else _text(content)
        role = _ROLES.get(message.get("role", default_role))  # type: ignore[arg-type]
        if role is None or text is None:
            return None
        # Every user/assistant turn before the final user message is the prompt's context.
        turns.append((role, text, role != "system"))
    if not turns or turns[-1][0] != "user":
        return None
    turns[-1] = ("user", turns[-1][1], False)
    return turns


def rebuild_messages(version: PromptVersion, case_vars: dict[str, Any]) -> list[Message]:
    """The conversation the runner would send for this prompt version and test case.

    Raises MissingVariables when the case lacks a value the prompt needs.
    """
    variant = Variant(name="", model="", system=version.system, examples=version.examples)
    return build_messages(variant, version.user_template, TestCase(vars=dict(case_vars)))


def conversation_of(
    request: dict[str, Any], version: PromptVersion | None, case_vars_json: str
) -> tuple[list[Turn] | None, str]:
    """(turns, where they came from): "request", "rebuilt", or (None, why not).

    The test case's values arrive as logged (JSON) and are parsed only to rebuild.
    """
    turns = turns_from_request(request)
    if turns is not None:
        return turns, "request"
    if version is None:
        return None, ("the request body holds no readable conversation and there is no prompt "
                      "version to rebuild it from")
    try:
        messages = rebuild_messages(version, json.loads(case_vars_json or "{}"))
    except MissingVariables as exc:
        return None, f"the prompt cannot be rebuilt: {exc}"
    return [(m.role, m.content, m.is_example) for m in messages], "rebuilt"
