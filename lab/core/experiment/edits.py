"""What an edit to one of a project's lists did, said in words: the Edit ▸ Undo and Redo menu
items name it ("Undo Delete 2 test cases"). Items are compared by identity, not value: two test
cases with the same text are still two test cases.
"""

from __future__ import annotations

from typing import Any, Literal

ChangeKind = Literal["add", "delete", "move", "replace"]
NOUNS = {"examples": ("example", "examples"), "cases": ("test case", "test cases"),
         "variants": ("variant", "variants"), "checks": ("check", "checks"),
         "steps": ("step", "steps")}


def list_change(attr: str, before: list[Any], after: list[Any]) -> tuple[ChangeKind, str] | None:
    """(kind, words) for what changed between two states of the list `attr` ("cases",
    "examples", ...), or None if nothing did."""
    if len(before) == len(after) and all(a is b for a, b in zip(before, after)):
        return None
    one, many = NOUNS.get(attr, ("item", "items"))
    old, new = {id(x) for x in before}, {id(x) for x in after}
    if len(after) > len(before) and old <= new:
        added = len(after) - len(before)
        return "add", f"Add {added} {one if added == 1 else many}"
    if len(after) < len(before) and new <= old:
        gone = len(before) - len(after)
        return "delete", f"Delete {gone} {one if gone == 1 else many}"
    if old == new:
        return "move", f"Reorder {many}"
    return "replace", f"Edit {one}"


def replaced_positions(before: list[Any], after: list[Any]) -> list[int]:
    """Positions whose item was replaced by another (lists of equal length)."""
    return [i for i, (a, b) in enumerate(zip(before, after)) if a is not b]
