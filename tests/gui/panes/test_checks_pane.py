"""The checks editor on the real window and workspace: every check type created in the form and
graded at once in the try-it box, the JSON-schema editor checking as you type, a result cell
tried with its test case's variables, an LLM judge asked through the fake server, and the
checks kept in the workspace."""

from __future__ import annotations

import json
import sqlite3

from lab.core.checks.form import TYPE_LABELS
from lab.gui.panes.result_cells import CellResult
from tests.gui.sample_runs import SUPPORT, point_sample_at
from tests.helpers.fake_provider.behaviours import reply


def stored_checks(lab_home) -> list[tuple[str, str, dict]]:
    conn = sqlite3.connect(lab_home / "workspace.db")
    try:
        return [(name, kind, json.loads(config)) for name, kind, config in conn.execute(
            f"SELECT name, type, config_json FROM checks WHERE project_id = {SUPPORT}"
            " ORDER BY position")]
    finally:
        conn.close()


def add_check(window, qtbot, kind: str):
    pane = window.checks_pane
    before = pane.model.rowCount()
    # The "+ Check" menu has one entry per type.
    action = next(a for a in pane.add_button.menu().actions() if a.text() == TYPE_LABELS[kind])
    action.trigger()
    assert pane.model.rowCount() == before + 1
    return pane.form


def fill(form, **values) -> None:
    for key, value in values.items():
        form.set_field(key, value)


def try_text(window, qtbot, text: str) -> str:
    pane = window.checks_pane
    pane.try_text.setPlainText(text)
    qtbot.waitUntil(lambda: not pane.grading(), timeout=10000)
    return pane.try_result.text()


# What to type for each type, an output that passes and one that fails.
CASES = {
    "equals": ({"value": "Yes"}, "Yes\n", "No"),
    "contains": ({"value": "refund\nexchange", "mode": "all"}, "a refund or an exchange",
                 "a refund"),
    "not-contains": ({"value": "as an AI", "ignore_case": True}, "Hi Tom", "As an AI, I"),
    "regex": ({"pattern": r"^Hi \w+,", "flags": ""}, "Hi Tom, thanks", "Hello Tom"),
    "json": ({}, '```json\n{"a": 1}\n```', "{a: 1}"),
    "json-schema": ({"schema": '{"type": "object", "required": ["answer"]}'},
                    '{"answer": "yes"}', '{"reply": "yes"}'),
    "length": ({"max": "5", "unit": "words"}, "one two three", "one two three four five six"),
    "python": ({"expression": "output.count('!') <= 1"}, "Great!", "Great!!"),
}


def test_every_check_type_is_created_in_the_editor_and_grades_at_once(make_window, qtbot,
                                                                       lab_home):
    window = make_window()
    window.checks_dock.raise_()
    for kind, (values, good, bad) in CASES.items():
        form = add_check(window, qtbot, kind)
        fill(form, **values)
        assert try_text(window, qtbot, good).startswith("✓ Passes"), kind
        verdict = try_text(window, qtbot, bad)
        assert verdict.startswith("✗ Fails") and len(verdict) > len("✗ Fails: "), kind
    window.checks_pane.flush()
    names = [c.type for c in window.session.project.checks]
    # Each new check goes after the selected one (the sample's first, then the one just added).
    assert names == ["contains", *CASES, "length", "not-contains"]
    qtbot.waitUntil(lambda: [k for _n, k, _c in stored_checks(lab_home)] == names, timeout=5000)
    stored = {kind: config for _name, kind, config in stored_checks(lab_home)[1:1 + len(CASES)]}
    assert stored["contains"] == {"value": ["refund", "exchange"], "mode": "all"}
    assert stored["json-schema"] == {"schema": {"type": "object", "required": ["answer"]}}
    assert stored["length"] == {"max": 5, "unit": "words"}

    # They are the project's checks from now on: the window opened again shows them.
    window.close()
    again = make_window()
    assert [c.type for c in again.session.project.checks] == names


def test_the_schema_editor_checks_the_schema_as_you_type(make_window, qtbot, lab_home):
    window = make_window()
    form = add_check(window, qtbot, "json-schema")
    editor = form.inputs["json-schema"]["schema"]
    editor.set_text('{"type": "object",\n "required": ["answer"')
    assert editor.status.text().startswith("✗ not valid JSON at line 2")
    qtbot.waitUntil(lambda: "Schema: not valid JSON" in form.problems.text(), timeout=3000)
    editor.set_text('{"type": "objekt"}')
    assert editor.status.text().startswith("✗ not a valid JSON Schema at $.type")
    editor.set_text('{"type": "object", "required": ["answer"]}')
    assert editor.status.text() == "✓ A valid JSON Schema"
    qtbot.waitUntil(lambda: form.problems.text() == "", timeout=3000)
    window.checks_pane.flush()
    qtbot.waitUntil(lambda: [c for _n, k, c in stored_checks(lab_home) if k == "json-schema"]
                    == [{"schema": {"type": "object", "required": ["answer"]}}], timeout=5000)


def test_a_selected_result_is_tried_with_its_test_case(make_window, qtbot):
    window = make_window()
    window.checks_dock.raise_()
    pane = window.checks_pane
    pane.select(0)  # the sample's "greets by name": contains {{customer}}
    assert pane.form.name.text() == "greets by name"
    case = window.session.project.cases[2]
    customer = case.vars["customer"]
    window.results_pane.model.update_cell(2, 1, lambda c: c.__dict__.update(
        CellResult(status="ok", text=f"Hi {customer}, thanks for writing.").__dict__))
    window.results_pane.select_cell(2, 1)
    pane.use_result_button.click()
    assert pane.try_text.toPlainText().startswith(f"Hi {customer}")
    assert pane.try_source.text().startswith("Output of B · empathetic steps")
    qtbot.waitUntil(lambda: pane.try_result.text().startswith("✓ Passes"), timeout=5000)
    assert customer in pane.try_result.text()
    # Typed text has no test case behind it: {{customer}} cannot be filled.
    pane.try_text.setPlainText("Hi there")
    qtbot.waitUntil(lambda: pane.try_result.text().startswith("⚠"), timeout=5000)
    assert "customer" in pane.try_result.text()
    assert pane.try_source.text() == "Pasted text"


def test_an_llm_judge_is_asked_on_the_network_thread(make_window, qtbot, fake_server, lab_home):
    point_sample_at(fake_server, lab_home)
    window = make_window()
    form = add_check(window, qtbot, "judge")
    fill(form, rubric="Is it polite to {{customer}}?", scale="1-5", model="fake/gpt-4o")
    pane = window.checks_pane
    pane.try_text.setPlainText("Hello, kind customer.")
    qtbot.waitUntil(lambda: "Ask the judge" in pane.try_result.text(), timeout=5000)
    assert pane.judge_button.isVisible()
    fake_server.script(reply('{"score": 2, "reason": "curt"}'), model="gpt-4o")
    case = window.session.project.cases[0]
    window.results_pane.model.update_cell(0, 0, lambda c: c.__dict__.update(
        CellResult(status="ok", text="Fine.").__dict__))
    window.results_pane.select_cell(0, 0)
    pane.use_result_button.click()
    pane.judge_button.click()
    qtbot.waitUntil(lambda: pane.try_result.text().startswith("✗ Fails"), timeout=10000)
    assert "curt" in pane.try_result.text()
    sent = fake_server.chat_requests()
    assert len(sent) == 1 and case.vars["customer"] in json.dumps(sent[0].body)
    # The judge call is logged like every call.
    qtbot.waitUntil(lambda: window.history_pane.model.rowCount() == 1, timeout=5000)


def test_remove_and_reorder_checks(make_window, qtbot, lab_home):
    window = make_window()
    pane = window.checks_pane
    pane.select(0)
    pane.move_requested.emit(1)
    assert [c.name for c in window.session.project.checks] == [
        "under 120 words", "greets by name", "no AI disclaimers"]
    assert pane.current_row() == 1
    pane.remove_requested.emit()
    assert [c.name for c in window.session.project.checks] == [
        "under 120 words", "no AI disclaimers"]
    qtbot.waitUntil(lambda: [n for n, _k, _c in stored_checks(lab_home)] == [
        "under 120 words", "no AI disclaimers"], timeout=5000)


def test_untrusted_code_checks_are_flagged_and_never_tried(make_window, qtbot):
    window = make_window()
    form = add_check(window, qtbot, "python")
    row = window.checks_pane.current_row()
    window.session.trusted = False  # as for an experiment file the user did not trust
    window.checks.show_project(row)
    model = window.checks_pane.model
    assert model.data(model.index(row, 0)).startswith("⚠ python expression")
    assert not model.data(model.index(0, 0)).startswith("⚠")
    assert form.trust_note.isVisibleTo(window.checks_pane)
    verdict = try_text(window, qtbot, "anything")
    assert verdict.startswith("⚠") and "not trusted" in verdict



def test_retrieval_checks_are_edited_and_the_step_a_check_grades_is_kept(make_window, qtbot,
                                                                        lab_home):
    from lab.core.workspace.location import current_project_id, open_default_workspace

    with open_default_workspace(lab_home / "workspace.db") as store:
        project = store.load_project(current_project_id(store))
        project.checks[0].config["step"] = "extract"  # grades a chain's step, as a file may say
        store.save_project(project)
    window = make_window()
    window.checks_dock.raise_()
    pane = window.checks_pane
    pane.select(0)
    pane.form.set_field("value", "refund")
    pane.flush()
    assert window.session.project.checks[0].config == {"value": "refund", "step": "extract"}

    combo = window.run_bar.projects
    combo.setCurrentIndex(combo.findText("Policy answers"))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: window.session.project.name == "Policy answers", timeout=10000)
    assert [pane.model.data(pane.model.index(r, 0)).split("\n")[1] for r in (1, 2)] == [
        "cites only passages it was given",
        "retrieval found the passage named in {{expected_source}}"]
    pane.select(2)
    assert pane.form.kind.currentData() == "retrieval-hit"
    assert pane.form.inputs["retrieval-hit"]["column"].text() == "expected_source"
    pane.form.set_field("column", "source_doc")
    pane.flush()
    qtbot.waitUntil(lambda: window.session.project.checks[2].config == {"column": "source_doc"},
                    timeout=5000)
    pane.select(1)
    assert pane.form.kind.currentData() == "citations"
    assert try_text(window, qtbot, "As our policy says [refunds.md#2].").startswith("✗ Fails")


def test_each_type_shows_its_own_fields_built_when_first_chosen(qtbot):
    from lab.core.checks.form import FIELDS
    from lab.gui.panes.check_form import CheckForm

    form = CheckForm()
    qtbot.addWidget(form)
    assert form.pages.count() == 1  # only the page on show is built with the form
    for index, kind in enumerate(TYPE_LABELS):
        form.kind.setCurrentIndex(index)
        page = form.pages.currentWidget()
        assert page.property("check_type") == kind
        assert set(form.inputs[kind]) == {f.key for f in FIELDS[kind]}
        assert all(w.parent() is page for w in form.inputs[kind].values())
    assert form.pages.count() == len(TYPE_LABELS)
    form.kind.setCurrentIndex(0)  # back to a page built before: not built again
    assert form.pages.count() == len(TYPE_LABELS)
    assert form.pages.currentWidget().property("check_type") == next(iter(TYPE_LABELS))
