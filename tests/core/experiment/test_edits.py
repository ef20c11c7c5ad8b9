"""Edits to a project's lists, said in words for Undo and Redo."""

from __future__ import annotations

from lab.core.experiment.edits import list_change, replaced_positions
from lab.core.model import Example


def test_what_changed_is_named():
    a, b, c = Example("a", "1"), Example("b", "2"), Example("a", "1")  # c equals a, is not a
    assert list_change("examples", [a, b], [a, b]) is None
    assert list_change("examples", [a], [a, b]) == ("add", "Add 1 example")
    assert list_change("cases", [a, b, c], [b]) == ("delete", "Delete 2 test cases")
    assert list_change("variants", [a, b], [b, a]) == ("move", "Reorder variants")
    assert list_change("checks", [a, b], [c, b]) == ("replace", "Edit check")
    assert replaced_positions([a, b], [c, b]) == [0]
