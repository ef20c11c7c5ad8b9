"""Test-case rows from another tool's values: text for every column, nested values as JSON text,
and `a.b` columns for the places inside objects that templates read (`{{ a.b }}`, `{{item.a.b}}`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lab.core.experiment.template import as_text
from lab.core.model import TestCase

_MISSING = object()


def lookup(value: Any, path: str) -> Any:
    """The value at `a.b.0` inside `value`, or `_MISSING`."""
    for step in path.split("."):
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return _MISSING
    return value


def to_case(values: dict[str, Any], label: str = "", dotted: Iterable[str] = ()) -> TestCase:
    row = {str(k): as_text(v) or "" for k, v in values.items()}
    for path in dotted:
        if path not in row:
            found = lookup(values, path)
            if found is not _MISSING:
                row[path] = as_text(found) or ""
    return TestCase(vars=row, label=label)


def fill_missing(cases: list[TestCase], names: Iterable[str]) -> list[str]:
    """Give every case an empty value for each of `names` it lacks (a template engine renders a
    missing variable as nothing; the lab refuses to). Returns the names that were filled."""
    filled = []
    for name in dict.fromkeys(names):
        lacking = [c for c in cases if name not in c.vars]
        for case in lacking:
            case.vars[name] = ""
        if lacking:
            filled.append(name)
    return filled
