"""Automatic checks: grade one model output against what the user expects, with a readable reason.

Each check type and its options are declared once, in ``CHECK_TYPES``; ``validate_check`` uses
that table to report bad configuration (naming the option) before any model is called, and
``run_check`` grades an output. A check's text values may use the test case's ``{{variables}}``
(``equals "{{expected}}"``), rendered with ``lab.core.template``. Regex patterns and Python
expressions are not rendered: their braces belong to them.

The ``judge`` type needs a model call, which the runner makes; see ``lab.core.judge``. The
``python`` type's evaluation lives in ``lab.core.expression_check``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema

from lab.core import expression_check
from lab.core.model import Check, Message, TestCase
from lab.core.template import MissingVariables, render


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one output. A failure always carries a reason a user reads."""

    check_name: str
    passed: bool
    score: float | None  # on the check's own scale (judge: 1-5 or 0-1; python: what it returned)
    reason: str


class CheckConfigError(ValueError):
    """The check itself is wrong (bad regex, missing value, ...), not the output it grades.

    Raised rather than returned as a failed result, so a misconfigured check is never counted
    against a variant's pass rate. ``validate_check`` finds all of these before a run.
    """


class NeedsModelCall(RuntimeError):
    """A judge check was run without the judge's reply: the runner has to make that call."""


@dataclass(frozen=True)
class Option:
    kinds: tuple[type, ...]
    required: bool = False
    hint: str = ""  # what to put there, finishing the sentence "give ..."


_TEXT = (str, int, float)
_CONTAINS = {
    "value": Option(_TEXT + (list,), True, "the text (or a list of texts) to look for"),
    "mode": Option((str,), hint="'any' or 'all' (for a list of values)"),
    "ignore_case": Option((bool,)),
}
CHECK_TYPES: dict[str, dict[str, Option]] = {
    "equals": {
        "value": Option(_TEXT, True, "the exact text the output must be"),
        "ignore_case": Option((bool,)),
        "strip": Option((bool,)),
    },
    "contains": _CONTAINS,
    "not-contains": _CONTAINS,
    "regex": {
        "pattern": Option((str,), True, "a regular expression, e.g. '^(Yes|No)\\b'"),
        "flags": Option((str, list), hint="letters from 'imsx', e.g. 'i' for ignore case"),
        "fullmatch": Option((bool,)),
    },
    "json": {"allow_fence": Option((bool,))},
    "json-schema": {
        "schema": Option((dict, str), True, "a JSON Schema object"),
        "allow_fence": Option((bool,)),
    },
    "length": {
        "min": Option((int,), hint="a whole number"),
        "max": Option((int,), hint="a whole number"),
        "unit": Option((str,), hint="'chars' or 'words'"),
    },
    "python": {
        "expression": Option((str,), True, "an expression such as 'len(output) < 200'"),
        "pass_threshold": Option((int, float)),
    },
    "judge": {
        "rubric": Option((str,), True, "the rubric the judge grades against"),
        "scale": Option((str,), hint="'1-5' or '0-1'"),
        "pass_threshold": Option((int, float)),
        "model": Option((str,), hint="the judge model as provider/model"),
    },
}

# type names as a user writing TOML or filling a form would say them
_KIND_WORDS = {
    str: "text", int: "a whole number", float: "a number", bool: "true/false", list: "a list",
    dict: "a table",
}
_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
_FENCE = re.compile(r"^```[A-Za-z]*[ \t]*\n(.*?)\n?```$", re.DOTALL)


def _quote(text: str, limit: int = 60) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return "'" + text.replace("\n", "\\n") + "'"


def _prefix(check: Check) -> str:
    return f"Check '{check.title}'"


def _shown(value: Any) -> str:
    """A config value as the user typed it, for "must be X, not Y" messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"{value:g}"
    if isinstance(value, str):
        return _quote(value, 30)
    return _KIND_WORDS.get(type(value), type(value).__name__)


def validate_check(check: Check) -> list[str]:
    """Every configuration error in ``check``, each naming the option and what to do; [] if fine."""
    p = _prefix(check)
    options = CHECK_TYPES.get(check.type)
    if options is None:
        return [f"{p}: unknown check type '{check.type}'; use one of: {', '.join(CHECK_TYPES)}."]
    errors = []
    cfg = check.config
    for key, opt in options.items():
        value, kinds = cfg.get(key), opt.kinds
        if value is None:
            if opt.required:
                errors.append(f"{p}: '{key}' is missing; give {opt.hint}.")
        # bool is an int to Python, but `max = true` in a TOML file is a mistake
        elif not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            wanted = " or ".join(_KIND_WORDS[k] for k in kinds if not (k is int and float in kinds))
            got = _shown(value)
            errors.append(f"{p}: '{key}' must be {wanted}, not {got}.")
    for key in cfg:
        if key not in options:
            errors.append(f"{p}: unknown option '{key}'; {check.type} takes: {', '.join(options)}.")
    if errors:
        return errors  # the type-specific checks below assume the basic shape is right
    try:
        _specific_validation(check)
    except CheckConfigError as e:
        errors.append(str(e))
    return errors


def _specific_validation(check: Check) -> None:
    cfg, p = check.config, _prefix(check)
    if check.type in ("contains", "not-contains"):
        _values(check)
        if cfg.get("mode", "any") not in ("any", "all"):
            raise CheckConfigError(f"{p}: 'mode' must be 'any' or 'all', not {cfg['mode']!r}.")
    elif check.type == "regex":
        _compiled_regex(check)
    elif check.type == "json-schema":
        _schema(check)
    elif check.type == "length":
        lo, hi = cfg.get("min"), cfg.get("max")
        if lo is None and hi is None:
            raise CheckConfigError(f"{p}: give 'min', 'max' or both.")
        if (lo is not None and lo < 0) or (hi is not None and hi < 0):
            raise CheckConfigError(f"{p}: 'min' and 'max' cannot be negative.")
        if lo is not None and hi is not None and lo > hi:
            raise CheckConfigError(f"{p}: 'min' ({lo}) is larger than 'max' ({hi}).")
        if cfg.get("unit", "chars") not in ("chars", "words"):
            raise CheckConfigError(f"{p}: 'unit' must be 'chars' or 'words'.")
    elif check.type == "python":
        _compiled_expression(check)
    elif check.type == "judge":
        from lab.core.judge import judge_scale  # validates scale and threshold

        judge_scale(check)


def _values(check: Check) -> list[str]:
    raw = check.config["value"]
    values = raw if isinstance(raw, list) else [raw]
    if not values or not all(isinstance(v, _TEXT) and not isinstance(v, bool) for v in values):
        raise CheckConfigError(
            f"{_prefix(check)}: 'value' must be a text or a non-empty list of texts."
        )
    if any(v == "" for v in values):  # every output contains "": the check could never fail
        raise CheckConfigError(f"{_prefix(check)}: 'value' is empty; give the text to look for.")
    return [str(v) for v in values]


def _compiled_regex(check: Check) -> re.Pattern[str]:
    flags_cfg = check.config.get("flags", "")
    letters = "".join(flags_cfg) if isinstance(flags_cfg, list) else flags_cfg
    flags = 0
    for letter in letters.lower():
        if letter not in _REGEX_FLAGS:
            raise CheckConfigError(
                f"{_prefix(check)}: unknown flag {letter!r} in 'flags'; use i, m, s or x."
            )
        flags |= _REGEX_FLAGS[letter]
    try:
        return re.compile(check.config["pattern"], flags)
    except re.error as e:
        raise CheckConfigError(
            f"{_prefix(check)}: 'pattern' is not a valid regular expression: {e}."
        ) from e


def _schema(check: Check) -> dict[str, Any]:
    schema = check.config["schema"]
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError as e:
            raise CheckConfigError(f"{_prefix(check)}: 'schema' is not valid JSON: {e}.") from e
    if not isinstance(schema, dict):
        raise CheckConfigError(f"{_prefix(check)}: 'schema' must be a JSON object.")
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as e:
        raise CheckConfigError(
            f"{_prefix(check)}: 'schema' is not a valid JSON Schema at "
            f"{_json_path(e.absolute_path)}: {e.message}."
        ) from e
    return schema


def _compiled_expression(check: Check) -> Any:
    try:
        return expression_check.compile_expression(check.config["expression"])
    except SyntaxError as e:
        raise CheckConfigError(
            f"{_prefix(check)}: 'expression' has a syntax error at column {e.offset}: {e.msg}."
        ) from e


_TEMPLATED = {"equals": "value", "contains": "value", "not-contains": "value", "judge": "rubric"}


def templated_fields(check: Check) -> list[tuple[str, str]]:
    """(field as the user sees it, text) for each option rendered with test-case variables."""
    key = _TEMPLATED.get(check.type)
    raw = check.config.get(key) if key else None
    if raw is None:
        return []
    texts = raw if isinstance(raw, list) else [raw]
    return [(f"check '{check.title}' {key}", str(t)) for t in texts if isinstance(t, _TEXT)]


def referenced_columns(check: Check) -> set[str] | None:
    """Test-case columns a python check reads; None if it reads ``vars`` in ways we can't follow.
    Other check types read columns only through ``{{variables}}`` (see ``templated_fields``)."""
    if check.type != "python" or not isinstance(check.config.get("expression"), str):
        return set()
    return expression_check.referenced_columns(check.config["expression"])


def check_names(checks: Sequence[Check]) -> list[str]:
    """A distinct display name per check: its title, with ' #2', ' #3' on repeats."""
    seen: dict[str, int] = {}
    names = []
    for check in checks:
        seen[check.title] = seen.get(check.title, 0) + 1
        count = seen[check.title]
        names.append(check.title if count == 1 else f"{check.title} #{count}")
    return names


def run_checks(
    checks: Sequence[Check],
    output: str,
    case: TestCase | None,
    judge_replies: Mapping[int, str] | None = None,
) -> list[CheckResult]:
    """Run every check on one output. Judge checks are graded from ``judge_replies`` (keyed by
    the check's index in ``checks``); a judge check with no reply yet is left out, for the runner
    to add once the judge has answered."""
    results = []
    for i, (check, name) in enumerate(zip(checks, check_names(checks))):
        reply = (judge_replies or {}).get(i)
        if check.type == "judge" and reply is None:
            continue
        results.append(run_check(check, output, case, judge_reply=reply, name=name))
    return results


def run_check(
    check: Check,
    output: str,
    case: TestCase | None,
    *,
    judge_reply: str | None = None,
    name: str | None = None,
) -> CheckResult:
    """Grade ``output``. Raises ``CheckConfigError`` if the check itself is broken."""
    name = name or check.title
    if check.type == "judge":
        if judge_reply is None:
            raise NeedsModelCall(
                f"{_prefix(check)} is an LLM judge: it needs a model call. Run it through the "
                "runner, or build the request with judge_prompt() and pass the model's reply as "
                "judge_reply."
            )
        return parse_judge_reply(check, judge_reply, name=name)
    errors = validate_check(check)
    if errors:
        raise CheckConfigError(" ".join(errors))
    grade = _GRADERS[check.type]
    passed, score, reason = grade(check, output, case)
    return CheckResult(name, passed, score, reason)


def _rendered(check: Check, text: str, case: TestCase | None) -> str:
    try:
        return render(text, case.vars if case else {})
    except MissingVariables as e:
        raise CheckConfigError(
            f"{_prefix(check)}: {e} in this test case; add it or change the check."
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
        return True, None, f"equals {_quote(expected)}"
    note = _case_note(check, strip)
    return False, None, f"expected exactly {_quote(expected)} {note}; got {_quote(output.strip())}"


def _contains(check: Check, output: str, case: TestCase | None) -> tuple[bool, None, str]:
    values = [_rendered(check, v, case) for v in _values(check)]
    fold = (lambda s: s.casefold()) if check.config.get("ignore_case") else (lambda s: s)
    found = [v for v in values if fold(v) in fold(output)]
    missing = [v for v in values if v not in found]
    want_all = check.config.get("mode", "any") == "all"
    hit = (not missing) if want_all else bool(found)
    listed = ", ".join(_quote(v) for v in values)
    note = _case_note(check)
    if check.type == "contains":
        if hit:
            return True, None, f"contains {', '.join(_quote(v) for v in found)}"
        if len(values) == 1:
            return False, None, f"expected to contain {listed} {note}; not found"
        if want_all:
            gone = ", ".join(_quote(v) for v in missing)
            return False, None, f"expected to contain all of {listed} {note}; missing {gone}"
        return False, None, f"expected to contain any of {listed} {note}; none found"
    # not-contains is the exact negation of contains with the same mode
    if not hit:
        return True, None, f"does not contain {listed}" if len(values) == 1 else f"avoids {listed}"
    if len(values) == 1:
        return False, None, f"expected not to contain {listed} {note}; found it"
    if want_all:
        return False, None, f"expected not to contain all of {listed} {note}; all were found"
    got = ", ".join(_quote(v) for v in found)
    return False, None, f"expected to contain none of {listed} {note}; found {got}"


def _regex(check: Check, output: str, case: TestCase | None) -> tuple[bool, None, str]:
    pattern = _compiled_regex(check)
    full = check.config.get("fullmatch", False)
    m = pattern.fullmatch(output) if full else pattern.search(output)
    if m:
        return True, None, f"matches /{pattern.pattern}/ at {_quote(m.group(0))}"
    how = "match the whole output" if full else "match"
    got = _quote(output.strip())
    return False, None, f"expected to {how} /{pattern.pattern}/; no match in {got}"


def _json_path(parts: Sequence[Any]) -> str:
    path = "$"
    for p in parts:
        if isinstance(p, int):
            path += f"[{p}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(p)):
            path += f".{p}"
        else:
            path += f"[{json.dumps(p)}]"
    return path


def parse_json_output(output: str, allow_fence: bool = True) -> Any:
    """The JSON value an output holds; with ``allow_fence``, an output that is exactly one
    ```json fenced block counts too (chat models add fences unasked). Raises ValueError with a
    reason a user reads. Prose around the JSON is not accepted: a program reading it would fail."""
    text = output.strip()
    fenced = _FENCE.match(text)
    if fenced and allow_fence:
        text = fenced.group(1)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        hint = " (a ```json fence is not allowed by this check)" if fenced else ""
        where = f"at line {e.lineno} column {e.colno}"
        raise ValueError(f"not valid JSON{hint}: {e.msg} {where}") from e


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
    schema = _schema(check)
    validator = jsonschema.validators.validator_for(schema)(schema)
    problems = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if not problems:
        return True, None, "matches the schema"
    shown = "; ".join(f"{_json_path(e.absolute_path)}: {e.message}" for e in problems[:3])
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


def _python(check: Check, output: str, case: TestCase | None) -> tuple[bool, float | None, str]:
    _compiled_expression(check)  # a syntax error is the check's fault, not the output's
    threshold = check.config.get("pass_threshold", 0.5)
    variables = case.vars if case else {}
    return expression_check.evaluate(check.config["expression"], output, variables, threshold)


_GRADERS = {
    "equals": _equals,
    "contains": _contains,
    "not-contains": _contains,
    "regex": _regex,
    "json": _json,
    "json-schema": _json_schema,
    "length": _length,
    "python": _python,
}


def judge_prompt(check: Check, output: str, case: TestCase | None) -> list[Message]:
    """The request for an LLM-judge check (implemented in ``lab.core.judge``)."""
    from lab.core import judge

    return judge.judge_prompt(check, output, case)


def parse_judge_reply(check: Check, reply_text: str, *, name: str | None = None) -> CheckResult:
    """The CheckResult for a judge's reply (implemented in ``lab.core.judge``)."""
    from lab.core import judge

    return judge.parse_judge_reply(check, reply_text, name=name)
