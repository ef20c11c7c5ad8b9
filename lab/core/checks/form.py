"""The check editor's form, described once for every check type: which fields a type shows, in
what words, and how what the user typed becomes a check's config (and back).

The fields follow ``CHECK_TYPES`` option by option (a test keeps them in step), so the window can
edit every check an experiment file can hold. ``check_from_form`` never guesses: text that is not
a number where a number is wanted, or a schema that is not JSON, is an error naming the field,
and the built check is validated by ``validate_check`` like one read from a file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from lab.core.checks.config import quote, validate_check
from lab.core.checks.json_output import json_path
from lab.core.model import Check

Widget = Literal["line", "text", "values", "schema", "bool", "integer", "number", "choice"]


@dataclass(frozen=True)
class Field:
    key: str  # the option in the check's config
    label: str
    widget: Widget
    hint: str = ""  # placeholder or tooltip: what to put there
    choices: tuple[str, ...] = ()  # for "choice"; the first is the default


TYPE_LABELS: dict[str, str] = {
    "equals": "Equals",
    "contains": "Contains",
    "not-contains": "Does not contain",
    "regex": "Matches a regular expression",
    "json": "Is valid JSON",
    "json-schema": "Matches a JSON schema",
    "length": "Length",
    "python": "Python expression",
    "fuzzy": "Says about the same as",
    "cost": "Costs at most",
    "latency": "Answers within",
    "citations": "Cites only passages it was given",
    "retrieval-hit": "Retrieval found the passage",
    "judge": "LLM judge",
}

_VALUES = Field("value", "Text", "values",
                "One text per line; {{variables}} are filled from the test case")
_MODE = Field("mode", "With several texts", "choice", "", ("any", "all"))
_IGNORE_CASE = Field("ignore_case", "Ignore case", "bool")
_FENCE = Field("allow_fence", "Allow a ```json fence around it", "bool")

FIELDS: dict[str, tuple[Field, ...]] = {
    "equals": (Field("value", "Exactly", "line", "The whole output, e.g. {{expected}}"),
               _IGNORE_CASE, Field("strip", "Ignore surrounding whitespace", "bool")),
    "contains": (_VALUES, _MODE, _IGNORE_CASE),
    "not-contains": (_VALUES, _MODE, _IGNORE_CASE),
    "regex": (Field("pattern", "Pattern", "line", r"e.g. ^(Yes|No)\b"),
              Field("flags", "Flags", "line", "letters from imsx, e.g. i to ignore case"),
              Field("fullmatch", "The whole output must match", "bool")),
    "json": (_FENCE,),
    "json-schema": (Field("schema", "Schema", "schema", "A JSON Schema object"), _FENCE),
    "length": (Field("min", "At least", "integer"), Field("max", "At most", "integer"),
               Field("unit", "Counting", "choice", "", ("chars", "words"))),
    "python": (Field("expression", "Expression", "text",
                     "e.g. len(output) < 200 and vars['customer'] in output"),
               Field("pass_threshold", "Pass at or above", "number",
                     "for an expression that returns a score (default 0.5)"),
               Field("timeout", "Time limit (seconds)", "number", "default 5")),
    "fuzzy": (Field("value", "Reference", "values",
                    "One text per line; passes when the output says about the same as one"),
              Field("min_similarity", "Similarity at least", "number",
                    "0 to 1, e.g. 0.8; empty: one text must contain the other")),
    "cost": (Field("max_usd", "At most (USD)", "number", "per call, e.g. 0.002"),),
    "latency": (Field("max_ms", "At most (ms)", "number", "per call, e.g. 3000"),),
    "citations": (Field("require_one", "At least one citation is required", "bool"),),
    "retrieval-hit": (Field("column", "Test-case column", "line",
                            "names the passage retrieval should find, e.g. policy.md or "
                            "policy.md#3 (default: expected_source)"),),
    "judge": (Field("rubric", "Rubric", "text",
                    "What a good output does; {{variables}} are filled from the test case"),
              Field("scale", "Scale", "choice", "", ("1-5", "0-1")),
              Field("pass_threshold", "Pass at or above", "number",
                    "default 4 on 1-5, 0.75 on 0-1"),
              Field("model", "Judge model", "line",
                    "provider/model; empty: each variant judges with its own model")),
}
# Options a boolean field leaves out when it has its default value (the graders' defaults).
_BOOL_DEFAULTS = {"strip": True}


def form_values(check: Check) -> dict[str, Any]:
    """What the form shows for `check`: text for text fields, True/False for switches."""
    values: dict[str, Any] = {}
    for f in FIELDS.get(check.type, ()):
        value = check.config.get(f.key)
        if f.widget == "bool":
            values[f.key] = bool(value) if value is not None else _BOOL_DEFAULTS.get(f.key, False)
        elif value is None:
            values[f.key] = f.choices[0] if f.widget == "choice" else ""
        elif f.widget == "values":
            values[f.key] = "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)
        elif f.widget == "schema":
            values[f.key] = value if isinstance(value, str) else json.dumps(value, indent=2,
                                                                            ensure_ascii=False)
        elif f.key == "flags" and isinstance(value, list):
            values[f.key] = "".join(value)
        else:
            values[f.key] = str(value) if not isinstance(value, float) else f"{value:g}"
    return values


def check_from_form(kind: str, name: str, values: dict[str, Any]) -> tuple[Check, list[str]]:
    """The check the form describes, and every problem with it ([] when it can run).

    Empty fields are left out (the option's default applies); a choice at its default and a
    switch at its default are left out too, so a check written back to a file stays short."""
    check = Check(type=kind, name=name.strip())
    problems: list[str] = []
    for f in FIELDS.get(kind, ()):
        raw = values.get(f.key)
        try:
            value = _parsed(f, raw)
        except ValueError as exc:
            problems.append(f"{f.label}: {exc}")
            continue
        if value is not None:
            check.config[f.key] = value
    if not problems:
        problems = validate_check(check)
    return check, problems


def _parsed(f: Field, raw: Any) -> Any:
    if f.widget == "bool":
        value = bool(raw)
        return None if value == _BOOL_DEFAULTS.get(f.key, False) else value
    text = "" if raw is None else str(raw)
    if f.widget in ("text", "line") and f.key in ("expression", "rubric", "value", "pattern"):
        return text if text.strip() else None
    text = text.strip()
    if not text:
        return None
    if f.widget == "choice":
        return None if text == f.choices[0] else text
    if f.widget == "values":
        lines = [line for line in text.splitlines() if line.strip()]
        return lines[0] if len(lines) == 1 else lines
    if f.widget == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{quote(text, 20)} is not a whole number") from None
    if f.widget == "number":
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{quote(text, 20)} is not a number") from None
        return int(number) if number.is_integer() and "." not in text else number
    if f.widget == "schema":
        problem = schema_problem(text)
        if problem:
            raise ValueError(problem)
        return json.loads(text)
    return text


def schema_problem(text: str) -> str | None:
    """Why `text` is not a usable JSON Schema, or None if it is. Said the way a user fixes it:
    where the JSON breaks (line and column), or which part of the schema is wrong."""
    if not text.strip():
        return "empty: write a JSON Schema object, e.g. {\"type\": \"object\"}"
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
    if not isinstance(schema, dict):
        return "a JSON Schema is an object: {...}"
    import jsonschema  # here, not at the top: the window's start-up does not need it

    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        return f"not a valid JSON Schema at {json_path(exc.absolute_path)}: {exc.message}"
    return None


def describe(check: Check) -> str:
    """One line saying what the check requires, for lists ("contains 'refund'")."""
    cfg = check.config
    label = TYPE_LABELS.get(check.type, check.type)
    if check.type in ("equals", "contains", "not-contains"):
        raw = cfg.get("value", "")
        values = raw if isinstance(raw, list) else [raw]
        joined = f" {cfg.get('mode', 'any')} of " if len(values) > 1 else " "
        return f"{label.lower()}{joined}{', '.join(quote(str(v), 30) for v in values)}"
    if check.type == "regex":
        flags = cfg.get("flags", "")
        return f"matches /{cfg.get('pattern', '')}/{''.join(flags)}"
    if check.type == "length":
        bounds = []
        if cfg.get("min") is not None:
            bounds.append(f"≥ {cfg['min']}")
        if cfg.get("max") is not None:
            bounds.append(f"≤ {cfg['max']}")
        return f"length {' and '.join(bounds)} {cfg.get('unit', 'chars')}"
    if check.type == "python":
        return f"python: {quote(str(cfg.get('expression', '')), 50)}"
    if check.type == "fuzzy":
        raw = cfg.get("value", "")
        values = raw if isinstance(raw, list) else [raw]
        least = cfg.get("min_similarity")
        return (f"about the same as {', '.join(quote(str(v), 30) for v in values)}"
                + (f" (similarity ≥ {least:g})" if isinstance(least, (int, float)) else ""))
    if check.type == "cost" and isinstance(cfg.get("max_usd"), (int, float)):
        return f"costs at most ${cfg['max_usd']:g} a call"
    if check.type == "latency" and isinstance(cfg.get("max_ms"), (int, float)):
        return f"answers within {cfg['max_ms']:g} ms"
    if check.type == "citations":
        return "cites only passages it was given" + (", at least one" if cfg.get("require_one")
                                                     else "")
    if check.type == "retrieval-hit":
        return f"retrieval found the passage named in {{{{{cfg.get('column', 'expected_source')}}}}}"
    if check.type == "judge":
        model = cfg.get("model") or "the variant's model"
        return f"judge ({cfg.get('scale', '1-5')}, {model}): {quote(str(cfg.get('rubric', '')), 40)}"
    return label.lower()


def new_check(kind: str, existing: list[Check]) -> Check:
    """A check of `kind` to start from, named so it does not repeat a name in `existing`."""
    starts: dict[str, dict[str, Any]] = {
        "equals": {"value": "{{expected}}"}, "contains": {"value": "text to find"},
        "not-contains": {"value": "as an AI"}, "regex": {"pattern": "^\\S"},
        "json": {}, "json-schema": {"schema": {"type": "object"}}, "length": {"max": 200},
        "python": {"expression": "len(output) > 0"},
        "fuzzy": {"value": "{{expected}}"}, "cost": {"max_usd": 0.01},
        "latency": {"max_ms": 5000}, "citations": {},
        "retrieval-hit": {},
        "judge": {"rubric": "The reply answers the question politely and correctly."},
    }
    base = TYPE_LABELS.get(kind, kind).lower()
    names = {c.title for c in existing}
    name, n = base, 2
    while name in names:
        name, n = f"{base} {n}", n + 1
    return Check(type=kind, name=name, config=dict(starts.get(kind, {})))

