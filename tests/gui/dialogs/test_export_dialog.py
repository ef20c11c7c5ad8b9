"""The Export dialog on a real judged workspace: preview and report before writing, rules that
stop a bad export, progress, and files that the consumers load."""

from __future__ import annotations

import json

from tests.core.run.test_chains import chain_experiment
from tests.helpers import judged_workspace
from tests.helpers.experiments import run_experiment
from tests.helpers.fake_provider import reply
from tests.helpers.hf_readers import load_rows


def test_preview_report_and_write(make_window, qtbot, tmp_path, lab_home):
    judged_workspace.build(lab_home / "workspace.db")
    window = make_window()
    dialog = window.judging.show_export()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.plan is not None and dialog.variant.count() == 4, timeout=10000)
    assert [dialog.variant.itemText(i) for i in range(4)] == ["Any variant", "A", "B", "G"]
    assert not dialog._pick.isRowVisible(dialog._step_row)  # no prompt chains in this log
    dialog.format.setCurrentIndex(dialog.format.findData("openai-sft"))
    dialog.variant.setCurrentIndex(dialog.variant.findData("A"))
    dialog.min_score.setValue(4)
    dialog.split.setValue(1.0)
    qtbot.waitUntil(lambda: dialog.plan is not None and dialog.plan.target.name == "openai-sft"
                    and dialog.plan.selection.min_score == 4
                    and dialog.plan.selection.variants == ["A"]
                    and dialog.plan.options.train_fraction == 1.0, timeout=10000)
    plan = dialog.plan
    first_line = dialog.preview.toPlainText().splitlines()[0]
    assert json.loads(first_line)["messages"][-1]["role"] == "assistant"
    assert "outputs selected" in dialog.summary.text()

    dialog.out_dir.setText(str(tmp_path / "sft"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=20000)
    assert dialog.summary.text().startswith("Written to")
    assert dialog.open_button.isVisible()
    rows = load_rows(tmp_path / "sft" / "train.jsonl", tmp_path / "hf")
    assert len(rows) == len(plan.examples)
    assert (tmp_path / "sft" / "README.md").exists()


def test_broken_rules_stop_the_export_until_forced(make_window, qtbot, tmp_path, lab_home):
    judged_workspace.build(lab_home / "workspace.db")
    window = make_window()
    dialog = window.judging.show_export()
    qtbot.addWidget(dialog)
    dialog.format.setCurrentIndex(dialog.format.findData("openai-sft"))
    dialog.search.setText("Gemini")  # far fewer than OpenAI's minimum of 10 examples
    qtbot.waitUntil(lambda: dialog.plan is not None and dialog.plan.selection.search == "Gemini",
                    timeout=10000)
    assert "at least 10" in dialog.report.toPlainText()
    dialog.out_dir.setText(str(tmp_path / "few"))
    dialog.export_button.click()
    assert "breaks openai-sft's rules" in dialog.summary.text()
    assert not (tmp_path / "few").exists()
    dialog.force.setChecked(True)
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=20000)
    assert (tmp_path / "few" / "train.jsonl").exists()


def test_save_the_selection_as_a_dataset_and_export_it_by_name(make_window, qtbot, lab_home):
    import sqlite3

    judged_workspace.build(lab_home / "workspace.db")
    window = make_window()
    dialog = window.judging.show_export()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.variant.count() == 4, timeout=10000)
    dialog.variant.setCurrentIndex(dialog.variant.findData("B"))
    dialog.thumbs_up.setChecked(True)
    dialog.save_dataset("B thumbs up")
    qtbot.waitUntil(lambda: dialog.dataset.currentData() == "B thumbs up", timeout=5000)
    conn = sqlite3.connect(lab_home / "workspace.db")
    (selection,) = conn.execute("SELECT selection_json FROM datasets WHERE name = 'B thumbs up'").fetchone()
    conn.close()
    assert '"thumbs_up": true' in selection and '"B"' in selection
    qtbot.waitUntil(lambda: dialog.plan is not None and dialog.plan.dataset_name == "B thumbs up",
                    timeout=10000)
    assert dialog.plan.selected == 6  # B's thumbs-up outputs: the even questions


def test_a_chain_step_is_exported_instead_of_the_final_output(make_window, qtbot, tmp_path,
                                                               lab_home, server):
    server.script(*[reply(json.dumps({"order": f"A-{n}"})) for n in (1, 2)], model="gpt-4o")
    run_experiment(chain_experiment(server), lab_home / "workspace.db")
    window = make_window()
    dialog = window.judging.show_export()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.step.count() == 3, timeout=10000)
    assert dialog._pick.isRowVisible(dialog._step_row)
    assert [dialog.step.itemData(i) for i in range(3)] == ["", "answer", "extract"]
    dialog.format.setCurrentIndex(dialog.format.findData("sharegpt"))
    dialog.variant.setCurrentIndex(dialog.variant.findData("B"))
    dialog.step.setCurrentIndex(dialog.step.findData("extract"))
    qtbot.waitUntil(lambda: dialog.plan is not None and dialog.plan.selection.step == "extract"
                    and dialog.plan.target.name == "sharegpt", timeout=10000)
    first = json.loads(dialog.preview.toPlainText().splitlines()[0])
    assert first["system"] == "Return the order facts as JSON."
    assert json.loads(first["conversations"][-1]["value"])["order"].startswith("A-")
