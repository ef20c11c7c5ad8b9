"""`{{variable}}` templates: find the variables, render them, report every problem before a call.

The syntax, decided once here and shown to users in the editor:

* A variable is ``{{name}}``; spaces inside the braces are allowed (``{{ name }}``).
* A name starts with a letter or ``_`` and continues with letters, digits, ``_``, ``.`` or ``-``,
  but does not end with ``.`` or ``-``. Dots and dashes are part of the name, not a lookup:
  ``{{customer.name}}`` is the test-case column called ``customer.name``, exactly as a CSV header
  would spell it.
* ``\\{{`` is a literal ``{{`` (the backslash is dropped). Any other ``{{...}}`` that is not a valid
  name (``{{first name}}``, ``{{}}``) is sent as written; the pre-flight warns about it.
* Values are inserted once and never re-scanned, so a test case containing ``{{x}}`` stays literal.

Rendering is all-or-nothing: a missing value raises ``MissingVariables`` naming every missing
variable, so a half-filled prompt is never sent to a model.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from lab.core.model import Message, Step, TestCase, Variant

_NAME = r"[A-Za-z_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?"
# One scanner for all three token kinds, so rendering, listing and linting can never disagree
# about where a variable starts. Alternation order matters: escape, then variable, then malformed.
_TOKEN = re.compile(r"\\\{\{|\{\{\s*(" + _NAME + r")\s*\}\}|\{\{([^{}\n]{0,80})\}\}")


class MissingVariables(Exception):
    """Raised instead of rendering a prompt with holes in it."""

    def __init__(self, names: Iterable[str]):
        self.names = list(dict.fromkeys(names))
        listed = ", ".join("{{" + n + "}}" for n in self.names)
        super().__init__(f"no value for {listed}")


def variables(text: str) -> list[str]:
    """The variable names used in ``text``, in order of first appearance, without repeats."""
    found = (m.group(1) for m in _TOKEN.finditer(text) if m.group(1))
    return list(dict.fromkeys(found))


def variable_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of every variable occurrence, for editors that highlight them; escaped
    ``\\{{`` and malformed ``{{...}}`` are not included, exactly as ``render`` treats them."""
    return [(m.start(), m.end(), m.group(1)) for m in _TOKEN.finditer(text) if m.group(1)]


def malformed_placeholders(text: str) -> list[str]:
    """``{{...}}`` spans that look like variables but are not valid names (sent as written)."""
    return [m.group(0) for m in _TOKEN.finditer(text) if m.group(2) is not None]


def as_text(value: Any) -> str | None:
    if value is None:  # a JSONL null is "no value", not the word "None"
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # JSONL rows carry JSON spellings; keep them
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def render(text: str, values: Mapping[str, Any]) -> str:
    """Replace every ``{{name}}`` with its value; raise ``MissingVariables`` if any has none."""
    missing = [n for n in variables(text) if as_text(values.get(n)) is None]
    if missing:
        raise MissingVariables(missing)

    def replace(m: re.Match[str]) -> str:
        if m.group(1):
            return as_text(values[m.group(1)]) or ""
        if m.group(0) == "\\{{":
            return "{{"
        return m.group(0)

    return _TOKEN.sub(replace, text)


def variant_fields(variant: Variant) -> list[tuple[str, str]]:
    """(field name as the user sees it, text) for every templated part of a variant that is sent.

    Examples are numbered by their row in the examples table, disabled ones included, so
    "example 3" is the third row the user sees.
    """
    fields = [("system prompt", variant.system)]
    for i, ex in enumerate(variant.examples, start=1):
        if ex.enabled:
            fields += [(f"example {i} input", ex.input), (f"example {i} output", ex.output)]
    return fields


CONTEXT = "context"  # filled by the lab: the retrieved passages of a variant with retrieval on


def with_context(case: TestCase, passages: str | None = None) -> TestCase:
    """The test case as prompts see it: `{{context}}` is the retrieved passages when the variant
    retrieves; otherwise the case's own `context` column if it has one, else empty — so a shared
    user message with {{context}} serves a "with vs without retrieval" A/B as it is."""
    if passages is None and CONTEXT in case.vars:
        return case
    return TestCase({**case.vars, CONTEXT: passages or ""}, case.label, case.id)


STEPS = "steps."  # {{steps.NAME}}: an earlier step's output in a chain


def step_variant(variant: Variant, step: Step) -> Variant:
    """A chain's step as the one-call variant it is sent as: its own prompt and model, the
    variant's parameters under its own."""
    return Variant(name=f"{variant.name} › {step.name}", model=step.model or variant.model,
                   system=step.system, params={**variant.params, **step.params},
                   retrieval=variant.retrieval)


def with_steps(case: TestCase, outputs: Mapping[str, str]) -> TestCase:
    """The test case with the earlier steps' outputs: `steps.NAME` is the text, and for an
    output that is a JSON object, `steps.NAME.field` each field's value."""
    values = dict(case.vars)
    for name, text in outputs.items():
        values[f"{STEPS}{name}"] = text
        try:
            data = json.loads(text.strip().removeprefix("```json").removesuffix("```"))
        except ValueError:
            continue
        if isinstance(data, dict):
            for key, value in data.items():
                values[f"{STEPS}{name}.{key}"] = value
    return TestCase(values, case.label, case.id)


def build_messages(variant: Variant, user_template: str, case: TestCase) -> list[Message]:
    """The conversation for one call: system, few-shot turns, then the rendered user message."""
    texts = [t for _, t in variant_fields(variant)] + [user_template]
    missing = [n for t in texts for n in variables(t) if as_text(case.vars.get(n)) is None]
    if missing:  # check everything first so the error lists every missing name at once
        raise MissingVariables(missing)
    messages: list[Message] = []
    system = render(variant.system, case.vars)
    if system.strip():  # decided after rendering: "{{persona}}" may be empty for this case
        messages.append(Message("system", system))
    for ex in variant.enabled_examples():
        messages.append(Message("user", render(ex.input, case.vars), is_example=True))
        messages.append(Message("assistant", render(ex.output, case.vars), is_example=True))
    messages.append(Message("user", render(user_template, case.vars)))
    return messages


# --- Token estimate -------------------------------------------------------------------------
# An offline guess for the live counter in the editor and the pre-flight cost estimate; the real
# counts come back in each provider's usage. For Latin-script text and code, two rough estimators
# are averaged:
#   * characters / 4, the usual rule of thumb for English with BPE tokenizers;
#   * pieces: ASCII words cost 1 token per 8 letters (rounded up), digit runs 1 per 3 (tokenizers
#     split long numbers into groups of 3), and punctuation runs 1 per 2 characters (JSON and code
#     are punctuation-heavy).
# Other word characters (accents, Cyrillic, CJK) cost 3 tokens per 4, added in full: the
# characters/4 rule undercounts them badly.
# It errs somewhat high for English prose (better to over-warn on a budget) and is rougher for
# other scripts; it was tuned by hand on a few prose, JSON and code samples, not fitted to a
# bundled tokenizer (none is a dependency).
# Every piece cost is rounded up per run, so inserting any character never lowers the estimate
# (the counter never jumps backwards while typing).
#
#
# An export estimates every output it writes, so the estimate is a few C-level passes over the
# text's bytes, with no Python step per word: each class becomes a mask (b" ", then b"x" for each
# character of the class and b" " for any other) whose runs bytes methods count. A run of L
# characters in pieces of at most n costs ceil(L / n): the whole n-character chunks in the run
# once n - 1 more b"x" are put at its start. Non-ASCII characters are first replaced by a
# stand-in of their class (one regex pass, only for text that has any), so the masks see ASCII
# and that stand-in alone. The tests check this against the definition above, written as a regex
# scan per class, on random text.
_OTHER_WORD = "\x80"  # the stand-in for any non-ASCII word character (accents, Cyrillic, CJK)
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# In a run of non-ASCII characters: runs of word characters, whitespace and punctuation.
_CLASS_RUNS = re.compile(r"(?P<word>\w+)|(?P<space>\s+)|[^\w\s]+")
_STAND_INS = {"word": _OTHER_WORD, "space": " ", None: "!"}


def _stand_ins(run: re.Match[str]) -> str:
    return _CLASS_RUNS.sub(lambda m: _STAND_INS[m.lastgroup] * len(m[0]), run[0])


def _mask(members: str) -> bytes:
    """A `bytes.translate` table: the bytes `members` matches become b"x", the others b" "."""
    match = re.compile(members).fullmatch
    return bytes(ord("x") if match(chr(code)) else ord(" ") for code in range(256))


def _pieces(members: str, longest: int) -> tuple[bytes, bytes, bytes]:
    """(mask, the start of a run with its padding, a piece) for a class of pieces of at most
    `longest` characters."""
    return _mask(members), b" " + b"x" * longest, b"x" * longest


# ASCII words, digit runs and punctuation runs (not the stand-in); then other words.
_LATIN_PIECES = (_pieces("[A-Za-z_]", 8), _pieces("[0-9]", 3), _pieces(r"[^\w\s\x80-\xff]", 2))
_OTHER_WORDS = _mask(_OTHER_WORD)

# OpenAI's published accounting: each message costs 3-4 tokens of framing (role, separators)
# and every reply is primed with 3 more; 4 errs high. Other providers are close enough.
MESSAGE_OVERHEAD_TOKENS = 4
REPLY_PRIMING_TOKENS = 3


def estimate_tokens(text: str) -> int:
    """A cheap, monotonic estimate of how many tokens ``text`` is (0 for empty text)."""
    if not text:
        return 0
    plain = text.isascii()
    if not plain:
        text = _NON_ASCII.sub(_stand_ins, text)
    raw = b" " + text.encode("latin-1")
    latin = 0
    for mask, padded_start, piece in _LATIN_PIECES:
        latin += raw.translate(mask).replace(b" x", padded_start).count(piece)
    other_chars = other = 0
    if not plain:  # a run of L other word characters costs ceil(3L / 4) = L - floor(L / 4)
        runs = raw.translate(_OTHER_WORDS)
        other_chars = runs.count(b"x")
        other = other_chars - runs.count(b"xxxx")
    return max(1, math.ceil((latin + (len(text) - other_chars) / 4) / 2) + other)


def estimate_messages_tokens(messages: Iterable[Message]) -> int:
    """Estimated prompt tokens of a whole conversation, including per-message framing."""
    total = REPLY_PRIMING_TOKENS
    for m in messages:
        total += MESSAGE_OVERHEAD_TOKENS + estimate_tokens(m.content)
    return total
