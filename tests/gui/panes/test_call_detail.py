"""The detail panel of a result and of a History row, after real runs against the fake provider:
the passages a retrieving call was given (citation, document, rank, score; the text a click
away), a chain's steps in order with their own cost and latency and the totals, and a JSON
output pretty-printed with a failed schema check in plain sight."""

from __future__ import annotations

import json
import re

import pytest
from PySide6.QtCore import QUrl

from tests.gui.sample_runs import point_project_at


def run_to_the_end(window, qtbot) -> None:
    qtbot.waitUntil(lambda: window.commands.run_action.isEnabled(), timeout=10000)
    window.commands.run_action.trigger()
    qtbot.waitUntil(lambda: window.run_status.progress_label.text().startswith("Run finished"),
                    timeout=60000)


def detail_of(window, qtbot, row: int, column: int, waiting_for: str) -> str:
    window.results_pane.select_cell(row, column)
    qtbot.waitUntil(lambda: waiting_for in window.results_pane.detail.toPlainText(),
                    timeout=10000)
    return window.results_pane.detail.toPlainText()


def passages_part(text: str) -> str:
    """The passages section of a detail (the request below it holds them too)."""
    return text[text.index("Passages given"):text.index("Request sent")]


def click(detail, link: str) -> None:
    detail.anchorClicked.emit(QUrl(link))  # what a click on that link sends


def test_a_retrieving_call_shows_the_passages_it_was_given(make_window, qtbot, fake_server,
                                                           lab_home):
    point_project_at(fake_server, lab_home, "Policy answers", cases=2)
    window = make_window()
    assert window.session.project.name == "Policy answers"
    run_to_the_end(window, qtbot)
    grid = window.results_pane.model
    assert grid.cell(0, 1).checks["found the right document"]  # B found refunds.md
    assert "found the right document" not in grid.cell(0, 0).checks  # A does not retrieve

    text = detail_of(window, qtbot, 0, 1, "Passages given (3)")
    first = re.search(r"1\. \[refunds\.md#2\] refunds\.md · score (\d+\.\d\d) · lexical", text)
    assert first and float(first.group(1)) > 0
    assert "2. [" in text and "3. [" in text
    assert "Returns and refunds > Returning an item" in text
    assert "full text" in text  # the passage's start shown, its whole text one click away
    detail = window.results_pane.detail
    later = "Exchanges for another size or colour"  # past the preview
    assert later not in passages_part(text)
    click(detail, "toggle:chunk:1")
    assert later in passages_part(detail.toPlainText())
    click(detail, "toggle:chunk:1")
    assert later not in passages_part(detail.toPlainText())
    click(detail, "toggle:passages")
    assert "hide the texts" in detail.toPlainText()
    # A has no passages, and says nothing about them.
    assert "Passages given" not in detail_of(window, qtbot, 0, 0, "A · from memory")

    # The same call opened from History shows its passages too.
    window.history_dock.raise_()
    history = window.history_pane
    qtbot.waitUntil(lambda: history.model is not None and history.model.rowCount() == 4,
                    timeout=10000)
    row = next(r for r in range(4) if history.model.row_data(r)["id"] == grid.cell(0, 1).call_id)
    history.select_call_row(row)
    qtbot.waitUntil(lambda: "Passages given (3)" in history.detail.toPlainText(), timeout=10000)
    assert "[refunds.md#2]" in history.detail.toPlainText()


def test_a_chain_shows_every_step_with_its_cost_and_the_totals(make_window, qtbot, fake_server,
                                                               lab_home):
    point_project_at(fake_server, lab_home, "Support replies", cases=2)
    window = make_window()
    pane = window.prompt_pane
    window.variants_pane.select(1)
    pane.make_chain_button.click()  # B's prompt becomes step "answer"
    pane.steps.add_button.click()
    pane.steps.earlier_button.click()  # a first step ...
    pane.system.setPlainText("List the facts of the email as JSON.")
    pane.template.setPlainText("{{message}}")
    pane.parameters.output.setCurrentIndex(pane.parameters.output.findData("json"))
    pane.parameters.output.activated.emit(pane.parameters.output.currentIndex())
    pane.steps.list.setCurrentRow(1)  # ... whose output the answer reads
    pane.template.setPlainText("Facts: {{steps.step2}}\n\n" + pane.template.toPlainText())
    pane.flush()
    run_to_the_end(window, qtbot)

    cell = window.results_pane.model.cell(0, 1)
    text = detail_of(window, qtbot, 0, 1, "Steps (2)")
    assert "chain of 2 steps, in all: latency" in text
    step_lines = re.findall(r"^(\d)\. (\w+) (\S+) · ok · (\d+\.\d\d) s · (\d+) → (\d+) tokens · "
                            r"\$(\d+\.\d{5})$", text, re.MULTILINE)
    assert [(n, name) for n, name, *_ in step_lines] == [("1", "step2"), ("2", "answer")]
    costs = [float(line[-1]) for line in step_lines]
    assert f"cost ${cell.cost_usd:.5f}" in text
    assert cell.cost_usd == pytest.approx(sum(costs), abs=2e-5)  # each shown to 5 places
    totals = re.search(r"Steps \(2\) · total (\d+\.\d\d) s · \$(\d+\.\d{5}) · tokens (\d+) in",
                       text)
    assert totals and int(totals.group(3)) == cell.input_tokens
    # Each step's request and output, in order: the answer was sent the first step's JSON.
    facts = text.index("1. step2")
    answer = text.index("2. answer")
    assert facts < answer
    assert 'Output:\n{\n  "echo": "' in text[facts:answer]  # JSON, pretty-printed
    assert "Facts: {\"echo\"" in text[answer:]
    detail = window.results_pane.detail
    click(detail, "toggle:step:1")
    assert '"response_format"' in detail.toPlainText()  # the whole request of step 1


def test_a_json_output_is_pretty_printed_and_a_schema_failure_is_plain(make_window, qtbot,
                                                                      fake_server, lab_home):
    point_project_at(fake_server, lab_home, "Support replies", cases=1)
    window = make_window()
    pane = window.prompt_pane
    pane.parameters.output.setCurrentIndex(pane.parameters.output.findData("schema"))
    pane.parameters.output.activated.emit(pane.parameters.output.currentIndex())
    dialog = window.editing.schema_dialog
    qtbot.addWidget(dialog)
    dialog.editor.set_text(json.dumps({"type": "object", "required": ["answer"],
                                       "properties": {"answer": {"type": "string"}}}))
    dialog.accept()
    run_to_the_end(window, qtbot)

    text = detail_of(window, qtbot, 0, 0, "Output (JSON, pretty-printed)")
    assert "✗ does not match the output schema" in text
    assert "'answer' is a required property" in text
    assert '{\n  "echo": "' in text  # indented, one key a line
    assert window.results_pane.model.cell(0, 0).checks["output schema"] is False
    # B (text) shows its output as it came.
    other = detail_of(window, qtbot, 0, 1, "You said:")
    assert "pretty-printed" not in other and "output schema" not in other
