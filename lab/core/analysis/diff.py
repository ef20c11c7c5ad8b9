"""Word-level differences between two texts: two prompt versions, two variants, two outputs.

The result is a list of spans a view can colour (equal / removed / added), computed once here so
the prompt diff and the output diff agree. Whitespace is kept as its own token, so the texts
rebuild exactly from the spans.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["equal", "removed", "added"]
_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class Span:
    kind: Kind
    text: str


@dataclass
class TextDiff:
    left: list[Span]  # the first text: equal and removed spans
    right: list[Span]  # the second text: equal and added spans

    @property
    def changed(self) -> bool:
        return any(s.kind != "equal" for s in self.left + self.right)

    def counts(self) -> tuple[int, int]:
        """Words removed and words added (whitespace not counted)."""
        def words(spans: list[Span], kind: Kind) -> int:
            return sum(len(s.text.split()) for s in spans if s.kind == kind)

        return words(self.left, "removed"), words(self.right, "added")


def tokens(text: str) -> list[str]:
    return _TOKENS.findall(text)


def word_diff(a: str, b: str) -> TextDiff:
    ta, tb = tokens(a), tokens(b)
    left: list[Span] = []
    right: list[Span] = []
    matcher = difflib.SequenceMatcher(a=ta, b=tb, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            text = "".join(ta[i1:i2])
            _append(left, "equal", text)
            _append(right, "equal", text)
            continue
        if i2 > i1:
            _append(left, "removed", "".join(ta[i1:i2]))
        if j2 > j1:
            _append(right, "added", "".join(tb[j1:j2]))
    return TextDiff(left, right)


def _append(spans: list[Span], kind: Kind, text: str) -> None:
    # Neighbouring spans of one kind merge, so a view draws one highlight, not one per word.
    if spans and spans[-1].kind == kind:
        spans[-1] = Span(kind, spans[-1].text + text)
    else:
        spans.append(Span(kind, text))


def prompt_text(system: str, user_template: str, examples: list) -> str:
    """A prompt (system text, user-message template, few-shot examples) as one text to compare:
    two prompt versions, or a version and the prompt in the editor."""
    lines = ["System prompt:", system, "", "User message:", user_template, ""]
    for number, example in enumerate(examples, start=1):
        state = "" if example.enabled else " (disabled)"
        lines += [f"Example {number}{state}:", f"User: {example.input}",
                  f"Assistant: {example.output}", ""]
    return "\n".join(lines)
