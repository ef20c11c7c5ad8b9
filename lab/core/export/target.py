"""What every export format provides, and rule helpers more than one of them applies.

A format ("target") writes `TrainingExample`s as its own records and validates records against
the rules its service or trainer publishes (`reference/export-formats.md`). Validation reads the
record as it will be written, not the example it came from, so `check` is also a validator for
files made elsewhere (see `check_file`).

Each format module defines one `Target` subclass instance; `registry` maps names to them.
"""

from __future__ import annotations

import functools
import json
import json.encoder
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from lab.core.export.prompt_handling import TrainingExample
from lab.core.export.validation import Problem, error, warning

Kind = Literal["sft", "preference"]
Layout = Literal["jsonl", "json-array", "csv"]


class Target:
    """One export format. Subclasses set the class attributes and write `record` and `check`."""

    name = ""
    description = ""
    kinds: tuple[Kind, ...] = ("sft",)
    # Whether few-shot turns can stay in the example without being trained on; if not, what
    # happens when the user keeps them as turns anyway.
    masks_examples = False
    turns_note = "the model will be trained on their answers too"
    layout: Layout = "jsonl"
    suffix = ".jsonl"
    service = ""  # who publishes the rules, for messages: "OpenAI", "Bedrock", ...
    min_examples = 1  # fewer is an error: the service refuses the file
    recommended_examples = 50  # fewer is a warning (the brief's "50-100 for a first useful tune")
    max_train_examples: int | None = None
    max_validation_examples: int | None = None
    token_limit: int | None = None  # per example; None = no published limit
    over_limit: Literal["error", "warning"] = "warning"
    over_limit_note = ""  # what happens to longer examples
    max_file_bytes: int | None = None

    def limit_for(self, base_model: str | None) -> int | None:
        """The per-example token limit for the model being tuned (when it matters)."""
        return self.token_limit

    def training_estimate(self, tokens: list[int], base_model: str | None) -> str | None:
        """What a training job on these examples would cost, where the service publishes how
        it counts (one sentence), else None."""
        return None

    def record(self, example: TrainingExample, kind: Kind) -> dict[str, Any]:
        raise NotImplementedError

    def check(self, record: Any, kind: Kind) -> Iterable[Problem]:
        raise NotImplementedError

    def dataset_problems(self, train: int, validation: int, kind: Kind) -> list[Problem]:
        """Rules on the whole export: how many examples the service takes and recommends."""
        problems = []
        if train < self.min_examples:
            problems.append(error(f"{self.name}.too-few", f"{train} training example(s); "
                                  f"{self.service} needs at least {self.min_examples}.",
                                  "Select more outputs (rate more, or loosen the selection)."))
        elif train < self.recommended_examples:
            problems.append(warning(f"{self.name}.few", f"{train} training example(s); "
                                    f"{self.recommended_examples} or more are recommended for a "
                                    "first useful tune (hundreds to thousands for reliable "
                                    "results).", "Collect and judge more outputs before tuning,"
                                    " or improve the prompt first."))
        for count, cap, which in ((train, self.max_train_examples, "training"),
                                  (validation, self.max_validation_examples, "validation")):
            if cap is not None and count > cap:
                problems.append(error(f"{self.name}.too-many-{which}", f"{count} {which} "
                                      f"examples; {self.service} takes at most {cap:,}.",
                                      "Select fewer outputs or change the split."))
        return problems

    def extra_files(self, files: dict[str, str], kind: Kind, dataset: str,
                    examples: Sequence[TrainingExample]) -> dict[str, str]:
        """Other files the target needs beside the data (name -> text); `files` maps each
        split ("train", "validation") to its file name, `examples` are the ones written."""
        return {}


# ----------------------------------------------------------------------------- shared rules

def keys_problem(record: dict, allowed: Iterable[str], required: Iterable[str],
                 rule: str, service: str) -> Problem | None:
    allowed, required = set(allowed), set(required)
    if required.issubset(record) and allowed.issuperset(record):
        return None
    missing = sorted(required - set(record))
    extra = sorted(set(record) - allowed)
    if missing:
        return error(f"{rule}.missing-key", f"The record has no {', '.join(missing)}.",
                     f"{service} needs {', '.join(sorted(required))} on every line.")
    if extra:
        return error(f"{rule}.extra-key", f"The record has keys {service} does not accept: "
                     f"{', '.join(extra)}.", f"Allowed keys: {', '.join(sorted(allowed))}.")
    return None


def text_problem(value: Any, what: str, rule: str) -> Problem | None:
    """A message text must be a non-empty string."""
    if not isinstance(value, str):
        return error(f"{rule}.content-type", f"The {what} is not a plain string.",
                     "Write text content as a string.")
    if not value.strip():
        return error(f"{rule}.empty", f"The {what} is empty.",
                     "Exclude this output from the dataset or fix the prompt that produced it.")
    return None


def alternation_problems(roles: list[str], first: set[str], user: str, reply: str,
                         last: str | None, rule: str, service: str) -> list[Problem]:
    """Roles must start with one of `first` and then alternate `user`/`reply`; `last` ends."""
    if not roles:
        return [error(f"{rule}.no-messages", "The conversation has no messages.",
                      f"{service} needs at least one {user} and one {reply} turn.")]
    problems = []
    if roles[0] not in first:
        problems.append(error(f"{rule}.first-role", f"The first turn is {roles[0]!r}; {service} "
                              f"needs it to be {' or '.join(sorted(first))}.",
                              "Start the conversation with the user's message."))
    body = roles[1:] if roles[0] == "system" else roles
    for i, role in enumerate(body):
        want = user if i % 2 == 0 else reply
        if role != want:
            problems.append(error(f"{rule}.alternation", f"Turn {i + 1} is {role!r} where "
                                  f"{service} expects {want!r}: {user} and {reply} must "
                                  "alternate.", "Merge or remove the repeated turn."))
            break
    if last and roles[-1] != last:
        problems.append(error(f"{rule}.last-role", f"The last turn is {roles[-1]!r}; {service} "
                              f"needs the conversation to end with {last!r}.",
                              "End each example with the output to learn."))
    return problems


def chat_messages(example: TrainingExample, weights: bool) -> list[dict[str, Any]]:
    """OpenAI-style messages: system, few-shot turns, the input, the output to learn.

    With `weights`, few-shot replies carry `weight: 0` (not trained on) and the final reply
    `weight: 1`; without few-shot turns no message carries a weight, so files without them keep
    the plain two-key message shape every reader expects.
    """
    messages: list[dict[str, Any]] = []
    if example.system:
        messages.append({"role": "system", "content": example.system})
    marked = weights and bool(example.shots)
    for user, reply in example.shots:
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": reply, "weight": 0} if marked
                        else {"role": "assistant", "content": reply})
    messages.append({"role": "user", "content": example.user})
    messages.append({"role": "assistant", "content": example.chosen, "weight": 1} if marked
                    else {"role": "assistant", "content": example.chosen})
    return messages


def prompt_messages(example: TrainingExample) -> list[dict[str, str]]:
    """The prompt alone (for preference and prompt/completion formats): no output, no weights."""
    return chat_messages(example, weights=False)[:-1]


def not_an_object(record: Any, service: str) -> Problem | None:
    if not isinstance(record, dict):
        return error("format.not-object",
                     f"The line is not a JSON object ({type(record).__name__}).",
                     f"Each line of a {service} file must be one JSON object.")
    return None


# The options every line is written with; one encoder, as json.dumps builds one per call for them.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


def dumps(record: Any) -> str:
    """One record as written: compact JSON, real UTF-8 characters (not \\u escapes)."""
    return _ENCODER.encode(record)


class LineEncoder:
    """`dumps` for the many lines of one file, without escaping the same text again per line.

    The lines of an export repeat strings: every example of a prompt carries its system prompt
    and few-shot turns (often most of the line), and every line the same keys. This keeps the
    JSON text of the most recently written strings (a bounded cache, one per file) and hands it
    to the C encoder json.dumps uses, built with the same options; the text is identical.
    """

    def __init__(self, strings: int = 256):
        self._string = functools.lru_cache(maxsize=strings)(json.encoder.encode_basestring)
        self._encode = self._encoder()

    def _encoder(self) -> Any:
        if json.encoder.c_make_encoder is None:  # no C accelerator: nothing to gain
            return None
        return json.encoder.c_make_encoder(
            {}, _ENCODER.default, self._string, None, _ENCODER.key_separator,
            _ENCODER.item_separator, False, False, True)

    def __call__(self, record: Any) -> str:
        if self._encode is None:
            return dumps(record)
        try:
            return "".join(self._encode(record, 0))
        except BaseException:
            # Its circular-reference markers may still hold this record's containers.
            self._encode = self._encoder()
            raise
