"""The check types a project can use, the options each takes, and validation of a check's config.

Each check type and its options are declared once, in ``CHECK_TYPES``; ``validate_check`` uses
that table to report bad configuration (naming the option) before any model is called. The
graders (``lab.core.checks.graders``) use the compiled forms made here (regex, schema,
expression), so a check is read the same way when it is validated and when it grades.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lab.core.checks import expression as expression_check
from lab.core.checks.json_output import json_path
from lab.core.checks.judge import judge_scale
from lab.core.checks.result import CheckConfigError
from lab.core.model import Check


@dataclass(frozen=True)
class Option:
    kinds: tuple[type, ...]
    required: bool = False
    hint: str = ""  # what to put there, finishing the sentence "give ..."


TEXT_KINDS = (str, int, float)
# Check types whose configuration is code run on this machine: they run only for a trusted source
# (see lab.core.run.trust). A python expression is one; regex, schema and the rest are data.
CODE_CHECK_TYPES = frozenset({"python"})
DEFAULT_TIMEOUT_S = expression_check.DEFAULT_TIMEOUT_S  # unless a check's 'timeout' says
MAX_TIMEOUT_S = 600.0
_CONTAINS = {
    "value": Option(TEXT_KINDS + (list,), True, "the text (or a list of texts) to look for"),
    "mode": Option((str,), hint="'any' or 'all' (for a list of values)"),
    "ignore_case": Option((bool,)),
}
CHECK_TYPES: dict[str, dict[str, Option]] = {
    "equals": {
        "value": Option(TEXT_KINDS, True, "the exact text the output must be"),
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
        "timeout": Option((int, float), hint="seconds, e.g. 5"),
    },
    "fuzzy": {
        "value": Option(TEXT_KINDS + (list,), True, "the reference text (or a list of them)"),
        "min_similarity": Option((int, float), hint="a similarity from 0 to 1, e.g. 0.8"),
    },
    "cost": {"max_usd": Option((int, float), True, "the most one call may cost, in USD")},
    "latency": {"max_ms": Option((int, float), True, "the most one call may take, in ms")},
    "citations": {"require_one": Option((bool,))},
    "retrieval-hit": {"column": Option((str,), hint="the test-case column naming the passage")},
    "judge": {
        "rubric": Option((str,), True, "the rubric the judge grades against"),
        "scale": Option((str,), hint="'1-5' or '0-1'"),
        "pass_threshold": Option((int, float)),
        "model": Option((str,), hint="the judge model as provider/model"),
    },
}

# Every check but the judge may grade one step of a chain instead of its final output.
STEP_OPTION = {"step": Option((str,), hint="the name of a chain's step, e.g. 'extract'")}

# type names as a user writing TOML or filling a form would say them
_KIND_WORDS = {
    str: "text", int: "a whole number", float: "a number", bool: "true/false", list: "a list",
    dict: "a table",
}
_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


def quote(text: str, limit: int = 60) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return "'" + text.replace("\n", "\\n") + "'"


def prefix(check: Check) -> str:
    return f"Check '{check.title}'"


def _shown(value: Any) -> str:
    """A config value as the user typed it, for "must be X, not Y" messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"{value:g}"
    if isinstance(value, str):
        return quote(value, 30)
    return _KIND_WORDS.get(type(value), type(value).__name__)


def validate_check(check: Check) -> list[str]:
    """Every configuration error in ``check``, each naming the option and what to do; [] if fine."""
    p = prefix(check)
    options = CHECK_TYPES.get(check.type)
    if options is None:
        return [f"{p}: unknown check type '{check.type}'; use one of: {', '.join(CHECK_TYPES)}."]
    if check.type != "judge":  # a judge grades the chain's answer; other checks may grade a step
        options = {**options, **STEP_OPTION}
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
    cfg, p = check.config, prefix(check)
    if check.type in ("contains", "not-contains", "fuzzy"):
        values_of(check)
        low = cfg.get("min_similarity")
        if low is not None and not 0 <= low <= 1:
            raise CheckConfigError(f"{p}: 'min_similarity' must be between 0 and 1, not {low:g}.")
        if cfg.get("mode", "any") not in ("any", "all"):
            raise CheckConfigError(f"{p}: 'mode' must be 'any' or 'all', not {cfg['mode']!r}.")
    elif check.type == "regex":
        compiled_regex(check)
    elif check.type == "json-schema":
        schema_of(check)
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
        compiled_expression(check)
        timeout = cfg.get("timeout")
        if timeout is not None and not 0 < timeout <= MAX_TIMEOUT_S:
            raise CheckConfigError(
                f"{p}: 'timeout' must be more than 0 and at most {MAX_TIMEOUT_S:g} seconds, "
                f"not {timeout:g}."
            )
    elif check.type in ("cost", "latency"):
        key = "max_usd" if check.type == "cost" else "max_ms"
        if cfg[key] < 0:
            raise CheckConfigError(f"{p}: '{key}' cannot be negative.")
    elif check.type == "judge":
        judge_scale(check)  # validates scale and threshold


def values_of(check: Check) -> list[str]:
    raw = check.config["value"]
    values = raw if isinstance(raw, list) else [raw]
    if not values or not all(isinstance(v, TEXT_KINDS) and not isinstance(v, bool) for v in values):
        raise CheckConfigError(
            f"{prefix(check)}: 'value' must be a text or a non-empty list of texts."
        )
    if any(v == "" for v in values):  # every output contains "": the check could never fail
        raise CheckConfigError(f"{prefix(check)}: 'value' is empty; give the text to look for.")
    return [str(v) for v in values]


def compiled_regex(check: Check) -> re.Pattern[str]:
    flags_cfg = check.config.get("flags", "")
    letters = "".join(flags_cfg) if isinstance(flags_cfg, list) else flags_cfg
    flags = 0
    for letter in letters.lower():
        if letter not in _REGEX_FLAGS:
            raise CheckConfigError(
                f"{prefix(check)}: unknown flag {letter!r} in 'flags'; use i, m, s or x."
            )
        flags |= _REGEX_FLAGS[letter]
    try:
        return re.compile(check.config["pattern"], flags)
    except re.error as e:
        raise CheckConfigError(
            f"{prefix(check)}: 'pattern' is not a valid regular expression: {e}."
        ) from e


def schema_of(check: Check) -> dict[str, Any]:
    schema = check.config["schema"]
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError as e:
            raise CheckConfigError(f"{prefix(check)}: 'schema' is not valid JSON: {e}.") from e
    if not isinstance(schema, dict):
        raise CheckConfigError(f"{prefix(check)}: 'schema' must be a JSON object.")
    import jsonschema  # here, not at the top: the window's start-up does not need it

    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as e:
        raise CheckConfigError(
            f"{prefix(check)}: 'schema' is not a valid JSON Schema at "
            f"{json_path(e.absolute_path)}: {e.message}."
        ) from e
    return schema


def compiled_expression(check: Check) -> Any:
    try:
        return expression_check.compile_expression(check.config["expression"])
    except SyntaxError as e:
        raise CheckConfigError(
            f"{prefix(check)}: 'expression' has a syntax error at column {e.offset}: {e.msg}."
        ) from e


_TEMPLATED = {"equals": "value", "contains": "value", "not-contains": "value", "fuzzy": "value",
              "judge": "rubric"}


def templated_fields(check: Check) -> list[tuple[str, str]]:
    """(field as the user sees it, text) for each option rendered with test-case variables."""
    key = _TEMPLATED.get(check.type)
    raw = check.config.get(key) if key else None
    if raw is None:
        return []
    texts = raw if isinstance(raw, list) else [raw]
    return [(f"check '{check.title}' {key}", str(t)) for t in texts if isinstance(t, TEXT_KINDS)]


def referenced_columns(check: Check) -> set[str] | None:
    """Test-case columns a python check reads; None if it reads ``vars`` in ways we can't follow.
    Other check types read columns only through ``{{variables}}`` (see ``templated_fields``)."""
    if check.type != "python" or not isinstance(check.config.get("expression"), str):
        return set()
    return expression_check.referenced_columns(check.config["expression"])


def runs_code(check: Check) -> bool:
    """True for a check whose configuration is code (a python expression)."""
    return check.type in CODE_CHECK_TYPES


def expression_timeout(check: Check) -> float:
    """Seconds a python check may take on one output before it is stopped (and fails)."""
    timeout = check.config.get("timeout")
    return float(timeout) if isinstance(timeout, (int, float)) else DEFAULT_TIMEOUT_S


def check_names(checks: Sequence[Check]) -> list[str]:
    """A distinct display name per check: its title, with ' #2', ' #3' on repeats."""
    seen: dict[str, int] = {}
    names = []
    for check in checks:
        seen[check.title] = seen.get(check.title, 0) + 1
        count = seen[check.title]
        names.append(check.title if count == 1 else f"{check.title} #{count}")
    return names
