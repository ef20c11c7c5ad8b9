"""Template problems in a project, found before anything is sent (run.template_problems)."""

from __future__ import annotations

from lab.core.model import Check, Example, Project, TestCase
from lab.core.run.template_problems import check_case, check_project

from tests.helpers.projects import support_variant


def _project(**kw) -> Project:
    defaults = dict(
        name="support",
        user_template="{{question}}",
        variants=[support_variant(), support_variant(name="B", system="Be brief about {{tone}}.", examples=[])],
        cases=[
            TestCase({"company": "Acme", "question": "Where?"}, label="where"),
            TestCase({"company": "Acme", "question": "When?"}, label="when"),
        ],
    )
    defaults.update(kw)
    return Project(**defaults)


def test_variable_missing_from_all_cases_is_one_error_saying_add_a_column():
    problems = [p for p in check_project(_project()) if p.severity == "error"]
    assert len(problems) == 1
    p = problems[0]
    assert (p.variant, p.field, p.variable, p.case_row) == ("B", "system prompt", "tone", None)
    assert p.message == (
        "Variant 'B', system prompt: {{tone}} has no value in any test case. "
        "Add a column 'tone' to the test cases or remove {{tone}}."
    )


def test_variable_missing_from_some_rows_names_each_row_and_label():
    project = _project(
        variants=[support_variant()],
        cases=[
            TestCase({"company": "Acme", "question": "Where?"}, label="where"),
            TestCase({"question": "When?"}, label="when"),
            TestCase({"question": "How?"}),
        ],
    )
    errors = [p for p in check_project(project) if p.severity == "error"]
    # the system prompt and example 1 output both use {{company}}; rows 2 and 3 lack it
    assert [(p.field, p.case_row, p.case_label) for p in errors] == [
        ("system prompt", 2, "when"),
        ("system prompt", 3, ""),
        ("example 1 output", 2, "when"),
        ("example 1 output", 3, ""),
    ]
    assert errors[0].message == (
        "Variant 'A', system prompt: {{company}} has no value in test case 2 ('when'). "
        "Fill in 'company' for that row or remove {{company}}."
    )


def test_example_fields_are_numbered_by_table_row_including_disabled_ones():
    variant = support_variant(
        system="",
        examples=[Example("a", "b", enabled=False), Example("x", "y"), Example("{{who}}", "z")],
    )
    problems = check_case(variant, "hi", TestCase({}), row=1)
    assert [p.field for p in problems] == ["example 3 input"]


def test_user_message_problems_are_not_attributed_to_a_variant():
    project = _project(user_template="{{question}} {{order_id}}")
    p = next(p for p in check_project(project) if p.variable == "order_id")
    assert p.variant is None and p.field == "user message"
    assert p.message.startswith("User message: {{order_id}} has no value in any test case.")


def test_context_is_filled_by_the_lab_not_by_a_test_case_column():
    project = _project(user_template="{{question}}\n{{context}}")
    assert not [p for p in check_project(project) if p.variable == "context"]


def test_check_values_count_as_used_and_are_checked():
    project = _project(
        cases=[TestCase({"company": "Acme", "question": "Q", "tone": "warm", "expected": "E"})],
        checks=[
            Check("equals", {"value": "{{expected}}"}),
            Check("contains", {"value": "{{nope}}"}),
        ],
    )
    problems = check_project(project)
    assert [(p.severity, p.field, p.variable) for p in problems] == [
        ("error", "check 'contains' value", "nope")
    ]


def test_unused_columns_are_warnings_after_errors():
    project = _project(
        cases=[TestCase({"company": "Acme", "question": "Q", "notes": "internal"})],
    )
    problems = check_project(project)
    assert [p.severity for p in problems] == ["error", "warning"]
    warning = problems[-1]
    assert warning.variable == "notes"
    assert "column 'notes' is not used by any prompt or check" in warning.message


def test_python_check_reading_vars_by_name_uses_that_column():
    cases = [TestCase({"company": "Acme", "question": "Q", "tone": "t", "gold": "x"})]
    used = _project(cases=cases, checks=[Check("python", {"expression": "vars['gold'] in output"})])
    assert not [p for p in check_project(used) if p.severity == "warning"]


def test_python_check_reading_vars_opaquely_suppresses_unused_warnings():
    cases = [TestCase({"company": "Acme", "question": "Q", "tone": "t", "gold": "x"})]
    check = Check("python", {"expression": "any(v in output for v in vars.values())"})
    assert check_project(_project(cases=cases, checks=[check])) == []


def test_malformed_placeholder_is_a_warning_with_advice():
    project = _project(user_template="{{question}} {{first name}}", variants=[], cases=[
        TestCase({"question": "Q"})
    ])
    [warning] = check_project(project)
    assert warning.severity == "warning" and warning.field == "user message"
    assert "{{first name}} is not a variable" in warning.message


def test_clean_project_has_no_problems():
    project = _project(variants=[support_variant()])
    assert check_project(project) == []


def test_no_test_cases_means_every_variable_is_missing():
    project = _project(variants=[], cases=[])
    [p] = check_project(project)
    assert p.variable == "question" and "Add a column 'question'" in p.message
