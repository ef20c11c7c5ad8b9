"""promptfoo assertions (`assert:` entries) as the lab's checks.

Each assertion becomes an `Assertion`: the lab check it is, built from its value by `native`
(`value` may be the literal or a `{{column}}` template), and, where one exists, the same test as
a Python expression over a value expression (`python`), so a check that only some test cases
have can be limited to them (`lab.core.importers.test_checks`). What has no lab equivalent is
reported with the reason and the original text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lab.core.importers import expressions as ex
from lab.core.importers.promptfoo_providers import NotConvertible, parse_id
from lab.core.importers.report import ImportReport
from lab.core.importers.sources import is_file_ref, load_data, resolve
from lab.core.importers.templates import nunjucks
from lab.core.model import Check

RUBRIC_THRESHOLD = 0.5  # llm-rubric without a threshold: the middle of the judge's 0-1 scale
_KNOWN_KEYS = {"type", "value", "threshold", "metric", "weight", "provider", "transform",
               "rubricPrompt", "config"}
_WHY = {
    "javascript": "the lab's checks run Python expressions, not JavaScript; rewrite it as a "
                  "python check",
    "similar": "needs an embedding model; the lab has no embedding check",
    "levenshtein": "the lab has no edit-distance check (fuzzy with min_similarity is the closest)",
    "assert-set": "the lab has no grouped assertions with their own threshold",
    "select-best": "compares the outputs of several prompts; the lab's checks grade one output",
    "max-score": "compares the outputs of several prompts; the lab's checks grade one output",
    "webhook": "calls a web hook of its own; the lab's checks run in the lab",
    "moderation": "needs a moderation API; the lab has no moderation check",
    "classifier": "needs a classifier model; the lab has no classifier check",
    "finish-reason": "the lab's checks grade the output text, not the finish reason",
}


@dataclass
class Assertion:
    where: str
    raw: Any
    describe: str  # "icontains 'paris'"
    name: str  # the check's name in the lab ("" = its type)
    native: Callable[[Any], Check] | None  # the lab check for a value (literal or template)
    python: Callable[[str], str] | None  # a boolean expression, given a value expression
    value: Any = None  # the part that may differ between test cases (None: nothing does)
    templatable: bool = False  # `native` accepts "{{column}}" for the value
    judge: bool = False
    approximation: str = ""
    shape: tuple = field(default=())  # what must be equal for two assertions to share a check

    def literal_check(self) -> Check:
        """The check with this assertion's own value, as written (no column)."""
        if self.native is not None:
            return self.native(self.value)
        assert self.python is not None
        return Check("python", {"expression": self.python(_value_expr(self.value))}, self.name)


def _value_expr(value: Any) -> str:
    if isinstance(value, str) and "{{" in value:
        return ex.template_expr(value)
    return ex.literal(value)


def _shown(value: Any) -> str:
    text = str(value) if not isinstance(value, str) else value
    text = text.replace("\n", " ")
    return repr(text if len(text) <= 40 else text[:39] + "…")


def _text_list(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    return None


def judge_model(provider: Any) -> str | None:
    """A promptfoo grading provider as the lab's `provider/model`, or None if it has none."""
    pid = provider.get("id") if isinstance(provider, dict) else provider
    if not isinstance(pid, str):
        return None
    try:
        _kind, name, model, _ = parse_id(pid)
    except NotConvertible:
        return None
    return f"{name}/{model}" if model else None


def convert_assertion(raw: Any, where: str, report: ImportReport, base_dir,
                      default_judge: str | None = None) -> Assertion | None:
    """The lab form of one assertion, or None when it has none (reported)."""
    if isinstance(raw, str):
        raw = {"type": raw}
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        report.skip(where, "assertion", "an assertion needs a 'type'", raw)
        return None
    kind = raw["type"]
    if "transform" in raw:
        report.skip(where, f"{kind} assertion", "it grades a transformed output (transform runs "
                    "JavaScript); the lab's checks grade the output as it came", raw)
        return None
    value = raw.get("value")
    if is_file_ref(value) and kind not in ("python", "javascript"):
        files = resolve(value, base_dir)
        value = load_data(files[0]) if files and files[0].suffix in (".json", ".yaml", ".yml") \
            else None
        if value is None:
            report.skip(where, f"{kind} assertion", "its value is a file the lab cannot read as "
                        "data (only .json and .yaml values are)", raw)
            return None
    if isinstance(value, str):
        converted = nunjucks(value)
        if converted.problems:
            report.skip(where, f"{kind} assertion", "its value uses Nunjucks the lab cannot "
                        f"express: {', '.join(converted.problems)}", raw)
            return None
        value = converted.text
    try:
        found = _convert(kind, value, raw, base_dir, default_judge)
    except NotConvertible as exc:
        report.skip(where, f"{kind} assertion", str(exc), raw)
        return None
    found.where, found.raw = where, raw
    found.name = str(raw.get("metric") or "")
    found.shape = (kind, found.name, repr({k: v for k, v in raw.items()
                                           if k not in ("value", "metric")}))
    notes = [found.approximation] if found.approximation else []
    if raw.get("weight", 1) != 1:
        notes.append(f"its weight {raw['weight']} is dropped (every lab check counts the same)")
    if "rubricPrompt" in raw:
        notes.append("its custom rubricPrompt is dropped (the lab's judge has its own prompt)")
    extra = sorted(set(raw) - _KNOWN_KEYS)
    if extra:
        notes.append(f"ignored: {', '.join(extra)}")
    found.approximation = "; ".join(notes)
    return found


def _assertion(describe: str, native=None, python=None, **kw: Any) -> Assertion:
    return Assertion(where="", raw=None, describe=describe, name="", native=native,
                     python=python, **kw)


def _convert(kind: str, value: Any, raw: dict, base_dir, default_judge: str | None) -> Assertion:
    negate = kind.startswith("not-")
    base = kind[4:] if negate else kind
    threshold = raw.get("threshold")
    if base in ("contains", "icontains", "contains-any", "icontains-any", "contains-all",
                "icontains-all"):
        return _contains(kind, base, negate, value)
    if base == "equals":
        return _equals(kind, negate, value)
    if base == "starts-with":
        if not isinstance(value, (str, int, float)):
            raise NotConvertible("starts-with needs a text value")
        text = str(value)
        expr = (lambda v: f"not output.startswith({v})") if negate else (
            lambda v: f"output.startswith({v})")
        native = None if negate or "{{" in text else (
            lambda v: Check("regex", {"pattern": r"\A" + re.escape(str(v))}))
        return _assertion(f"{kind} {_shown(text)}", native, expr, value=text)
    if base == "regex":
        if not isinstance(value, str):
            raise NotConvertible("regex needs a pattern")
        pattern = re.sub(r"\(\?<([A-Za-z_]\w*)>", r"(?P<\1>", value)  # JavaScript named groups
        try:
            re.compile(pattern)
        except re.error as exc:
            raise NotConvertible(f"the pattern is not one Python's re reads ({exc})") from None
        expr = (lambda v: f"re.search({v}, output) is None") if negate else (
            lambda v: f"re.search({v}, output) is not None")
        native = None if negate or "{{" in pattern else (
            lambda v: Check("regex", {"pattern": v}))
        return _assertion(f"{kind} /{pattern}/", native, expr, value=pattern)
    if base in ("is-json", "contains-json"):
        return _json(kind, base, negate, value)
    if base == "python":
        return _python(kind, negate, value, threshold)
    if base in ("llm-rubric", "model-graded-closedqa", "factuality"):
        return _judge(kind, base, negate, value, raw, threshold, default_judge)
    if base in ("cost", "latency"):
        if negate or not isinstance(threshold, (int, float)):
            raise NotConvertible(f"the lab's {base} check is a maximum: it needs a threshold "
                                 "and cannot be negated")
        key = "max_usd" if base == "cost" else "max_ms"
        return _assertion(f"{kind} <= {threshold:g}", lambda v: Check(base, {key: threshold}))
    if base == "word-count":
        return _word_count(kind, negate, value)
    raise NotConvertible(_WHY.get(base, f"the lab has no check like promptfoo's {base}"))


def _contains(kind: str, base: str, negate: bool, value: Any) -> Assertion:
    fold = base.startswith("i")
    many = base.endswith(("-any", "-all"))
    mode = "all" if base.endswith("-all") else "any"
    if many:
        values = _text_list(value)
        if not values:
            raise NotConvertible(f"{base} needs a list of texts")
        lab_value: Any = values
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value):
        lab_value = str(value)
    else:
        raise NotConvertible(f"{base} needs a text to look for")
    options: dict[str, Any] = {}
    if many:
        options["mode"] = mode
    if fold:
        options["ignore_case"] = True
    lab_type = "not-contains" if negate else "contains"

    def native(v: Any) -> Check:
        return Check(lab_type, {"value": v, **options})

    low = ".lower()" if fold else ""

    def python(v: str) -> str:
        if many:
            test = f"{'all' if mode == 'all' else 'any'}(x{low} in output{low} for x in {v})"
        else:
            test = f"{v}{low} in output{low}"
        return f"not {test}" if negate else test

    return _assertion(f"{kind} {_shown(lab_value)}", native, python, value=lab_value,
                      templatable=not many)


def _equals(kind: str, negate: bool, value: Any) -> Assertion:
    if isinstance(value, (dict, list)):
        op = "!=" if negate else "=="
        return _assertion(f"{kind} {_shown(value)} (as JSON)", None,
                          lambda v: f"json.loads(output) {op} {v}", value=value)
    if value is None or isinstance(value, bool):
        raise NotConvertible("equals needs a value")
    text = str(value)
    if negate:
        return _assertion(f"{kind} {_shown(text)}", None, lambda v: f"output != {v}", value=text)
    return _assertion(f"{kind} {_shown(text)}",
                      lambda v: Check("equals", {"value": v, "strip": False}),
                      lambda v: f"output == {v}", value=text, templatable=True)


def _json(kind: str, base: str, negate: bool, value: Any) -> Assertion:
    if negate:
        raise NotConvertible("the lab has no check that passes when the output is not JSON")
    fence = base == "contains-json"
    if value is not None and not isinstance(value, dict):
        raise NotConvertible("the JSON schema must be an object")
    approx = ("promptfoo finds JSON anywhere in the output; the lab's check passes when the "
              "whole output is JSON or one ```json block") if fence else ""
    if value is None:
        python = None if fence else (lambda v: "(json.loads(output), True)[1]")
        return _assertion(kind, lambda v: Check("json", {"allow_fence": fence}), python,
                          approximation=approx)
    return _assertion(f"{kind} with a schema",
                      lambda v: Check("json-schema", {"schema": v, "allow_fence": fence}),
                      None, value=value, approximation=approx)


def _python(kind: str, negate: bool, value: Any, threshold: Any) -> Assertion:
    if not isinstance(value, str) or is_file_ref(value):
        raise NotConvertible("a Python file runs code of its own; the lab's python check is one "
                             "expression")
    try:
        expression = ex.promptfoo_python(value)
    except ex.NotAnExpression as exc:
        raise NotConvertible(f"{exc}") from None
    if negate:
        expression = f"not ({expression})"
    options = {"pass_threshold": threshold} if isinstance(threshold, (int, float)) else {}
    approx = ""
    if not options and not _is_boolean(expression):
        approx = ("if it returns a number, the lab passes it at 0.5 (set pass_threshold to "
                  "match how promptfoo judged it)")
    return _assertion(f"{kind} `{expression}`",
                      lambda v: Check("python", {"expression": expression, **options}),
                      lambda v: f"({expression})", approximation=approx)


def _is_boolean(expression: str) -> bool:
    import ast

    node = ast.parse(expression, mode="eval").body
    if isinstance(node, (ast.Compare, ast.BoolOp)):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return True
    return isinstance(node, ast.Call) and getattr(node.func, "id", "") in (
        "any", "all", "bool", "isinstance") or (
        isinstance(node, ast.Call) and getattr(node.func, "attr", "") in (
            "startswith", "endswith", "isdigit", "isalpha", "search", "match", "fullmatch"))


def _judge(kind: str, base: str, negate: bool, value: Any, raw: dict, threshold: Any,
           default_judge: str | None) -> Assertion:
    if negate:
        raise NotConvertible("the lab's judge passes on a high score; it has no negated form")
    if not isinstance(value, str) or not value.strip():
        raise NotConvertible(f"{base} needs its rubric as text")
    model = judge_model(raw["provider"]) if "provider" in raw else default_judge
    pass_at = float(threshold) if isinstance(threshold, (int, float)) else RUBRIC_THRESHOLD
    options: dict[str, Any] = {"scale": "0-1", "pass_threshold": pass_at}
    if model:
        options["model"] = model
    notes = []
    if base == "llm-rubric":
        wrap = (lambda v: v)
        notes.append("promptfoo's grader decides pass or fail itself; the lab's judge scores "
                     f"0 to 1 and passes at {pass_at:g}")
    elif base == "model-graded-closedqa":
        wrap = (lambda v: f"Does the output meet this criterion?\n{v}\n\nScore 1 if it does "
                          "and 0 if it does not.")
        notes.append("promptfoo asks the grader Y or N; the lab's judge scores 1 or 0")
    else:
        wrap = (lambda v: "Is the output factually consistent with this reference answer? "
                          f"Score 1 if it is, 0 if it contradicts or misses it.\n\n{v}")
        notes.append("promptfoo's factuality grader sorts the answer into five categories; the "
                     "lab's judge scores consistency from 0 to 1")
    if "provider" in raw and model is None:
        notes.append("its grading provider has no lab equivalent, so the variant's own model "
                     "judges")
    elif model is None:
        notes.append("judged by each variant's own model (set model = \"provider/model\")")

    def native(v: Any) -> Check:
        return Check("judge", {"rubric": wrap(v), **options})

    return _assertion(f"{kind} {_shown(value)}", native, None, value=value, templatable=True,
                      judge=True, approximation="; ".join(notes))


def _word_count(kind: str, negate: bool, value: Any) -> Assertion:
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = value, value
    elif isinstance(value, dict) and set(value) <= {"min", "max"} and value:
        low, high = value.get("min"), value.get("max")
    else:
        raise NotConvertible("word-count needs a number or {min, max}")
    parts = [f"len(output.split()) >= {low}"] if low is not None else []
    parts += [f"len(output.split()) <= {high}"] if high is not None else []
    test = " and ".join(parts)
    if negate:
        return _assertion(f"{kind} {value}", None, lambda v: f"not ({test})")
    bounds = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
    return _assertion(f"{kind} {value}", lambda v: Check("length", {**bounds, "unit": "words"}),
                      lambda v: test)
