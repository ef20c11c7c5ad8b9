"""Experiment files: the sample reads as documented, and every mistake names where it is."""

from __future__ import annotations

import tomllib

import pytest
from lab.core.experiment.file import ExperimentFileError, load, loads
from lab.core.runtime.resources import resource_path

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
         "tone.toml, line 7: variants[1]: unknown key 'temprature'; did you mean 'temperature'?"),
        (('model = "local/m"', 'model = "m"'),
         "tone.toml, line 5: variants[1].model: 'm' needs a provider in front, like 'openai/m'"),
        (("temperature = 0.0", 'temperature = "hot"'),
         "tone.toml, line 7: variants[1].temperature: has the wrong type (str)"),
        (('rows = [{ question = "Where is my order?" }]', "rows = []"),
         "tone.toml, line 9: cases: no test cases"),
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


# ----- writing a spec back as TOML ---------------------------------------------------------------

FULL = '''
name = "tone"
description = "Does warmth cost accuracy?"
samples = 3

[providers.local]
kind = "openai"
base_url = "http://127.0.0.1:8000/v1"
api_key_env = "LOCAL_KEY"
concurrency = 2
timeouts = { connect = 5.0, first_token = 30.0, total = 120.0 }

[[variants]]
name = "A"
model = "local/m"
system = """
You are terse.
Answer in one line."""
temperature = 0.0
max_tokens = 64
stop = ["\\n\\n"]
params = { top_k = 40, response_format = { type = "json_object" } }
examples = [
  { user = "Hi", assistant = "Hello.", note = "greeting" },
  { user = "Bye", assistant = "Bye.", enabled = false },
]

[[variants]]
name = "B · warm"
model = "local/m"

[cases]
user = "{{question}} ({{customer.name}})"
rows = [
  { question = "Where is my order?", "customer.name" = "Ana", label = "where" },
  { question = "Quote: \\"hi\\"", "customer.name" = "Bo" },
]

[[checks]]
type = "json-schema"
name = "shape"
schema = { type = "object", required = ["answer"] }

[[checks]]
type = "judge"
rubric = "Is it polite to {{customer.name}}?"
model = "local/m"
pass_threshold = 4
'''


@pytest.mark.parametrize("text", [MINIMAL, FULL])
def test_dumps_reads_back_to_the_same_spec(text):
    from lab.core.experiment.file import dumps

    spec = loads(text, "tone.toml")
    again = loads(dumps(spec), "again.toml")
    assert again == spec
    assert dumps(again) == dumps(spec)


def test_the_sample_workspace_survives_a_round_trip():
    from lab.core.experiment.file import dumps

    spec = load(resource_path("sample/support-replies.toml"))
    again = loads(dumps(spec))
    assert (again.project, again.providers, again.samples) == (
        spec.project, spec.providers, spec.samples)


def test_a_gui_project_with_ids_is_written_without_them():
    from lab.core.experiment.file import ExperimentSpec, dumps
    from lab.core.model import Example, Project, TestCase, Variant

    project = Project(
        name="From the app", user_template="{{q}}", id=7,
        variants=[Variant("A", "openai/gpt-4o-mini", "Be brief.", id=3,
                          examples=[Example("x", "y", id=9)])],
        cases=[TestCase({"q": "1"}, id=11)],
    )
    text = dumps(ExperimentSpec(project))
    assert "id" not in tomllib.loads(text)["variants"][0]
    back = loads(text).project
    assert back.variants[0].examples[0].output == "y" and back.variants[0].id is None
    assert back.cases[0].vars == {"q": "1"}


def test_cases_from_a_file_are_written_inline(tmp_path):
    from lab.core.experiment.file import dumps

    (tmp_path / "cases.csv").write_text("question\nWhere is it?\n")
    (tmp_path / "exp.toml").write_text(
        MINIMAL.replace('rows = [{ question = "Where is my order?" }]', 'file = "cases.csv"'))
    text = dumps(load(tmp_path / "exp.toml"))
    assert "cases.csv" not in text
    assert loads(text).project.cases[0].vars == {"question": "Where is it?"}


@pytest.mark.parametrize(
    ("path", "line"),
    [("name", 2), ("samples", 4), ("providers.local", 6), ("providers.local.api_key_env", 9),
     ("variants[1].model", 15), ("variants[1].temperature", 19), ("variants[2]", 28),
     ("variants[2].model", 30), ("cases.user", 33), ("checks[2]", 44), ("checks[2].model", 47),
     ("variants[3]", None), ("nothing.here", None)],
)
def test_locate_finds_the_line_of_a_field(path, line):
    from lab.core.experiment.file import locate

    assert locate(FULL, path) == line


def test_the_sample_project_passes_every_pre_flight_check():
    """What a newcomer runs first must not be refused: templates, checks and models all valid."""
    from lab.core.checks.config import validate_check
    from lab.core.run.plan import build_plan, provider_configs
    from lab.core.run.template_problems import check_project
    from lab.core.workspace.providers import built_in_providers

    spec = load(resource_path("sample/support-replies.toml"))
    assert [p.message for p in check_project(spec.project) if p.severity == "error"] == []
    assert [validate_check(c) for c in spec.project.checks] == [[], [], []]
    plan = build_plan(spec, provider_configs(spec, built_in_providers()))
    assert len(plan.calls) == 40


RETRIEVAL = '''
name = "with documents"

[[documents]]
path = "policies/"
chunk_size = 300

[[documents]]
path = "faq/*.md"

[[variants]]
name = "plain"
model = "openai/gpt-4o-mini"

[[variants]]
name = "retrieving"
model = "openai/gpt-4o-mini"
system = "Answer from: {{context}}"
retrieval = { mode = "hybrid", k = 3, query = "{{question}}", embedding_model = "openai/text-embedding-3-small", chunk_size = 200 }

[cases]
user = "{{question}}"
rows = [{ question = "Refunds?" }]
'''


def test_documents_and_retrieval_round_trip():
    from lab.core.model import DocumentSource, Retrieval

    spec = loads(RETRIEVAL, "r.toml")
    assert spec.project.documents == [DocumentSource("policies/", 300, 50),
                                      DocumentSource("faq/*.md", 400, 50)]
    assert spec.project.variants[0].retrieval is None
    assert spec.project.variants[1].retrieval == Retrieval(
        "hybrid", 3, "{{question}}", "openai/text-embedding-3-small", 200, None)
    from lab.core.experiment.file import dumps

    again = loads(dumps(spec), "again.toml")
    assert again.project == spec.project


@pytest.mark.parametrize("mistake, message", [
    ('retrieval = { mode = "magic" }', "retrieval.mode: 'magic' is not one of off, lexical"),
    ('retrieval = { mode = "embeddings" }', "needs an embedding model as provider/model"),
    ('retrieval = { k = 0 }', "retrieval.k: must be a whole number of at least 1"),
    ('retrieval = { chunk_size = 100, chunk_overlap = 60 }', "must be less than half of chunk_size"),
])
def test_bad_retrieval_settings_name_the_field(mistake, message):
    text = RETRIEVAL.replace(
        'retrieval = { mode = "hybrid", k = 3, query = "{{question}}", embedding_model = '
        '"openai/text-embedding-3-small", chunk_size = 200 }', mistake)
    with pytest.raises(ExperimentFileError, match=message):
        loads(text, "r.toml")
