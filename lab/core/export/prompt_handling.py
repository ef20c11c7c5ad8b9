"""What goes into each training example's prompt: the choice that makes fine-tuning pay off.

A logged call carries the long system prompt and few-shot examples the prompt engineer wrote.
Training on them verbatim teaches the model to answer well *when given that prompt*; dropping
or shortening them teaches the behaviour itself, so calls to the tuned model stop paying (in
latency and tokens) for the instructions. `PromptHandling` is that choice:

* system prompt: keep it, drop it, or replace it with a short one;
* few-shot examples: keep them as turns (where the target can mask them from the loss, e.g.
  OpenAI's `weight: 0`, or TRL's prompt), fold them into the system prompt as text, or drop
  them. "auto" keeps them as turns where the target masks them and folds them in elsewhere,
  so a target such as Bedrock never trains on the few-shot answers unless asked to.

`shape` turns one selected output into a `TrainingExample` (the canonical record every format
is a projection of) and records how many prompt tokens it saved against the call as sent.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from lab.core.experiment.template import (
    MESSAGE_OVERHEAD_TOKENS,
    REPLY_PRIMING_TOKENS,
    estimate_tokens,
)
from lab.core.export.conversation import Interner
from lab.core.export.selection import SelectedCall
from lab.core.model import Message

SystemChoice = Literal["keep", "drop", "replace"]
ExamplesChoice = Literal["auto", "turns", "fold", "drop"]
Counter = Callable[[str], int]


@dataclass
class PromptHandling:
    """How the prompt of each logged call appears in its training example."""

    system: SystemChoice = "keep"
    short_system: str = ""  # the replacement when system == "replace"
    examples: ExamplesChoice = "auto"

    def __post_init__(self) -> None:
        if self.system not in ("keep", "drop", "replace"):
            raise ValueError(f"system must be keep, drop or replace, not {self.system!r}")
        if self.examples not in ("auto", "turns", "fold", "drop"):
            raise ValueError(f"examples must be auto, turns, fold or drop, not {self.examples!r}")
        if self.system == "replace" and not self.short_system.strip():
            raise ValueError("system is 'replace' but no short system prompt was given")

    def examples_for(self, target_masks_examples: bool) -> ExamplesChoice:
        if self.examples == "auto":
            return "turns" if target_masks_examples else "fold"
        return self.examples

    def describe(self, target_masks_examples: bool) -> str:
        system = {"keep": "system prompt kept", "drop": "system prompt dropped",
                  "replace": f"system prompt replaced by “{self.short_system}”"}[self.system]
        examples = {"turns": "few-shot examples kept as turns", "fold":
                    "few-shot examples folded into the system prompt",
                    "drop": "few-shot examples dropped"}[self.examples_for(target_masks_examples)]
        return f"{system}; {examples}"


@dataclass(slots=True)
class TrainingExample:
    """One example in the lab's own words; each format writes a projection of it.

    Strings shared between examples (system prompt, few-shot turns) are the same objects.
    `Shaper.shape` passes the fields in this order, by position.
    """

    call_id: int
    system: str  # "" for none
    shots: tuple[tuple[str, str], ...]  # few-shot (input, output) turns kept as turns
    user: str
    chosen: str
    rejected: str | None = None
    rejected_call_id: int | None = None
    source: SelectedCall | None = None
    same_prompt: bool = True
    prompt_tokens: int = 0  # the prompt as written: system, shots, user
    tokens: int = 0  # the whole example: prompt plus the longer reply
    removed_tokens: int = 0  # prompt tokens this example no longer carries, against the call
    split: str = "train"


def _turn_pairs(context: tuple[Message, ...]) -> list[tuple[str, str]] | None:
    """The context's user/assistant turns as pairs, or None if they do not alternate."""
    turns = [m for m in context if m.role != "system"]
    pairs = []
    for i in range(0, len(turns), 2):
        user, reply = turns[i], turns[i + 1] if i + 1 < len(turns) else None
        if user.role != "user" or reply is None or reply.role != "assistant":
            return None
        pairs.append((user.content, reply.content))
    return pairs


def fold(system: str, shots: list[tuple[str, str]]) -> str:
    """The system prompt with the few-shot examples written into it as text."""
    shown = "\n\n".join(f"Input:\n{u}\nOutput:\n{a}" for u, a in shots)
    return "\n\n".join(p for p in (system, f"Examples:\n\n{shown}" if shots else "") if p)


class Shaper:
    """Applies one `PromptHandling` to many selected outputs, sharing what repeats."""

    def __init__(self, handling: PromptHandling, target_masks_examples: bool,
                 count_tokens: Counter | None = None):
        self.handling = handling
        self.examples = handling.examples_for(target_masks_examples)
        # Texts recur (an input in every sample of its test case, an output in several pairs):
        # each is counted once while it is among the recent ones. The prompt parts a context
        # shares are counted once per context below.
        self.count = functools.lru_cache(maxsize=4096)(count_tokens or estimate_tokens)
        self._share = Interner()
        self._prompts: dict[int, tuple[tuple[Message, ...], str, tuple, int, int]] = {}

    def _text_tokens(self, text: str) -> int:
        return MESSAGE_OVERHEAD_TOKENS + self.count(text) if text else 0

    def _prompt(self, call: SelectedCall) -> tuple[str, tuple, int, int]:
        """(system, shots, tokens of the new context, tokens removed) for a call's context."""
        cached = self._prompts.get(id(call.context))
        if cached is not None and cached[0] is call.context:
            return cached[1:]
        system_as_sent = "\n\n".join(m.content for m in call.context if m.role == "system")
        pairs = _turn_pairs(call.context)
        if pairs is None:  # not few-shot turns (a chain's earlier steps): keep them as text
            transcript = "\n\n".join(f"{m.role}: {m.content}" for m in call.context
                                      if m.role != "system")
            pairs, system_as_sent = [], "\n\n".join(
                p for p in (system_as_sent, f"Earlier turns:\n\n{transcript}") if p)
        system = {"keep": system_as_sent, "drop": "",
                  "replace": self.handling.short_system}[self.handling.system]
        shots: tuple = ()
        if self.examples == "turns":
            shots = tuple(pairs)
        elif self.examples == "fold":
            system = fold(system, pairs)
        system, shots = self._share(system), self._share(shots)
        before = sum(self._text_tokens(m.content) for m in call.context)
        after = self._text_tokens(system) + sum(
            self._text_tokens(u) + self._text_tokens(a) for u, a in shots)
        entry = (call.context, system, shots, after, before - after)
        self._prompts[id(call.context)] = entry
        return entry[1:]

    def shape(self, call: SelectedCall, rejected: SelectedCall | None = None,
              same_prompt: bool = True) -> TrainingExample:
        system, shots, context_tokens, removed = self._prompt(call)
        prompt_tokens = REPLY_PRIMING_TOKENS + context_tokens + self._text_tokens(call.user)
        reply = self.count(call.output)
        if rejected is not None:
            reply = max(reply, self.count(rejected.output))
        # In field order, not by keyword: this runs once per example, and matching a dozen
        # keywords costs more than the rest of the call.
        return TrainingExample(
            call.call_id, system, shots, call.user, call.output,
            rejected.output if rejected else None, rejected.call_id if rejected else None, call,
            same_prompt, prompt_tokens, prompt_tokens + MESSAGE_OVERHEAD_TOKENS + reply, removed,
        )
