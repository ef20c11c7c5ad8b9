"""The smoke test's steps and its one-line report (lab/core/run/smoke.py)."""

from __future__ import annotations

import os

import pytest

from lab import __version__
from lab.core.model import Project, TestCase, Variant
from lab.core.run.smoke import (
    LOADED,
    PAINTED,
    WORKER,
    SmokeFailure,
    SmokeTest,
    check_project,
    check_worker,
    throwaway_home,
)


def test_passes_once_every_step_passed():
    smoke = SmokeTest(timeout_s=30)
    smoke.step_passed(PAINTED, "offscreen")
    smoke.step_passed(LOADED, "2 variants, 20 test cases")
    assert smoke.pending == [WORKER] and not smoke.finished
    smoke.step_passed(WORKER)
    smoke.notes.append("vector search available")
    assert smoke.finished and smoke.exit_code == 0
    line = smoke.result_line()
    assert line.startswith(f"Prompt Lab {__version__}: smoke test passed in ")
    assert line.endswith(": window painted (offscreen); sample project loaded (2 variants, 20 "
                         "test cases); python checks run in a worker process; vector search "
                         "available")


def test_the_first_failure_is_the_one_line_reported():
    smoke = SmokeTest()
    smoke.step_passed(PAINTED)
    smoke.fail("a message box appeared: Cannot open the workspace: disk full")
    smoke.fail("later noise")
    smoke.step_passed(LOADED)
    assert smoke.finished and smoke.exit_code == 1
    assert smoke.result_line() == ("prompt-lab: smoke test failed: a message box appeared: "
                                   "Cannot open the workspace: disk full")


def test_a_timeout_names_what_was_still_pending():
    smoke = SmokeTest(timeout_s=2.5)
    smoke.step_passed(LOADED)
    smoke.timed_out()
    assert smoke.result_line() == ("prompt-lab: smoke test failed: timed out after 2.5 s waiting "
                                   "for: window painted, python checks run in a worker process")
    assert smoke.exit_code == 1


def test_stopping_early_is_a_failure_too():
    smoke = SmokeTest()
    smoke.step_passed(PAINTED)
    assert "stopped before: sample project loaded" in smoke.result_line()
    assert smoke.exit_code == 1


def test_the_project_must_have_variants_and_cases_all_shown():
    project = Project(name="P", variants=[Variant(name="A", model="openai/gpt-4o-mini")],
                      cases=[TestCase(vars={"x": "1"}), TestCase(vars={"x": "2"})])
    assert check_project(project, 1, 2) == "1 variant, 2 test cases"
    with pytest.raises(SmokeFailure, match="no project"):
        check_project(None, 0, 0)
    with pytest.raises(SmokeFailure, match="without test cases"):
        check_project(Project(name="P", variants=[Variant(name="A", model="openai/gpt-4o-mini")]), 1, 0)
    with pytest.raises(SmokeFailure, match="without variants"):
        check_project(Project(name="P"), 0, 0)
    with pytest.raises(SmokeFailure, match="the window shows 1 variant and 0 test cases"):
        check_project(project, 1, 0)


def test_the_worker_check_evaluates_in_another_process():
    assert check_worker() == ""


def test_the_throwaway_home_is_used_then_removed_and_the_old_one_restored(lab_home):
    with throwaway_home() as home:
        assert os.environ["LAB_HOME"] == str(home) and home.is_dir() and home != lab_home
        (home / "workspace.db").write_text("x")
    assert not home.exists()
    assert os.environ["LAB_HOME"] == str(lab_home)
