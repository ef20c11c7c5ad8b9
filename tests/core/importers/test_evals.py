"""openai/evals registry evals and hosted Evals exports as experiments, and the converted checks'
verdicts against Evals' documented semantics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lab.core.checks.graders import run_check
from lab.core.experiment.file import dumps, loads
from lab.core.importers import ImportFileError, import_openai_evals
from lab.core.importers.evals_graders import convert_criterion
from lab.core.importers.report import ImportReport

DATA = Path(__file__).parent / "data" / "evals"
REGISTRY = DATA / "registry" / "evals"


def round_trips(result) -> None:
    text = dumps(result.spec)
    assert loads(text, "x.toml") == result.spec


def test_match_passes_when_the_output_starts_with_an_ideal_answer():
    result = import_openai_evals(REGISTRY / "capitals.yaml")
    round_trips(result)
    project = result.spec.project
    assert project.name == "capitals" and project.description == "Name the capital city"
    (variant,) = project.variants
    assert (variant.model, variant.system) == ("openai/gpt-4o-mini", "Answer with the city name only.")
    assert project.user_template == "{{input}}"
    assert [c.vars["input"] for c in project.cases] == ["Capital of France?", "Capital of Japan?",
                                                         "Capital of Italy?"]
    (match,) = project.checks
    france, japan, _ = project.cases
    assert run_check(match, "Paris.", france).passed
    assert not run_check(match, "The capital is Paris.", france).passed
    assert run_check(match, "Tōkyō", japan).passed and run_check(match, "Tokyo!", japan).passed
    # the sample ending with an assistant turn is left out, with the reason and its text
    (left_out,) = result.report.not_converted
    assert left_out.where == "samples.jsonl line 4" and "Madrid" in left_out.original
    assert "model" in result.report.approximated[0].what


def test_includes_and_fuzzy_match():
    includes = import_openai_evals(REGISTRY / "capitals-includes.yaml")
    (check,) = includes.spec.project.checks
    france, japan, _ = includes.spec.project.cases
    assert run_check(check, "I believe it is PARIS", france).passed  # ignore_case: true
    assert run_check(check, "It's tokyo", japan).passed
    assert not run_check(check, "Lyon", france).passed
    fuzzy = import_openai_evals(REGISTRY / "capitals-fuzzy.yaml")
    round_trips(fuzzy)
    (check,) = fuzzy.spec.project.checks
    assert check.type == "fuzzy" and check.config["value"] == ["{{ideal_1}}", "{{ideal_2}}"]
    france, japan, _ = fuzzy.spec.project.cases
    assert run_check(check, "paris", france).passed  # normalised, either way
    assert run_check(check, "It is Paris!", france).passed
    assert run_check(check, "tokyo", japan).passed and not run_check(check, "Kyoto", japan).passed
    (left_out,) = [e for e in fuzzy.report.not_converted if "max_tokens" in e.where]
    assert "max_tokens" in left_out.original


def test_a_model_graded_spec_is_a_judge_and_a_custom_class_is_reported():
    jokes = import_openai_evals(REGISTRY / "jokes.yaml", model="ollama/llama3.2")
    round_trips(jokes)
    assert jokes.spec.project.variants[0].model == "ollama/llama3.2"
    (judge,) = jokes.spec.project.checks
    assert judge.type == "judge" and judge.config["scale"] == "0-1"
    assert "{{input}}" in judge.config["rubric"] and '"S" = 0.5' in judge.config["rubric"]
    assert jokes.report.complete
    custom = import_openai_evals(REGISTRY / "custom-class.yaml")
    assert custom.spec.project.checks == []
    (left_out,) = [e for e in custom.report.not_converted if e.where.endswith(".class")]
    assert "MultistepWebTasks" in left_out.original and "code of its own" in left_out.reason


def test_a_platform_export_becomes_variants_cases_and_checks():
    result = import_openai_evals(DATA / "platform" / "support")
    round_trips(result)
    project = result.spec.project
    assert [(v.name, v.model) for v in project.variants] == [
        ("triage-mini", "openai/gpt-4o-mini"), ("triage-4o", "openai/gpt-4o")]
    assert project.variants[0].params == {"temperature": 0.0, "max_tokens": 10, "seed": 7}
    assert project.user_template == "{{ticket}}"
    assert project.cases[0].vars["customer.name"] == "Ana"
    names = [c.name for c in project.checks]
    assert names == ["exact label", "mentions label", "not empty", "close", "tone", "helpful",
                     "short"]
    left_out = {e.where: e for e in result.report.not_converted}
    assert set(left_out) == {"items.jsonl lines 3", "testing_criteria[5]", "testing_criteria[9]",
                             "runs.json[3]"}
    assert "bleu" in left_out["testing_criteria[5]"].reason
    assert "import difflib" in left_out["testing_criteria[9]"].original
    helpful = project.checks[5]
    assert helpful.config["model"] == "openai/gpt-4o"
    assert helpful.config["pass_threshold"] == pytest.approx(6 / 9)


def criterion(raw):
    report = ImportReport("x", "evals")
    check = convert_criterion(raw, "c", report, set())
    assert check is not None, report.not_converted
    return check


def string_check(operation, reference="{{item.label}}"):
    return criterion({"type": "string_check", "name": "s", "operation": operation,
                      "input": "{{ sample.output_text }}", "reference": reference})


@pytest.mark.parametrize("operation, output, passes", [
    ("eq", "billing", True), ("eq", "Billing", False), ("eq", "billing ", False),
    ("ne", "bug", True), ("ne", "billing", False),
    ("like", "it is billing", True), ("like", "it is BILLING", False),
    ("ilike", "it is BILLING", True), ("ilike", "it is a bug", False),
])
def test_string_check_operations(operation, output, passes):
    from lab.core.model import TestCase

    case = TestCase({"label": "billing"})
    assert run_check(string_check(operation), output, case).passed is passes


def test_string_check_between_item_fields_and_the_python_grader():
    from lab.core.model import TestCase

    check = criterion({"type": "string_check", "name": "s", "operation": "like",
                       "input": "{{item.notes}}", "reference": "{{sample.output_text}}"})
    assert run_check(check, "late", TestCase({"notes": "it was late"})).passed
    python = criterion({"type": "python", "name": "p", "pass_threshold": 1,
                        "source": "def grade(sample, item):\n    \"\"\"Exact.\"\"\"\n"
                                  "    return float(sample['output_text'] == item['want'])"})
    assert python.config == {"expression": "float(output == vars['want'])", "pass_threshold": 1.0}
    assert run_check(python, "yes", TestCase({"want": "yes"})).passed


def test_a_bare_export_gets_one_variant_sending_the_input_and_says_so():
    result = import_openai_evals(DATA / "platform" / "bare" / "eval.json", model="openai/gpt-4o")
    project = result.spec.project
    assert project.user_template == "{{input}}" and project.variants[0].model == "openai/gpt-4o"
    assert result.report.approximated[0].where == "runs.json" and result.report.complete


def test_unreadable_sources_name_the_file_and_line(tmp_path):
    (tmp_path / "eval.json").write_text('{"name": "x",\n "testing_criteria": [}')
    with pytest.raises(ImportFileError, match=r"eval\.json, line 2, column \d+: not valid JSON"):
        import_openai_evals(tmp_path)
    (tmp_path / "eval.json").write_text(json.dumps({"name": "x", "testing_criteria": []}))
    (tmp_path / "items.jsonl").write_text('{"item": {"a": 1}}\n{"item": \n')
    with pytest.raises(ImportFileError, match=r"items\.jsonl, line 2: not valid JSON"):
        import_openai_evals(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("x:\n  id: x.dev.v0\nx.dev.v0:\n  class: [unclosed\n")
    with pytest.raises(ImportFileError, match=r"bad\.yaml, line 5"):
        import_openai_evals(bad)
