"""Links from a figure to the outputs behind it: what a view selects when the user clicks it.

A `Link` is small and serialisable (it goes into `lab report --json` as it is): either the ids
of the calls behind a figure ("the 7 outputs tagged hallucination"), or a selection filter in
the export's own words (`lab.core.export.selection.Selection.to_dict()`, e.g. ``{"runs": [3],
"variants": ["B"]}``) when the figure stands for "every output of ...". A view opens the calls,
or evaluates the selection with the export's `select_calls`; the history filters take the same
variant/experiment names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Link:
    """What to select to show the outputs behind a figure."""

    call_ids: tuple[int, ...] = ()
    selection: dict[str, Any] | None = None  # an export Selection, as its dict
    note: str = ""  # what the outputs are, in a few words

    @classmethod
    def calls(cls, ids: Iterable[int], note: str = "") -> Link:
        return cls(tuple(sorted(set(ids))), None, note)

    @classmethod
    def select(cls, note: str = "", **rules: Any) -> Link:
        return cls((), {k: v for k, v in rules.items() if v not in (None, [], "", False)}, note)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.selection is not None:
            out["selection"] = self.selection
        else:
            out["call_ids"] = list(self.call_ids)
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Reason:
    """One sentence of the decision, with the number(s) it rests on and where they come from."""

    text: str
    figures: dict[str, Any] = field(default_factory=dict)
    link: Link | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "figures": self.figures,
                "link": self.link.to_dict() if self.link else None}
