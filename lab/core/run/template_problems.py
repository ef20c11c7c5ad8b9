"""Template problems in a whole project, found before anything is sent: a variable no test case
fills, a cell left empty, a placeholder that is not a variable, a column nothing uses.

Each problem is located precisely enough (variant, field, row) for the window to jump to it and
for an experiment file's error to name the line. It reads the prompts, the user message and the
checks' templated options, so it sits above both the templates and the checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lab.core.checks.config import referenced_columns, templated_fields
from lab.core.experiment.template import (
    CONTEXT,
    STEPS,
    as_text,
    malformed_placeholders,
    variables,
    variant_fields,
)
from lab.core.model import Project, TestCase, Variant


@dataclass(frozen=True)
class TemplateProblem:
    """Something wrong with a template, located precisely enough for the GUI to jump to it."""

    severity: Literal["error", "warning"]
    message: str  # a full sentence a user reads, including what to do
    variable: str | None = None
    variant: str | None = None  # None when the field is shared (the user message, a check)
    field: str | None = None  # "system prompt", "example 3 input", "user message", "check 'x'"
    case_row: int | None = None  # 1-based; None when the problem is about every row
    case_label: str = ""


def _where(variant: str | None, field: str) -> str:
    return f"Variant '{variant}', {field}" if variant else field[0].upper() + field[1:]


def _row_name(row: int | None, case: TestCase) -> str:
    label = f" ('{case.label}')" if case.label else ""
    return f"test case {row}{label}" if row is not None else f"the test case{label}"


def check_case(
    variant: Variant, user_template: str, case: TestCase, row: int | None = None
) -> list[TemplateProblem]:
    """Errors for one call (one variant, one test case): each variable the case has no value for."""
    problems = []
    fields = [(variant.name, f, t) for f, t in variant_fields(variant)]
    for owner, field, text in fields + [(None, "user message", user_template)]:
        for name in variables(text):
            if as_text(case.vars.get(name)) is None:
                problems.append(_missing_in_row(owner, field, name, row, case))
    return problems


def _missing_in_row(
    variant: str | None, field: str, name: str, row: int | None, case: TestCase
) -> TemplateProblem:
    msg = (
        f"{_where(variant, field)}: {{{{{name}}}}} has no value in {_row_name(row, case)}. "
        f"Fill in '{name}' for that row or remove {{{{{name}}}}}."
    )
    return TemplateProblem("error", msg, name, variant, field, row, case.label)


def _missing_everywhere(variant: str | None, field: str, name: str) -> TemplateProblem:
    msg = (
        f"{_where(variant, field)}: {{{{{name}}}}} has no value in any test case. "
        f"Add a column '{name}' to the test cases or remove {{{{{name}}}}}."
    )
    return TemplateProblem("error", msg, name, variant, field)


def _malformed(variant: str | None, field: str, span: str) -> TemplateProblem:
    msg = (
        f"{_where(variant, field)}: {span} is not a variable and will be sent as written. "
        "Names use letters, digits, _, . and - (e.g. {{first_name}}); write \\{{ for a literal {{."
    )
    return TemplateProblem("warning", msg, None, variant, field)


def check_project(project: Project) -> list[TemplateProblem]:
    """Every template problem in a project, errors first, to show before anything is sent.

    A variable missing from every test case is one problem (add the column); a variable missing
    from only some rows is one problem per row (fill in the cell). Test-case columns that no
    prompt or check uses are warnings: the run works, but the user probably meant to use them.
    """
    fields: list[tuple[str | None, str, str]] = [
        (v.name, f, t) for v in project.variants if not v.steps for f, t in variant_fields(v)
    ]
    earlier: dict[tuple[str | None, str], list[str]] = {}  # (variant, field) -> steps before it
    for variant in project.variants:
        for i, step in enumerate(variant.steps):
            for kind, text in (("system prompt", step.system), ("user message", step.user)):
                field = f"step '{step.name}' {kind}"
                fields.append((variant.name, field, text))
                earlier[(variant.name, field)] = [s.name for s in variant.steps[:i]]
    fields.append((None, "user message", project.user_template))
    for check in project.checks:
        fields += [(None, f, t) for f, t in templated_fields(check)]

    errors: list[TemplateProblem] = []
    warnings: list[TemplateProblem] = []
    used: set[str] = set()
    for owner, field, text in fields:
        warnings += [_malformed(owner, field, s) for s in malformed_placeholders(text)]
        for name in variables(text):
            used.add(name)
            if name == CONTEXT:
                continue  # the lab fills it (empty without retrieval); see template.with_context
            if name.startswith(STEPS) and (owner, field) in earlier:
                step = name[len(STEPS):].split(".", 1)[0]
                before = earlier[(owner, field)]
                if step not in before:
                    errors.append(TemplateProblem(
                        "error", f"{_where(owner, field)}: {{{{{name}}}}} names no earlier step "
                        f"of this chain ({'earlier steps: ' + ', '.join(before) if before else 'it is the first step'}"
                        "); a step can use the outputs of the steps before it.", name, owner, field))
                continue
            rows = [
                (i, c) for i, c in enumerate(project.cases, 1) if as_text(c.vars.get(name)) is None
            ]
            if len(rows) == len(project.cases):
                errors.append(_missing_everywhere(owner, field, name))
            else:
                errors += [_missing_in_row(owner, field, name, i, c) for i, c in rows]

    shared = set(variables(project.user_template))
    for variant in project.variants:
        own = ([t for s in variant.steps for t in (s.system, s.user)] if variant.steps
               else [t for _, t in variant_fields(variant)])
        if variant.retrieval is not None and variant.retrieval.on and (
                variant.steps or CONTEXT not in shared) and not any(
                CONTEXT in variables(t) for t in own):
            errors.append(TemplateProblem(
                "error", f"Variant '{variant.name}' retrieves passages from the documents, but none "
                "of its prompts says where they go: add {{context}} to its system prompt or to the "
                "user message.", CONTEXT, variant.name, "system prompt"))

    opaque = False  # a python check that reads vars in a way we cannot follow may use any column
    for check in project.checks:
        referenced = referenced_columns(check)
        if referenced is None:
            opaque = True
        else:
            used |= referenced
    columns = dict.fromkeys(k for c in project.cases for k in c.vars)
    if not opaque:
        for col in columns:
            if col not in used:
                msg = (
                    f"Test-case column '{col}' is not used by any prompt or check, so it has no "
                    f"effect. Use {{{{{col}}}}} where it belongs, or remove the column."
                )
                warnings.append(TemplateProblem("warning", msg, col, field="test cases"))
    return errors + warnings
