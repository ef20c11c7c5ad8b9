"""Editing a chain in the prompt pane: a single prompt made a chain, steps added, renamed,
reordered and removed (each one step to undo), the selected step's prompt, user message, model
and parameters edited and saved, and the chain written to the experiment file."""

from __future__ import annotations

import json
import sqlite3

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit

from lab.core.experiment import file as experiment_file
from tests.gui.sample_runs import SUPPORT


def stored_steps(lab_home) -> list[list[dict]]:
    conn = sqlite3.connect(lab_home / "workspace.db")
    try:
        return [json.loads(r[0]) for r in conn.execute(
            f"SELECT steps_json FROM variants WHERE project_id = {SUPPORT} ORDER BY position")]
    finally:
        conn.close()


def undo(window) -> None:
    window.results_pane.view.setFocus()
    window.commands.undo_action.trigger()


def redo(window) -> None:
    window.results_pane.view.setFocus()
    window.commands.redo_action.trigger()


def shown_steps(window) -> list[str]:
    bar = window.prompt_pane.steps
    return [bar.list.item(i).text() for i in range(bar.list.count())] if bar.isVisibleTo(
        window.prompt_pane) else []


def rename(window, row: int, name: str) -> None:
    """Select the step, press Rename, type the name in place and press Enter."""
    bar = window.prompt_pane.steps
    bar.list.setCurrentRow(row)
    bar.rename_button.click()
    editor, = [e for e in bar.list.findChildren(QLineEdit) if e.isVisible()]  # the open one
    editor.selectAll()
    QTest.keyClicks(editor, name)
    QTest.keyClick(editor, Qt.Key.Key_Return)
    QApplication.processEvents()  # the delegate commits the name on its next turn
    assert bar.list.state() != QAbstractItemView.State.EditingState


def test_a_variant_made_a_chain_and_its_steps_edited_and_undone(make_window, qtbot, lab_home):
    window = make_window()
    pane = window.prompt_pane
    variant = window.session.project.variants[1]
    window.variants_pane.select(1)
    system = variant.system
    # A single prompt stays as it was: no steps row, a button to make it a chain.
    assert shown_steps(window) == [] and pane.make_chain_button.isVisibleTo(pane)

    pane.make_chain_button.click()
    assert [s.name for s in variant.steps] == ["answer"]
    assert variant.steps[0].system == system
    assert variant.steps[0].user == window.session.project.user_template
    assert shown_steps(window) == ["answer"] and not pane.make_chain_button.isVisibleTo(pane)
    assert pane.header.title.text() == "System prompt · B · empathetic steps › answer"
    assert pane.template_header.title.text() == "User message · step answer"
    assert "few-shot examples are kept but not sent" in window.statusBar().currentMessage()
    assert "chain of 1 step" in window.variants_pane.model.data(
        window.variants_pane.model.index(1, 0))

    # Add a step, after the selected one: it reads the step before it.
    pane.steps.add_button.click()
    assert shown_steps(window) == ["answer", "step2"]
    assert variant.steps[1].user == "{{steps.answer}}"
    assert pane.steps.current_row() == 1 and pane.template.toPlainText() == "{{steps.answer}}"
    # Rename both so the chain reads extract → answer, and move it to the front.
    rename(window, 1, "extract")
    assert variant.steps[1].name == "extract"
    pane.steps.earlier_button.click()
    assert shown_steps(window) == ["extract", "answer"]
    assert pane.steps.current_row() == 0

    # What is typed and chosen while a step is shown belongs to that step.
    pane.system.setPlainText("List the order facts as JSON.")
    pane.template.setPlainText("{{message}}")
    pane.flush()
    pane.model_picker.setCurrentText("openai/gpt-4o")
    pane.model_picker.lineEdit().editingFinished.emit()
    pane.parameters.temperature.setValue(0.0)
    pane.parameters.output.setCurrentIndex(pane.parameters.output.findData("json"))
    pane.parameters.output.activated.emit(pane.parameters.output.currentIndex())
    extract = variant.steps[0]
    assert (extract.system, extract.user, extract.model) == (
        "List the order facts as JSON.", "{{message}}", "openai/gpt-4o")
    assert extract.params == {"temperature": 0.0, "response_format": "json"}
    assert variant.system == system and window.session.project.user_template != "{{message}}"
    # Another step shows its own prompt; the first is as it was typed.
    pane.steps.list.setCurrentRow(1)
    assert pane.system.toPlainText() == system
    assert pane.template.toPlainText() == window.session.project.user_template
    pane.steps.list.setCurrentRow(0)
    assert pane.system.toPlainText() == "List the order facts as JSON."
    qtbot.waitUntil(lambda: [s["name"] for s in stored_steps(lab_home)[1]]
                    == ["extract", "answer"] and stored_steps(lab_home)[1][0]["model"]
                    == "openai/gpt-4o", timeout=5000)

    # A name that cannot be written {{steps.NAME}}, or is taken, is refused and says why.
    rename(window, 0, "my step")
    assert variant.steps[0].name == "extract" and shown_steps(window) == ["extract", "answer"]
    assert "use letters, digits, _ and -" in window.statusBar().currentMessage()
    rename(window, 0, "answer")
    assert "already a step of this chain" in window.statusBar().currentMessage()

    # Written to the experiment file as [[variants.steps]], read back the same.
    target = lab_home / "chain.toml"
    window.projects.save_experiment_as(str(target))
    qtbot.waitUntil(target.exists, timeout=10000)
    text = target.read_text()
    assert "[[variants.steps]]" in text and 'name = "extract"' in text
    assert experiment_file.load(target).project.variants[1].steps == variant.steps

    # Remove the first step; then undo: move, rename, add, make a chain; redo all.
    pane.steps.list.setCurrentRow(0)
    pane.steps.remove_button.click()
    assert shown_steps(window) == ["answer"]
    window.variants_pane.select(0)  # the stack survives a switch of variant
    window.edit_menu.aboutToShow.emit()
    assert window.commands.undo_action.text() == "&Undo Delete 1 step of B · empathetic steps"
    undo(window)
    assert window.session.current_variant is variant  # shown where it happened
    assert shown_steps(window) == ["extract", "answer"]
    undo(window)  # the move
    assert shown_steps(window) == ["answer", "extract"]
    undo(window)  # the rename
    assert shown_steps(window) == ["answer", "step2"]
    undo(window)  # the add
    assert shown_steps(window) == ["answer"]
    undo(window)  # making it a chain
    assert variant.steps == [] and shown_steps(window) == []
    assert pane.system.toPlainText() == system and pane.make_chain_button.isVisibleTo(pane)
    qtbot.waitUntil(lambda: stored_steps(lab_home)[1] == [], timeout=5000)
    for _ in range(5):
        redo(window)
    assert [s.name for s in variant.steps] == ["answer"]
    assert shown_steps(window) == ["answer"]


def test_removing_the_last_step_makes_it_a_single_prompt_again(make_window, qtbot, lab_home):
    window = make_window()
    pane = window.prompt_pane
    variant = window.session.project.variants[0]
    system = variant.system
    pane.make_chain_button.click()
    pane.system.setPlainText("A step's own prompt.")
    pane.flush()
    assert variant.system == system  # the variant's own prompt is kept as it was
    pane.steps.remove_button.click()
    assert variant.steps == [] and shown_steps(window) == []
    assert pane.system.toPlainText() == system
    assert pane.header.title.text() == "System prompt · A · concise"
    assert window.statusBar().currentMessage() == "A · concise is a single prompt again."
    qtbot.waitUntil(lambda: stored_steps(lab_home)[0] == [], timeout=5000)


def test_steps_move_later_and_the_buttons_say_what_can_be_done(make_window, qtbot, lab_home):
    window = make_window()
    pane = window.prompt_pane
    bar = pane.steps
    variant = window.session.project.variants[0]
    pane.make_chain_button.click()
    bar.add_button.click()
    bar.add_button.click()
    assert shown_steps(window) == ["answer", "step2", "step3"]
    assert variant.steps[2].user == "{{steps.step2}}"  # each reads the step before it

    bar.list.setCurrentRow(0)
    assert not bar.earlier_button.isEnabled() and bar.later_button.isEnabled()
    bar.later_button.click()
    assert shown_steps(window) == ["step2", "answer", "step3"] and bar.current_row() == 1
    bar.later_button.click()
    assert shown_steps(window) == ["step2", "step3", "answer"] and bar.current_row() == 2
    assert bar.earlier_button.isEnabled() and not bar.later_button.isEnabled()
    assert [s.name for s in variant.steps] == ["step2", "step3", "answer"]
    qtbot.waitUntil(lambda: [s["name"] for s in stored_steps(lab_home)[0]]
                    == ["step2", "step3", "answer"], timeout=5000)

    undo(window)
    assert shown_steps(window) == ["step2", "answer", "step3"]
    redo(window)
    assert shown_steps(window) == ["step2", "step3", "answer"]
