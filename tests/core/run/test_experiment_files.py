"""Experiment files as the window uses them: read with trust, adopted as the workspace project
`lab run` uses, written back keeping the file's providers, samples and cases file, and what a
project's file says now."""

from __future__ import annotations

import shutil
from pathlib import Path

from lab.core.experiment import file as experiment_file
from lab.core.run.experiment_files import (
    adopt_experiment,
    file_digest,
    file_state,
    read_experiment,
    trust_read_file,
    write_experiment,
)
from lab.core.workspace.store import open_workspace
from lab.core.workspace.trust import TrustStore

ROOT = Path(__file__).resolve().parents[3]
PYTHON = '\n[[checks]]\ntype = "python"\nname = "brief"\nexpression = "len(output) < 400"\n'


def copy_example(tmp_path) -> Path:
    shutil.copyfile(ROOT / "examples" / "cases.csv", tmp_path / "cases.csv")
    path = tmp_path / "tone.toml"
    shutil.copyfile(ROOT / "examples" / "support-tone.toml", path)
    return path


def test_written_back_the_file_keeps_what_the_window_does_not_show(tmp_path):
    path = copy_example(tmp_path)
    spec, untrusted = read_experiment(path)
    assert untrusted == []
    spec.project.variants[0].system = "Shorter."
    digest = write_experiment(spec.project, path, samples=spec.samples, providers=spec.providers)
    assert digest == file_digest(path)
    again = experiment_file.load(path)
    assert again.project.variants[0].system == "Shorter."
    assert again.providers == spec.providers and again.samples == 3
    assert 'file = "cases.csv"' in path.read_text()
    # Cases changed in the window are written inline: the cases file no longer holds them.
    spec.project.cases.pop()
    write_experiment(spec.project, path, samples=3, providers=spec.providers)
    assert "[[cases.rows]]" in path.read_text() and "cases.csv" not in path.read_text()
    assert len(experiment_file.load(path).project.cases) == len(spec.project.cases)


def test_adopted_files_are_the_projects_lab_run_uses(tmp_path):
    path = copy_example(tmp_path)
    store = open_workspace(None)
    spec, _ = read_experiment(path)
    first = adopt_experiment(store, spec)
    assert store.get_meta("last_project_id") == str(first)
    assert store.load_project(first).source_path == str(path.resolve())
    spec, _ = read_experiment(path)
    assert adopt_experiment(store, spec) == first  # matched by path, not added again
    state = file_state(store.load_project(first))
    assert state.exists and state.sha256 == file_digest(path)
    assert state.samples == 3 and "local" in state.providers and state.trusted


def test_trust_follows_the_content(tmp_path, lab_home):
    path = copy_example(tmp_path)
    path.write_text(path.read_text() + PYTHON)
    spec, untrusted = read_experiment(path)
    assert untrusted == ["brief"]
    store = open_workspace(None)
    project = store.load_project(adopt_experiment(store, spec))
    assert file_state(project).untrusted == ["brief"]
    trust_read_file(spec)
    assert file_state(project).trusted
    # Written by the window with trust, the new content stays trusted; without, it does not.
    project.variants[0].system = "Edited."
    write_experiment(project, path, samples=3, providers=spec.providers, trusted=True)
    assert TrustStore().file_is_trusted(path)
    project.variants[0].system = "Edited again."
    write_experiment(project, path, samples=3, providers=spec.providers, trusted=False)
    assert not TrustStore().file_is_trusted(path)


def test_a_missing_file_is_said_plainly(tmp_path):
    path = copy_example(tmp_path)
    store = open_workspace(None)
    spec, _ = read_experiment(path)
    project = store.load_project(adopt_experiment(store, spec))
    path.unlink()
    state = file_state(project)
    assert not state.exists and "is not there any more" in state.problem
