"""Which checks would run untrusted code: the question a window or the command line asks first."""

from __future__ import annotations

from lab.core.experiment import file as experiment_file
from lab.core.model import Check, Project
from lab.core.run.trust import (
    WINDOW_SOURCE,
    code_checks,
    resume_trusted,
    trust_file,
    untrusted_code_checks,
)
from lab.core.workspace.trust import TrustStore

TEXT = '''name = "tone"

[[variants]]
name = "A"
model = "openai/gpt-4o-mini"

[cases]
user = "{{q}}"
rows = [{ q = "Hi" }]

[[checks]]
type = "contains"
value = "hello"

[[checks]]
type = "python"
name = "short"
expression = "len(output) < 200"

[[checks]]
type = "python"
name = "short"
expression = "len(output) > 2"
'''


def write(tmp_path, text=TEXT):
    path = tmp_path / "tone.toml"
    path.write_text(text)
    return path


def test_code_checks_are_the_python_ones_by_display_name():
    checks = [Check("contains", {"value": "x"}), Check("python", {"expression": "True"}),
              Check("regex", {"pattern": "x"}), Check("python", {"expression": "1"})]
    assert code_checks(checks) == ["python", "python #2"]


def test_a_file_asks_until_trusted_and_again_once_edited(tmp_path):
    path = write(tmp_path)
    spec = experiment_file.load(path)
    assert untrusted_code_checks(spec) == ["short", "short #2"]
    assert untrusted_code_checks(spec.project, path) == ["short", "short #2"]
    trust_file(spec)
    assert untrusted_code_checks(spec) == [] and untrusted_code_checks(spec.project, path) == []
    path.write_text(TEXT.replace("< 200", "< 201"))
    assert untrusted_code_checks(experiment_file.load(path)) == ["short", "short #2"]


def test_trust_goes_to_the_bytes_that_were_parsed_not_a_later_read(tmp_path):
    path = write(tmp_path)
    spec = experiment_file.load(path)
    path.write_text(TEXT + "# changed after reading\n")
    TrustStore().trust_file(path)  # trusting the new content says nothing about what was read
    assert untrusted_code_checks(spec) == ["short", "short #2"]


def test_no_code_checks_or_the_users_own_project_need_no_trust(tmp_path):
    plain = experiment_file.load(write(tmp_path, TEXT.split("[[checks]]\ntype = \"python\"")[0]))
    assert untrusted_code_checks(plain) == []
    typed = Project("mine", checks=[Check("python", {"expression": "True"})])
    assert untrusted_code_checks(typed) == []  # no source: typed in the window
    assert untrusted_code_checks(typed, tmp_path / "missing.toml") == ["python"]  # unreadable


def test_a_resumed_run_is_trusted_from_the_window_or_an_unchanged_trusted_file(tmp_path):
    path = write(tmp_path)
    spec = experiment_file.load(path)
    assert resume_trusted({"experiment_source": WINDOW_SOURCE}, spec)
    from_file = {"experiment_source": str(path)}
    assert not resume_trusted(from_file, spec)
    trust_file(spec)
    assert resume_trusted(from_file, spec)
    path.write_text(TEXT.replace("< 200", "< 201"))  # changed since: the stored checks differ
    trust_file(experiment_file.load(path))
    assert not resume_trusted(from_file, spec)
    assert not resume_trusted({"experiment_source": str(tmp_path / "gone.toml")}, spec)
    assert not resume_trusted({"experiment_source": ""}, spec)
    plain = experiment_file.loads(TEXT.split("[[checks]]\ntype = \"python\"")[0])
    assert resume_trusted({"experiment_source": "anything"}, plain)
