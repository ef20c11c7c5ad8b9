"""Assertions that belong to single test cases, as the lab's checks (which grade every case).

promptfoo attaches assertions to each test; the lab's checks belong to the experiment and grade
every test case. Assertions of the same kind are gathered into one check (a "slot": the same
type and options, the n-th of its kind in a test):

* the same value in every test: one check with that value;
* a different text in every test: the value moves into a column and the check reads
  `{{column}}` (equals, contains, llm-rubric...), exactly as promptfoo graded it;
* only some tests have it: the value moves into a column that only those cases have, and the
  check becomes a `python` expression that passes where the column is absent
  (`vars.get('column') is None or ...`), so each case is graded by its own assertions only;
* an LLM judge that only some tests have: the others get a rubric telling the judge to pass them
  (a judge is a model call, not an expression), reported as an approximation;
* anything else that only some tests have is reported as not converted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from lab.core.importers import expressions as ex
from lab.core.importers.assertions import Assertion
from lab.core.importers.report import ImportReport
from lab.core.model import Check, TestCase

NO_CRITERION = ("This test case has no criterion for this check: give the highest score, "
                "whatever the output.")


@dataclass
class _Slot:
    shape: tuple
    members: list[tuple[int, Assertion]]  # (case index, assertion)


def _describe(check: Check) -> str:
    title = f"check '{check.title}'"
    if check.type == "python":
        return f"{title} (python `{check.config['expression']}`)"
    shown = {k: v for k, v in check.config.items() if k not in ("schema", "rubric")}
    return f"{title} ({check.type}{', ' + json.dumps(shown, ensure_ascii=False) if shown else ''})"


def _record(report: ImportReport, a: Assertion, became: str, extra: str = "") -> None:
    reason = "; ".join(r for r in (a.approximation, extra) if r)
    if reason:
        report.approximate(a.where, a.describe, became, reason, a.raw)
    else:
        report.convert(a.where, a.describe, became)


def _named(check: Check, a: Assertion) -> Check:
    check.name = a.name or str(a.raw.get("type", "")) if isinstance(a.raw, dict) else a.name
    return check


def project_checks(defaults: list[Assertion], report: ImportReport) -> list[Check]:
    """Checks for assertions every test case has (promptfoo's defaultTest)."""
    checks = []
    for a in defaults:
        check = _named(a.literal_check(), a)
        checks.append(check)
        _record(report, a, _describe(check))
    return checks


def case_checks(per_case: list[list[Assertion]], cases: list[TestCase],
                report: ImportReport) -> list[Check]:
    """Checks for the assertions of single test cases; columns are added to `cases` as needed."""
    slots: dict[tuple, _Slot] = {}
    for index, assertions in enumerate(per_case):
        seen: dict[tuple, int] = {}
        for a in assertions:
            n = seen[a.shape] = seen.get(a.shape, 0) + 1
            key = (a.shape, n)
            slots.setdefault(key, _Slot(a.shape, [])).members.append((index, a))
    taken = {k for c in cases for k in c.vars} | {"label"}
    checks = []
    for slot in slots.values():
        check = _slot_check(slot, cases, taken, report)
        if check is not None:
            checks.append(check)
    return checks


def _column(a: Assertion, taken: set[str]) -> str:
    kind = str(a.raw.get("type", "check")) if isinstance(a.raw, dict) else "check"
    base = "expected_" + re.sub(r"[^A-Za-z0-9]+", "_", a.name or kind).strip("_").lower()
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _cell(value: Any) -> str:
    if value is None:
        return "yes"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _slot_check(slot: _Slot, cases: list[TestCase], taken: set[str],
                report: ImportReport) -> Check | None:
    first = slot.members[0][1]
    everywhere = len(slot.members) == len(cases)
    values = [a.value for _, a in slot.members]
    if everywhere and all(repr(v) == repr(values[0]) for v in values):
        check = _named(first.literal_check(), first)
        for _, a in slot.members:
            _record(report, a, _describe(check))
        return check
    texts = all(isinstance(v, str) for v in values)
    if everywhere and first.templatable and texts and first.native is not None:
        column = _column(first, taken)
        for index, a in slot.members:
            cases[index].vars[column] = a.value
        check = _named(first.native("{{" + column + "}}"), first)
        for _, a in slot.members:
            _record(report, a, f"{_describe(check)}; this case's value in column '{column}'")
        return check
    if first.python is not None:
        column = _column(first, taken)
        for index, a in slot.members:
            cases[index].vars[column] = _cell(a.value)
        value = ex.var(column) if texts else f"json.loads({ex.var(column)})"
        test = first.python(value)
        expression = test if everywhere else f"vars.get({column!r}) is None or ({test})"
        check = _named(Check("python", {"expression": expression}), first)
        limited = "" if everywhere else (
            f"; it passes on the test cases without column '{column}' (the lab's checks grade "
            "every case), so its own pass rate counts those cases too")
        for _, a in slot.members:
            _record(report, a, f"{_describe(check)}", limited.lstrip("; "))
        return check
    if first.judge and first.native is not None and texts:
        column = _column(first, taken)
        members = {index for index, _ in slot.members}
        for index, case in enumerate(cases):
            case.vars[column] = values[[i for i, _ in slot.members].index(index)] \
                if index in members else NO_CRITERION
        check = _named(first.native("{{" + column + "}}"), first)
        for _, a in slot.members:
            _record(report, a, f"{_describe(check)}; rubric in column '{column}'",
                    "the judge also runs on the test cases without this rubric, told to pass "
                    "them (a judge call each)")
        return check
    for _, a in slot.members:
        report.skip(a.where, a.describe, "only some test cases have it, and a lab check of this "
                    "kind grades every case (it cannot be limited to some of them)", a.raw)
    return None
