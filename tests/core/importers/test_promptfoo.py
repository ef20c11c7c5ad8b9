"""promptfoo configs as experiments: what each construct becomes, what is reported, and the
converted checks' verdicts against promptfoo's documented semantics."""

from __future__ import annotations

from pathlib import Path

import pytest
from lab.core.checks.graders import run_check
from lab.core.experiment.file import dumps, loads
from lab.core.importers import ImportFileError, import_promptfoo
from lab.core.importers.assertions import convert_assertion
from lab.core.importers.promptfoo_providers import NotConvertible, parse_id
from lab.core.importers.promptfoo_tests import short_assertion
from lab.core.importers.report import ImportReport
from lab.core.model import Check, TestCase

DATA = Path(__file__).parent / "data" / "promptfoo"
CONFIG = DATA / "promptfooconfig.yaml"


@pytest.fixture(scope="module")
def result():
    return import_promptfoo(CONFIG)


def entry(entries, where):
    return next(e for e in entries if e.where == where)


def test_the_experiment_round_trips_through_the_file_writer(result, tmp_path):
    text = dumps(result.spec)
    again = loads(text, "x.toml")
    assert again == result.spec and dumps(again) == text


def test_every_prompt_with_every_provider_is_a_variant_named_from_labels(result):
    names = [v.name for v in result.spec.project.variants]
    assert names == ["support_chat · openai:gpt-4o-mini", "warm · openai:gpt-4o-mini",
                     "support_chat · haiku", "warm · haiku", "support_chat · local server",
                     "warm · local server"]
    chat, _, haiku, _, local, _ = result.spec.project.variants
    assert chat.system == "You are {{company}}'s support agent. Be brief."
    assert [(e.input, e.output) for e in chat.examples] == [
        ("Where is order X-1?", "Order X-1 shipped yesterday.")]
    assert haiku.model == "anthropic/claude-3-5-haiku-20241022"
    assert haiku.params == {"temperature": 0.2, "max_tokens": 300}
    assert local.model == "local-server/my-model"
    assert local.params == {"response_format": {"type": "json_object"}}
    assert result.spec.providers == {"local-server": {"kind": "openai",
                                                      "base_url": "http://127.0.0.1:8000/v1"}}
    assert result.spec.project.user_template == "{{question}} (order {{order.id}}, {{order.status}})"
    assert result.spec.samples == 3


def test_tests_become_cases_with_defaults_files_lists_and_object_paths(result):
    cases = result.spec.project.cases
    assert [c.label for c in cases] == ["where is my order", "refund", "languages #1",
                                        "languages #2", "hours", "greeting"]
    assert cases[0].vars["order.id"] == "A-17" and cases[0].vars["company"] == "Acme"
    assert cases[1].vars["question"] == "I want my money back for order B-2.\n"
    assert (cases[2].vars["question"], cases[3].vars["question"]) == ("Hola", "Bonjour")
    assert cases[4].vars["order.id"] == ""  # promptfoo renders a missing var as nothing


def test_an_api_key_is_never_written_and_not_even_reported(result):
    assert "sk-never-copy-this" not in result.toml()
    assert "sk-never-copy-this" not in result.report.to_markdown()
    key = entry(result.report.not_converted, "providers[3].config.apiKey")
    assert "lab keys set" in key.reason and "(redacted)" in key.original


def test_what_cannot_be_converted_is_reported_with_reason_and_original_text(result):
    left_out = {e.where: e for e in result.report.not_converted}
    assert set(left_out) == {"prompts[2] (support_warm.yaml)", "providers[3].config.apiKey",
                             "providers[3].config.tools", "tests[3].assert[3]",
                             "evaluateOptions.maxConcurrency"}
    js = left_out["tests[3].assert[3]"]
    assert "JavaScript" in js.reason and "output.length < 500" in js.original
    warm = left_out["prompts[2] (support_warm.yaml)"]
    assert "{{ company | upper }}" in warm.what and "{{ company | upper }}" in warm.original
    assert "maxConcurrency" in left_out["evaluateOptions.maxConcurrency"].original
    markdown = result.report.to_markdown("support.toml")
    assert "## Not converted" in markdown and "output.length < 500" in markdown
    assert not result.report.complete


def test_default_assertions_are_experiment_checks_and_test_ones_are_limited_to_their_cases(result):
    checks = {c.name: c for c in result.spec.project.checks}
    assert checks["latency"].config == {"max_ms": 5000}
    assert checks["cost"].config == {"max_usd": 0.01}
    assert checks["not-icontains"].type == "not-contains"
    judge = checks["llm-rubric"]
    assert judge.config == {"rubric": "{{expected_llm_rubric}}", "scale": "0-1",
                            "pass_threshold": 0.5, "model": "openai/gpt-4o"}
    cases = result.spec.project.cases
    assert cases[2].vars["expected_icontains"] == "Hola"  # rendered with the test's own vars
    icontains = checks["icontains"]
    assert run_check(icontains, "HOLA amigo", cases[2]).passed
    assert not run_check(icontains, "hello", cases[2]).passed
    assert run_check(icontains, "anything", cases[4]).passed  # not this case's assertion
    assert run_check(checks["equals"], "HELLO", cases[5]).passed
    assert not run_check(checks["equals"], "HELLO!", cases[5]).passed
    python = checks["python"]
    assert run_check(python, "Acme will refund you.", cases[1]).passed
    assert not run_check(python, "We will refund you.", cases[1]).passed


def convert(raw) -> Check:
    report = ImportReport("x", "promptfoo")
    found = convert_assertion(raw, "a", report, DATA)
    assert found is not None, report.not_converted
    return found.literal_check()


@pytest.mark.parametrize("raw, output, passes", [
    ({"type": "icontains", "value": "hello"}, "HELLO there", True),
    ({"type": "contains", "value": "hello"}, "HELLO there", False),
    ({"type": "not-contains", "value": "sorry"}, "Sorry!", True),
    ({"type": "not-icontains", "value": "sorry"}, "Sorry!", False),
    ({"type": "contains-any", "value": ["cat", "dog"]}, "a dog", True),
    ({"type": "contains-all", "value": ["cat", "dog"]}, "a dog", False),
    ({"type": "icontains-all", "value": "Cat, Dog"}, "dog and CAT", True),
    ({"type": "not-contains-any", "value": ["cat", "dog"]}, "a bird", True),
    ({"type": "equals", "value": "Paris"}, "Paris", True),
    ({"type": "equals", "value": "Paris"}, "Paris\n", False),  # promptfoo compares exactly
    ({"type": "not-equals", "value": "Paris"}, "Lyon", True),
    ({"type": "equals", "value": {"a": 1}}, '{"a": 1}', True),
    ({"type": "starts-with", "value": "Yes."}, "Yes. Because", True),
    ({"type": "starts-with", "value": "Yes."}, "I think Yes.", False),
    ({"type": "not-starts-with", "value": "No"}, "Yes", True),
    ({"type": "regex", "value": r"\d{4}"}, "in 1999", True),
    ({"type": "regex", "value": r"(?<year>\d{4})"}, "in 1999", True),
    ({"type": "not-regex", "value": r"\d"}, "none", True),
    ({"type": "is-json"}, '{"a": 1}', True),
    ({"type": "is-json"}, '```json\n{"a": 1}\n```', False),
    ({"type": "is-json", "value": {"type": "object", "required": ["a"]}}, '{"b": 1}', False),
    ({"type": "contains-json"}, '```json\n{"a": 1}\n```', True),
    ({"type": "python", "value": "output[5:10] == 'Hello'"}, "12345Hello", True),
    ({"type": "python", "value": "return len(output) > 3"}, "ab", False),
    ({"type": "not-python", "value": "'error' in output"}, "fine", True),
    ({"type": "word-count", "value": {"min": 2, "max": 3}}, "one two", True),
    ({"type": "word-count", "value": 1}, "one two", False),
])
def test_converted_checks_give_promptfoos_documented_verdicts(raw, output, passes):
    assert run_check(convert(raw), output, TestCase({})).passed is passes


def test_model_graded_assertions_become_judges_with_the_grading_provider():
    judge = convert({"type": "llm-rubric", "value": "Is polite", "threshold": 0.8,
                     "provider": "openai:chat:gpt-4o"})
    assert judge.config == {"rubric": "Is polite", "scale": "0-1", "pass_threshold": 0.8,
                            "model": "openai/gpt-4o"}
    closedqa = convert({"type": "model-graded-closedqa", "value": "mentions Paris"})
    assert "mentions Paris" in closedqa.config["rubric"] and closedqa.type == "judge"
    assert convert({"type": "cost", "threshold": 0.002}).config == {"max_usd": 0.002}
    assert convert({"type": "latency", "threshold": 900}).config == {"max_ms": 900}


@pytest.mark.parametrize("raw, reason", [
    ({"type": "javascript", "value": "output.length < 9"}, "JavaScript"),
    ({"type": "python", "value": "file://grade.py"}, "Python file"),
    ({"type": "python", "value": "x = 1\nreturn x"}, "multi-line"),
    ({"type": "python", "value": "import os"}, "not a Python expression"),
    ({"type": "python", "value": "string.ascii_letters in output"}, "uses string"),
    ({"type": "similar", "value": "hi"}, "embedding"),
    ({"type": "not-is-json"}, "not JSON"),
    ({"type": "cost"}, "threshold"),
    ({"type": "contains", "value": "{{ name | upper }}"}, "Nunjucks"),
    ({"type": "icontains", "value": "x", "transform": "output.trim()"}, "transformed"),
    ({"type": "levenshtein", "value": "x"}, "edit-distance"),
])
def test_assertions_without_a_lab_equivalent_are_reported(raw, reason):
    report = ImportReport("x", "promptfoo")
    assert convert_assertion(raw, "tests[1].assert[1]", report, DATA) is None
    (left_out,) = report.not_converted
    assert reason in left_out.reason and left_out.where == "tests[1].assert[1]"
    assert str(raw["type"]) in left_out.original


@pytest.mark.parametrize("pid, expected", [
    ("openai:gpt-4o-mini", ("openai", "gpt-4o-mini", "")),
    ("openai:chat:ft:gpt-4o-mini:acme::abc", ("openai", "ft:gpt-4o-mini:acme::abc", "")),
    ("anthropic:messages:claude-3-5-sonnet-20241022",
     ("anthropic", "claude-3-5-sonnet-20241022", "")),
    ("google:gemini-2.0-flash", ("gemini", "gemini-2.0-flash", "")),
    ("vertex:gemini-1.5-pro", ("gemini", "gemini-1.5-pro", "Vertex")),
    ("ollama:chat:llama3.2", ("ollama", "llama3.2", "")),
    ("ollama:llama3.2", ("ollama", "llama3.2", "generate")),
    ("openai:responses:gpt-4.1", ("openai", "gpt-4.1", "Responses")),
    ("groq:llama-3.3-70b-versatile", ("groq", "llama-3.3-70b-versatile", "")),
])
def test_provider_ids(pid, expected):
    _kind, name, model, approximation = parse_id(pid)
    assert (name, model) == expected[:2] and expected[2] in approximation
    if not expected[2]:
        assert approximation == ""


@pytest.mark.parametrize("pid", ["openai:completion:gpt-3.5-turbo-instruct", "https://x/api",
                                 "exec:./run.sh", "azure:chat:deploy", "vertex:chat-bison",
                                 "file://provider.py"])
def test_provider_ids_without_a_lab_equivalent(pid):
    with pytest.raises(NotConvertible):
        parse_id(pid)


def test_csv_short_assertions():
    assert short_assertion("HELLO") == {"type": "equals", "value": "HELLO"}
    assert short_assertion("icontains: paris") == {"type": "icontains", "value": "paris"}
    assert short_assertion("grade: is polite") == {"type": "llm-rubric", "value": "is polite"}
    assert short_assertion("similar(0.8): hi") == {"type": "similar", "value": "hi",
                                                   "threshold": 0.8}
    assert short_assertion("is-json") == {"type": "is-json"}


def test_prompts_whose_user_message_differs_are_reported(tmp_path):
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text("prompts:\n  - 'Summarise: {{text}}'\n  - 'TL;DR {{text}}'\n"
                      "providers: [openai:gpt-4o-mini]\ntests:\n  - vars: {text: hi}\n")
    result = import_promptfoo(config)
    assert [v.name for v in result.spec.project.variants] == ["openai:gpt-4o-mini"]
    (left_out,) = result.report.not_converted
    assert left_out.where == "prompts[2]" and "share one user message" in left_out.reason
    assert left_out.original == "TL;DR {{text}}"


def test_a_config_that_is_not_yaml_names_the_file_and_line(tmp_path):
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text("prompts:\n  - hi\nproviders: [openai:gpt-4o-mini\ntests: []\n")
    with pytest.raises(ImportFileError, match=r"promptfooconfig\.yaml, line 4, column \d+: not "
                                              r"valid YAML"):
        import_promptfoo(config)
    with pytest.raises(ImportFileError, match="no such file"):
        import_promptfoo(tmp_path / "missing.yaml")
