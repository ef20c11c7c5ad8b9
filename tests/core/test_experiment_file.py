"""Experiment files: the sample reads as documented, and every mistake names where it is."""

from __future__ import annotations

import pytest

from lab.core.experiment_file import ExperimentFileError, load, loads
from lab.core.resources import resource_path

MINIMAL = '''
name = "tone"
[[variants]]
name = "A"
model = "local/m"
system = "You are terse."
temperature = 0.0
examples = [{ user = "Hi", assistant = "Hello." }]
[cases]
user = "{{question}}"
rows = [{ question = "Where is my order?" }]
'''


def test_sample_workspace_file_is_complete():
    spec = load(resource_path("sample/support-replies.toml"))
    project = spec.project
    assert project.name == "Support replies"
    assert len(project.variants) == 2
    assert all(len(v.examples) == 5 for v in project.variants)
    assert len(project.cases) == 20
    assert {"customer", "order_status", "message"} == set(project.cases[0].vars)
    assert all(c.label for c in project.cases)
    assert project.variants[0].model == "openai/gpt-4o-mini"


def test_minimal_file_from_the_architecture_doc():
    spec = loads(MINIMAL, "tone.toml")
    (variant,) = spec.project.variants
    assert variant.params == {"temperature": 0.0}
    assert variant.examples[0].output == "Hello."
    assert spec.project.user_template == "{{question}}"
    assert spec.project.cases[0].vars == {"question": "Where is my order?"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("temperature = 0.0", "temprature = 0.0"),
         "tone.toml: variants[1]: unknown key 'temprature'; did you mean 'temperature'?"),
        (('model = "local/m"', 'model = "m"'),
         "tone.toml: variants[1].model: 'm' needs a provider in front, like 'openai/m'"),
        (("temperature = 0.0", 'temperature = "hot"'),
         "tone.toml: variants[1].temperature: has the wrong type (str)"),
        (('rows = [{ question = "Where is my order?" }]', "rows = []"),
         "tone.toml: cases: no test cases"),
        (('name = "tone"', 'name = "tone'), "tone.toml: not valid TOML"),
    ],
)
def test_mistakes_name_the_file_and_field(change, expected):
    old, new = change
    with pytest.raises(ExperimentFileError) as info:
        loads(MINIMAL.replace(old, new, 1), "tone.toml")
    assert str(info.value).startswith(expected)


def test_toml_syntax_error_names_the_line():
    with pytest.raises(ExperimentFileError) as info:
        loads(MINIMAL + "\n[[variants]\n", "tone.toml")
    assert "line 13" in str(info.value)


def test_cases_from_a_csv_file_next_to_the_experiment(tmp_path):
    (tmp_path / "cases.csv").write_text("question,label\nWhere is it?,late\nRefund?,refund\n")
    (tmp_path / "exp.toml").write_text(
        MINIMAL.replace('rows = [{ question = "Where is my order?" }]', 'file = "cases.csv"')
    )
    spec = load(tmp_path / "exp.toml")
    assert [(c.label, c.vars) for c in spec.project.cases] == [
        ("late", {"question": "Where is it?"}), ("refund", {"question": "Refund?"})
    ]


def test_bad_row_in_the_cases_file_is_reported_with_its_line(tmp_path):
    (tmp_path / "cases.csv").write_text("question,label\nok,a\ntoo,many,cells\n")
    (tmp_path / "exp.toml").write_text(
        MINIMAL.replace('rows = [{ question = "Where is my order?" }]', 'file = "cases.csv"')
    )
    with pytest.raises(ExperimentFileError) as info:
        load(tmp_path / "exp.toml")
    assert "cases.csv, line 3: has 3 cells but the header has 2 columns" in str(info.value)


def test_missing_file_is_one_clear_line(tmp_path):
    with pytest.raises(ExperimentFileError) as info:
        load(tmp_path / "nope.toml")
    assert str(info.value) == f"{tmp_path / 'nope.toml'}: no such file."
