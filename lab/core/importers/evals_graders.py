"""The hosted OpenAI Evals platform's testing criteria (graders) as the lab's checks.

Grader templates read `{{item.<field>}}` (the test case's column `<field>`) and
`{{sample.output_text}}` (the output). `string_check` (eq, ne, like = contains, ilike = contains
ignoring case) becomes equals / contains, or a python expression when the output is not simply
compared with a reference; `text_similarity` with `fuzzy_match` becomes the `fuzzy` check with
`min_similarity` (difflib's ratio stands in for the platform's own fuzzy score); `label_model`
and `score_model` become LLM judges; a `python` grader whose `grade(sample, item)` is one return
expression becomes a python check. Everything else is reported with its JSON.
"""

from __future__ import annotations

from typing import Any

from lab.core.importers import expressions as ex
from lab.core.importers.messages import NotAPrompt, content_text
from lab.core.importers.report import ImportReport
from lab.core.importers.templates import rewrite
from lab.core.model import Check

OUTPUT = "sample.output_text"
_SHOWN_OUTPUT = "(the output, shown below)"


class Unsupported(ValueError):
    pass


def item_template(text: str, *, output: str | None = None) -> tuple[str, set[str]]:
    """A grader template with `{{item.x}}` as `{{x}}`; `{{sample.output_text}}` as `output`
    (None: not allowed). Returns (text, dotted columns); Unsupported names what cannot be read."""
    dotted: set[str] = set()

    def mapping(path: str) -> str | None:
        if path.startswith("item."):
            name = path.removeprefix("item.")
            if "." in name:
                dotted.add(name)
            return "{{" + name + "}}"
        if path == OUTPUT and output is not None:
            return output
        return None

    done = rewrite(text, mapping)
    if done.problems:
        raise Unsupported(f"it reads {', '.join(done.problems)}, which the lab's checks cannot "
                          "(they read the output and the test case's columns)")
    return done.text, dotted


def _side(text: str) -> tuple[str, bool, set[str]]:
    """(python expression, is it exactly the output, dotted columns) for a string_check side."""
    if text.strip().replace(" ", "") == "{{" + OUTPUT + "}}":
        return "output", True, set()
    lab, dotted = item_template(text)
    return ex.template_expr(lab), False, dotted


def convert_criterion(raw: Any, where: str, report: ImportReport,
                      dotted: set[str]) -> Check | None:
    kind = raw.get("type") if isinstance(raw, dict) else None
    name = str(raw.get("name") or kind or "grader") if isinstance(raw, dict) else "grader"
    try:
        if kind == "string_check":
            check, note = _string_check(raw, name, dotted)
        elif kind == "text_similarity":
            check, note = _similarity(raw, name, dotted)
        elif kind in ("label_model", "score_model"):
            check, note = _model_grader(raw, kind, name, dotted)
        elif kind == "python":
            check, note = _python(raw, name)
        else:
            raise Unsupported(f"the lab has no grader like '{kind}'")
    except Unsupported as exc:
        report.skip(where, f"{kind} grader '{name}'", str(exc), raw)
        return None
    became = f"check '{check.title}' ({check.type})"
    if note:
        report.approximate(where, f"{kind} grader '{name}'", became, note, raw)
    else:
        report.convert(where, f"{kind} grader '{name}'", became)
    return check


def _string_check(raw: dict, name: str, dotted: set[str]) -> tuple[Check, str]:
    op = raw.get("operation")
    if op not in ("eq", "ne", "like", "ilike"):
        raise Unsupported(f"unknown operation '{op}'")
    a, a_is_output, d1 = _side(str(raw.get("input", "")))
    b, b_is_output, d2 = _side(str(raw.get("reference", "")))
    dotted |= d1 | d2
    if b_is_output and not a_is_output and op in ("eq", "ne"):
        a, b, a_is_output, b_is_output = b, a, True, False
    if a_is_output and not b_is_output and op != "ne":
        reference, _ = item_template(str(raw["reference"]))
        if reference:
            if op == "eq":
                return Check("equals", {"value": reference, "strip": False}, name), ""
            options = {"ignore_case": True} if op == "ilike" else {}
            return Check("contains", {"value": reference, **options}, name), ""
    expression = {"eq": f"{a} == {b}", "ne": f"{a} != {b}", "like": f"{b} in {a}",
                  "ilike": f"{b}.lower() in {a}.lower()"}[op]
    return Check("python", {"expression": expression}, name), ""


def _similarity(raw: dict, name: str, dotted: set[str]) -> tuple[Check, str]:
    metric = raw.get("evaluation_metric")
    if metric != "fuzzy_match":
        why = "needs an embedding model" if metric == "cosine" else \
            f"the lab has no {metric} score"
        raise Unsupported(f"{why} (only fuzzy_match converts, to the lab's fuzzy check)")
    a, a_is_output, _ = _side(str(raw.get("input", "")))
    b, b_is_output, _ = _side(str(raw.get("reference", "")))
    other = raw["reference"] if a_is_output else raw["input"] if b_is_output else None
    if other is None:
        raise Unsupported("neither side is the output ({{sample.output_text}})")
    value, more = item_template(str(other))
    dotted |= more
    threshold = raw.get("pass_threshold", 1.0)
    check = Check("fuzzy", {"value": value, "min_similarity": float(threshold)}, name)
    return check, ("the lab scores similarity with difflib's ratio of the normalised texts, not "
                   "the platform's own fuzzy-match score; scores near the threshold may differ")


def _rubric(messages: Any, dotted: set[str]) -> str:
    if not isinstance(messages, list) or not messages:
        raise Unsupported("its input is not a list of messages")
    parts = []
    for message in messages:
        if not isinstance(message, dict):
            raise Unsupported("its input holds something that is not a message")
        try:
            text = content_text(message.get("content", ""))
        except NotAPrompt as exc:
            raise Unsupported(str(exc)) from None
        text, more = item_template(text, output=_SHOWN_OUTPUT)
        dotted |= more
        parts.append(text if len(messages) == 1 else f"{message.get('role', 'user')}: {text}")
    return "\n\n".join(parts)


def _model_grader(raw: dict, kind: str, name: str, dotted: set[str]) -> tuple[Check, str]:
    rubric = _rubric(raw.get("input"), dotted)
    model = raw.get("model")
    options: dict[str, Any] = {"model": f"openai/{model}"} if isinstance(model, str) else {}
    notes = []
    if raw.get("sampling_params"):
        notes.append("its sampling_params are dropped (the lab's judge calls at temperature 0)")
    if kind == "label_model":
        labels, passing = raw.get("labels") or [], raw.get("passing_labels") or []
        if not labels or not passing:
            raise Unsupported("it needs labels and passing_labels")
        rubric += (f"\n\nChoose one label: {', '.join(map(str, labels))}. Passing labels: "
                   f"{', '.join(map(str, passing))}. Score 1 if the label you choose is a passing "
                   "label and 0 if it is not.")
        notes.insert(0, "the platform's grader picks a label; the lab's judge scores 1 for a "
                        "passing label and 0 otherwise")
        return Check("judge", {"rubric": rubric, "scale": "0-1", "pass_threshold": 0.5,
                               **options}, name), "; ".join(notes)
    low, high = (raw.get("range") or [0, 1])[:2]
    threshold = raw.get("pass_threshold")
    if [low, high] == [1, 5]:
        scale, at = "1-5", float(threshold if threshold is not None else 4)
    else:
        scale = "0-1"
        at = float(threshold) if threshold is not None else (low + high) / 2
        if [low, high] != [0, 1]:
            rubric += (f"\n\n(The original scale ran from {low:g} to {high:g}; score on 0 to 1, "
                       f"where 0 stands for {low:g} and 1 for {high:g}.)")
            at = (at - low) / ((high - low) or 1)
            notes.append(f"its {low:g}-{high:g} range is rescaled to 0-1 (pass at {at:g})")
        if threshold is None:
            notes.append(f"it has no pass_threshold; the lab passes at {at:g}")
    return Check("judge", {"rubric": rubric, "scale": scale, "pass_threshold": at, **options},
                 name), "; ".join(notes)


def _python(raw: dict, name: str) -> tuple[Check, str]:
    try:
        expression = ex.evals_python(str(raw.get("source", "")))
    except ex.NotAnExpression as exc:
        raise Unsupported(f"{exc}") from None
    options = {}
    if isinstance(raw.get("pass_threshold"), (int, float)):
        options["pass_threshold"] = float(raw["pass_threshold"])
    note = "item fields reach the expression as text (the lab's test-case values are text)" \
        if "vars[" in expression else ""
    if not options:
        note = "; ".join(n for n in (note, "no pass_threshold: the lab passes a score at 0.5") if n)
    return Check("python", {"expression": expression, **options}, name), note
