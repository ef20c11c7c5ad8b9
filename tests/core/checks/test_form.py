"""The check editor's form: a field for every option of every check type, typed values turned
into a check's config and back, a schema checked as it is typed."""

from __future__ import annotations

import pytest

from lab.core.checks.config import CHECK_TYPES, validate_check
from lab.core.checks.form import (
    FIELDS,
    TYPE_LABELS,
    check_from_form,
    describe,
    form_values,
    new_check,
    schema_problem,
)
from lab.core.model import Check


def test_every_check_type_and_option_has_a_field():
    assert set(FIELDS) == set(CHECK_TYPES) == set(TYPE_LABELS)
    for kind, options in CHECK_TYPES.items():
        assert [f.key for f in FIELDS[kind]] == list(options), kind


@pytest.mark.parametrize("kind", sorted(CHECK_TYPES))
def test_a_new_check_of_every_type_is_valid_and_survives_the_form(kind):
    check = new_check(kind, [])
    assert validate_check(check) == []
    again, problems = check_from_form(kind, check.name, form_values(check))
    assert problems == []
    assert again == Check(type=kind, name=check.name, config=check.config)


def test_typed_values_become_config():
    check, problems = check_from_form("contains", "policy", {
        "value": "refund\n\n60 days\n", "mode": "all", "ignore_case": True})
    assert problems == []
    assert check.config == {"value": ["refund", "60 days"], "mode": "all", "ignore_case": True}
    check, _ = check_from_form("contains", "one", {"value": "refund", "mode": "any"})
    assert check.config == {"value": "refund"}  # defaults are left out
    check, _ = check_from_form("length", "short", {"min": "", "max": "120", "unit": "words"})
    assert check.config == {"max": 120, "unit": "words"}
    check, _ = check_from_form("judge", "tone", {"rubric": "Polite?", "scale": "0-1",
                                                 "pass_threshold": "0.8", "model": " openai/x "})
    assert check.config == {"rubric": "Polite?", "scale": "0-1", "pass_threshold": 0.8,
                            "model": "openai/x"}
    check, _ = check_from_form("equals", "exact", {"value": "Yes", "strip": False})
    assert check.config == {"value": "Yes", "strip": False}
    check, _ = check_from_form("python", "p", {"expression": "len(output) < 9", "timeout": "2"})
    assert check.config == {"expression": "len(output) < 9", "timeout": 2}


def test_problems_name_the_field():
    _, problems = check_from_form("length", "n", {"max": "lots"})
    assert problems == ["At most: 'lots' is not a whole number"]
    _, problems = check_from_form("length", "n", {"min": "9", "max": "3"})
    assert problems == ["Check 'n': 'min' (9) is larger than 'max' (3)."]
    _, problems = check_from_form("regex", "r", {"pattern": "(unclosed"})
    assert "'pattern' is not a valid regular expression" in problems[0]
    _, problems = check_from_form("contains", "c", {"value": "  "})
    assert problems == ["Check 'c': 'value' is missing; give the text (or a list of texts) to "
                        "look for."]
    _, problems = check_from_form("json-schema", "s", {"schema": '{"type": "objekt"}'})
    assert problems[0].startswith("Schema: not a valid JSON Schema at $.type")


def test_schema_problems_say_where():
    assert schema_problem('{"type": "object"}') is None
    assert schema_problem('{"type": "object",\n "properties": {') == (
        "not valid JSON at line 2, column 17: Expecting property name enclosed in double quotes")
    assert schema_problem("[1]") == "a JSON Schema is an object: {...}"
    assert "at $.properties.name.type" in schema_problem(
        '{"properties": {"name": {"type": 3}}}')
    assert schema_problem("  ").startswith("empty")


def test_form_values_show_config_as_typed():
    check = Check("json-schema", {"schema": {"type": "object", "required": ["a"]}}, "s")
    assert form_values(check)["schema"].startswith('{\n  "type": "object"')
    assert form_values(Check("contains", {"value": ["a", "b"]}))["value"] == "a\nb"
    assert form_values(Check("equals", {"value": "x"}))["strip"] is True
    assert form_values(Check("judge", {"rubric": "r"}))["scale"] == "1-5"


def test_descriptions_and_names():
    assert describe(Check("contains", {"value": ["a", "b"], "mode": "all"})) == (
        "contains all of 'a', 'b'")
    assert describe(Check("length", {"max": 120, "unit": "words"})) == "length ≤ 120 words"
    assert describe(Check("regex", {"pattern": "^x", "flags": "i"})) == "matches /^x/i"
    existing = [new_check("json", [])]
    assert new_check("json", existing).name == "is valid json 2"
