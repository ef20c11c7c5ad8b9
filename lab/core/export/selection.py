"""What a dataset is made of: the selection rules a user saved, and the outputs they select.

A `Selection` is the user's filter in their own words (score at least 4, thumbs up, tagged
"good", every check passed, from experiment "tone", variant B, a search, or picked by hand).
It is stored as JSON in the workspace and evaluated again on every read, so an output judged
after the dataset was saved counts the next time it is exported.

`SelectedCall` is one selected output with everything an exporter needs, and `PreferencePair`
two outputs for the same input where one was judged better. Both come from
`lab.core.export.datasets`, which holds the SQL; nothing here touches the database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from types import MappingProxyType
from typing import Any

from lab.core.model import Example, Message

NO_CHECKS: Mapping[str, bool] = MappingProxyType({})


class SelectionError(ValueError):
    """A saved or typed selection that cannot be understood; the message names the field."""


@dataclass
class Selection:
    """Which logged outputs a dataset holds. Every rule given must hold (they are combined with
    AND); an empty selection means every successful output in the workspace.

    Hand picks sit on top of the rules: `include_calls` are added even when the rules would
    leave them out, `exclude_calls` are removed whatever the rules say.
    """

    min_score: int | None = None  # the 1-5 score is at least this
    thumbs_up: bool = False
    tags: list[str] = field(default_factory=list)  # carries every one of these tags
    exclude_tags: list[str] = field(default_factory=list)  # carries none of these (failure modes)
    checks_passed: bool = False  # has check results and none of them failed
    checks: list[str] = field(default_factory=list)  # these named checks passed
    experiments: list[str] = field(default_factory=list)  # experiment names
    runs: list[int] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)  # "gpt-4o-mini" or "openai/gpt-4o-mini"
    search: str = ""  # full-text search over outputs and the prompts sent
    include_calls: list[int] = field(default_factory=list)
    exclude_calls: list[int] = field(default_factory=list)
    hand_picked_only: bool = False  # ignore the rules: only `include_calls`
    # A prompt chain's step by name: the dataset holds that step's own calls (its prompt and
    # output as sent) of the chains the rules select, instead of the chains' final outputs. The
    # rules and hand picks still apply to the chain's output (its rating, tags and checks).
    step: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The rules that differ from the default, ready for `json.dumps`."""
        default = Selection()
        return {k: v for k, v in asdict(self).items() if v != getattr(default, k)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Selection:
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise SelectionError(
                f"Unknown selection rule(s): {', '.join(unknown)}. "
                f"Known rules: {', '.join(known)}."
            )
        values = dict(data)
        for name in ("tags", "exclude_tags", "checks", "experiments", "variants", "models"):
            if isinstance(values.get(name), str):  # one value typed where a list belongs
                values[name] = [values[name]]
        selection = cls(**values)
        if selection.min_score is not None and not 1 <= int(selection.min_score) <= 5:
            raise SelectionError(f"min_score must be between 1 and 5, not {selection.min_score}.")
        return selection

    def describe(self) -> str:
        """One line a person reads in the dataset card: what was selected."""
        of_step = f"; step “{self.step}” of each chain" if self.step else ""
        if self.hand_picked_only:
            return f"{len(self.include_calls)} output(s) picked by hand{of_step}"
        parts = []
        if self.min_score is not None:
            parts.append(f"score >= {self.min_score}")
        if self.thumbs_up:
            parts.append("thumbs up")
        for label, items in (("tagged", self.tags), ("not tagged", self.exclude_tags),
                             ("passed check", self.checks), ("experiment", self.experiments),
                             ("run", self.runs), ("variant", self.variants),
                             ("model", self.models)):
            if items:
                parts.append(f"{label} {', '.join(map(str, items))}")
        if self.checks_passed:
            parts.append("every check passed")
        if self.search:
            parts.append(f"matching “{self.search}”")
        text = "; ".join(parts) or "every successful output"
        if self.include_calls:
            text += f"; plus {len(self.include_calls)} picked by hand"
        if self.exclude_calls:
            text += f"; minus {len(self.exclude_calls)} excluded by hand"
        return text + of_step


@dataclass(slots=True)
class SelectedCall:
    """One selected output and what produced it.

    `context` is every turn before the final user message (system prompt, few-shot turns),
    shared between calls made with the same prompt, so 100,000 selected calls hold one copy.
    `datasets.select_calls` passes the fields in this order, by position.
    """

    call_id: int
    context: tuple[Message, ...]
    user: str  # the final user message, rendered as sent
    output: str
    source: str  # "request" (read from the body sent) or "rebuilt" (from the prompt version)
    prompt_version_id: int | None = None
    system_template: str = ""  # the prompt version's text, before {{variables}} were filled
    examples: tuple[Example, ...] = ()
    case_vars_json: str = "{}"  # kept as logged: parsed only when asked for (memory)
    variant: str | None = None
    provider: str = ""
    model: str = ""
    experiment: str | None = None
    run_id: int | None = None
    thumbs: int | None = None
    score: int | None = None
    tags: tuple[str, ...] = ()
    checks: Mapping[str, bool] = field(default_factory=lambda: NO_CHECKS)  # shared empty

    @property
    def case_vars(self) -> dict[str, Any]:
        """The test case's variable values the prompt was rendered with."""
        return json.loads(self.case_vars_json or "{}")

    @property
    def messages(self) -> list[Message]:
        """The conversation exactly as sent: context, then the final user message."""
        return [*self.context, Message("user", self.user)]

    @property
    def system(self) -> str:
        """The system prompt as sent ("" when there was none)."""
        return "\n\n".join(m.content for m in self.context if m.role == "system")

    @property
    def shots(self) -> list[tuple[str, str]]:
        """The few-shot (user, assistant) turns as sent, in order."""
        turns = [m for m in self.context if m.role != "system"]
        return [(u.content, a.content) for u, a in zip(turns[::2], turns[1::2])]


@dataclass(slots=True)
class PreferencePair:
    """Two outputs for the same input, one judged better: chosen and rejected.

    `basis` says why: "pairwise" (a blind comparison) or "ratings" (a higher score or thumbs).
    `same_prompt` is False when the two came from prompts that differ (variants A and B); the
    pair then uses the chosen output's prompt, and the export report says so.
    """

    chosen: SelectedCall
    rejected: SelectedCall
    basis: str
    same_prompt: bool = True


@dataclass
class SkippedCall:
    """A selected output that cannot become a training example, and why (never a silent skip)."""

    call_id: int
    reason: str
