"""Grading: run a project's checks on one model output, each with a readable reason.

A check's text values may use the test case's ``{{variables}}`` (``equals "{{expected}}"``),
rendered with the experiment's template language. Regex patterns and Python expressions are not
rendered: their braces belong to them. The ``judge`` type needs a model call, which the runner
makes; its reply is read by ``lab.core.checks.judge``. The ``python`` type's evaluation lives in
``lab.core.checks.expression``; `run_check` evaluates it in this process unless given an
``expressions`` evaluator (a run passes its ``lab.core.checks.workers.ExpressionPool``, which
stops an expression past the check's ``timeout``). Whether a python check may run at all (is its
source trusted?) is the caller's decision: see ``lab.core.run.trust``. The ``cost`` and
``latency`` types grade the logged call, which the runner passes as ``call``
(``lab.core.checks.measured``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from lab.core.checks import citations, fuzzy, measured
from lab.core.checks import expression as expression_check
from lab.core.checks.config import (
    check_names,
    compiled_expression,
    compiled_regex,
    expression_timeout,
    prefix,
    quote,
    schema_of,
    validate_check,
    values_of,
)
from lab.core.checks.json_output import json_path, parse_json_output
from lab.core.checks.judge import parse_judge_reply
from lab.core.checks.result import CheckConfigError, CheckResult, NeedsModelCall
from lab.core.experiment.template import MissingVariables, render
from lab.core.model import Call, Check, RetrievedChunk, TestCase


class ExpressionEvaluator(Protocol):
    """Evaluates a python check's expression: in this process, or in a worker with a limit."""

    def evaluate(
        self, expression: str, output: str, variables: dict[str, Any],
        pass_threshold: float = 0.5, timeout: float = ...,
    ) -> tuple[bool, float | None, str]: ...


def run_checks(
    checks: Sequence[Check],
    output: str,
    case: TestCase | None,
    judge_replies: Mapping[int, str] | None = None,
    *,
    expressions: ExpressionEvaluator | None = None,
) -> list[CheckResult]:
    """Run every check on one output. Judge checks are graded from ``judge_replies`` (keyed by
    the check's index in ``checks``); a judge check with no reply yet is left out, for the runner
    to add once the judge has answered."""
    results = []
    for i, (check, name) in enumerate(zip(checks, check_names(checks))):
        reply = (judge_replies or {}).get(i)
        if check.type == "judge" and reply is None:
            continue
        results.append(run_check(check, output, case, judge_reply=reply, name=name,
                                 expressions=expressions))
    return results


def run_check(
    check: Check,
    output: str,
    case: TestCase | None,
    *,
    judge_reply: str | None = None,
    name: str | None = None,
    expressions: ExpressionEvaluator | None = None,
    call: Call | None = None,
    retrieved: Sequence[RetrievedChunk] | None = None,
) -> CheckResult:
    """Grade ``output``. Raises ``CheckConfigError`` if the check itself is broken, or if it
    grades the call (cost, latency) and ``call`` is not given. ``retrieved``: the passages the
    call was given (for `citations` and `retrieval-hit`). A python check is evaluated by
    ``expressions`` if given, else here (no time limit)."""
    name = name or check.title
    if check.type == "judge":
        if judge_reply is None:
            raise NeedsModelCall(
                f"{prefix(check)} is an LLM judge: it needs a model call. Run it through the "
                "runner, or build the request with judge_prompt() and pass the model's reply as "
                "judge_reply."
            )
        return parse_judge_reply(check, judge_reply, name=name)
    errors = validate_check(check)
    if errors:
        raise CheckConfigError(" ".join(errors))
    if check.type == "python":
        passed, score, reason = _python(check, output, case, expressions)
    elif check.type in _CALL_GRADERS:
        passed, score, reason = _CALL_GRADERS[check.type](check, call)
    elif check.type == "citations":
        passed, score, reason = citations.grade_citations(check, output, retrieved or ())
    elif check.type == "retrieval-hit":
        passed, score, reason = citations.grade_retrieval_hit(check, case, retrieved or ())
    else:
        passed, score, reason = _GRADERS[check.type](check, output, case)
    return CheckResult(name, passed, score, reason)


def _rendered(check: Check, text: str, case: TestCase | None) -> str:
    try:
        return render(text, case.vars if case else {})
    except MissingVariables as e:
        raise CheckConfigError(
            f"{prefix(check)}: {e} in this test case; add it or change the check."
        ) from e


def _case_note(check: Check, strip: bool = False) -> str:
    notes = ["case-insensitive" if check.config.get("ignore_case") else "case-sensitive"]
    if strip:
        notes.append("ignoring surrounding whitespace")
    return "(" + ", ".join(notes) + ")"


def _equals(check: Check, output: str, case: TestCase | None) -> tuple[bool, None, str]:
    expected = _rendered(check, str(check.config["value"]), case)
    strip = check.config.get("strip", True)  # models often end with a newline nobody means
    a, b = (output.strip(), expected.strip()) if strip else (output, expected)
    if check.config.get("ignore_case"):
        a, b = a.casefold(), b.casefold()
    if a == b:
        return True, None, f"equals {quote(expected)}"
    note = _case_note(check, strip)
    return False, None, f"expected exactly {quote(expected)} {note}; got {quote(output.strip())}"


def _contains(check: Check, output: str, case: TestCase | None) -> tuple[bool, None, str]:
    values = [_rendered(check, v, case) for v in values_of(check)]
    fold = (lambda s: s.casefold()) if check.config.get("ignore_case") else (lambda s: s)
    found = [v for v in values if fold(v) in fold(output)]
    missing = [v for v in values if v not in found]
    want_all = check.config.get("mode", "any") == "all"
    hit = (not missing) if want_all else bool(found)
    listed = ", ".join(quote(v) for v in values)
    note = _case_note(check)
    if check.type == "contains":
        if hit:
            return True, None, f"contains {', '.join(quote(v) for v in found)}"
        if len(values) == 1:
            return False, None, f"expected to contain {listed} {note}; not found"
        if want_all:
            gone = ", ".join(quote(v) for v in missing)
            return False, None, f"expected to contain all of {listed} {note}; missing {gone}"
        return False, None, f"expected to contain any of {listed} {note}; none found"
    # not-contains is the exact negation of contains with the same mode
    if not hit:
        return True, None, f"does not contain {listed}" if len(values) == 1 else f"avoids {listed}"
    if len(values) == 1:
        return False, None, f"expected not to contain {listed} {note}; found it"
    if want_all:
        return False, None, f"expected not to contain all of {listed} {note}; all were found"
    got = ", ".join(quote(v) for v in found)
    return False, None, f"expected to contain none of {listed} {note}; found {got}"


def _fuzzy(check: Check, output: str, case: TestCase | None) -> tuple[bool, float | None, str]:
    values = [_rendered(check, v, case) for v in values_of(check)]
    low = check.config.get("min_similarity")
    if low is None:
        hit = next((v for v in values if fuzzy.contained_either_way(output, v)), None)
        if hit is not None:
            return True, None, (f"matches {quote(hit)} after normalising (case, punctuation, "
                                "articles)")
        listed = ", ".join(quote(v) for v in values)
        return False, None, (f"expected to match {listed} after normalising (either text "
                             f"containing the other); got {quote(output.strip())}")
    scored = [(fuzzy.similarity(output, v), v) for v in values]
    best, value = max(scored, key=lambda pair: pair[0])
    shown = f"similarity {best:.2f} to {quote(value)} (pass at {low:g})"
    return best >= low, best, shown


def _regex(check: Check, output: str, case: TestCase | None) -> tuple[bool, None, str]:
    pattern = compiled_regex(check)
    full = check.config.get("fullmatch", False)
    m = pattern.fullmatch(output) if full else pattern.search(output)
    if m:
        return True, None, f"matches /{pattern.pattern}/ at {quote(m.group(0))}"
    how = "match the whole output" if full else "match"
    got = quote(output.strip())
    return False, None, f"expected to {how} /{pattern.pattern}/; no match in {got}"


def _parse_json(check: Check, output: str) -> tuple[Any, str | None]:
    try:
        return parse_json_output(output, check.config.get("allow_fence", True)), None
    except ValueError as e:
        return None, str(e)


def _json(check: Check, output: str, case: TestCase | None) -> tuple[bool, None, str]:
    _, error = _parse_json(check, output)
    return (False, None, error) if error else (True, None, "valid JSON")


def _json_schema(check: Check, output: str, case: TestCase | None) -> tuple[bool, None, str]:
    data, error = _parse_json(check, output)
    if error:
        return False, None, error
    import jsonschema  # here, not at the top: the window's start-up does not need it

    schema = schema_of(check)
    validator = jsonschema.validators.validator_for(schema)(schema)
    problems = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if not problems:
        return True, None, "matches the schema"
    shown = "; ".join(f"{json_path(e.absolute_path)}: {e.message}" for e in problems[:3])
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return False, None, f"does not match the schema: {shown}{more}"


def _length(check: Check, output: str, case: TestCase | None) -> tuple[bool, None, str]:
    words = check.config.get("unit", "chars") == "words"
    size = len(output.split()) if words else len(output.strip())
    unit = "words" if words else "characters"
    lo, hi = check.config.get("min"), check.config.get("max")
    if lo is not None and size < lo:
        return False, None, f"{size:,} {unit}; expected at least {lo:,}"
    if hi is not None and size > hi:
        return False, None, f"{size:,} {unit}; expected at most {hi:,}"
    return True, None, f"{size:,} {unit}"


def _python(check: Check, output: str, case: TestCase | None,
            expressions: ExpressionEvaluator | None) -> tuple[bool, float | None, str]:
    compiled_expression(check)  # a syntax error is the check's fault, not the output's
    threshold = check.config.get("pass_threshold", 0.5)
    variables = case.vars if case else {}
    expression = check.config["expression"]
    if expressions is None:
        return expression_check.evaluate(expression, output, variables, threshold)
    return expressions.evaluate(expression, output, variables, threshold,
                                expression_timeout(check))


_GRADERS = {
    "equals": _equals,
    "contains": _contains,
    "not-contains": _contains,
    "regex": _regex,
    "json": _json,
    "json-schema": _json_schema,
    "length": _length,
    "fuzzy": _fuzzy,
}
_CALL_GRADERS = {"cost": measured.grade_cost, "latency": measured.grade_latency}
