"""Names of a chain's steps: what a step may be called (it is written {{steps.NAME}}), and a
fresh name for a step the user adds."""

from __future__ import annotations

from lab.core.experiment.chains import new_step_name, step_name_problem


def test_a_step_name_must_work_inside_steps_braces_and_be_its_own():
    assert step_name_problem("extract", ["answer"]) is None
    assert step_name_problem("draft-2", []) is None
    assert "use letters, digits, _ and -" in step_name_problem("my step", [])
    assert "{{steps.2nd}}" in step_name_problem("2nd", [])
    assert step_name_problem("answer", ["extract", "answer"]) == (
        "'answer' is already a step of this chain")


def test_a_new_step_gets_a_name_no_other_step_has():
    assert new_step_name(["answer"]) == "step2"
    assert new_step_name(["answer", "step2"]) == "step3"
    assert new_step_name(["step3", "x", "y"]) == "step4"
    assert step_name_problem(new_step_name(["step2", "step3"]), ["step2", "step3"]) is None
