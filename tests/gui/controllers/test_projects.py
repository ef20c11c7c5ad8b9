"""The window and experiment files as one world: open a TOML file as a project, edit it in the
window, save it back (the file then holds the edit and nothing else changed), notice a change
made elsewhere, ask before trusting python checks, and switch between the workspace's projects,
including one `lab run` added."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from lab.core.experiment import file as experiment_file
from lab.core.workspace.location import open_default_workspace
from lab.core.workspace.trust import TrustStore
from lab.gui.dialogs import messages

ROOT = Path(__file__).resolve().parents[3]

PYTHON_CHECKS = '''
[[checks]]
type = "python"
name = "brief"
expression = "len(output) < 400"
'''


@pytest.fixture
def experiment(tmp_path) -> Path:
    path = tmp_path / "support-tone.toml"
    shutil.copyfile(ROOT / "examples" / "support-tone.toml", path)
    shutil.copyfile(ROOT / "examples" / "cases.csv", tmp_path / "cases.csv")
    return path


def open_file(window, qtbot, path: Path, name: str) -> None:
    window.projects.open_experiment(str(path))
    qtbot.waitUntil(lambda: window.session.project is not None
                    and window.session.project.name == name, timeout=10000)


def test_open_edit_save_and_diff_the_file(make_window, qtbot, experiment, monkeypatch):
    asked = []
    monkeypatch.setattr(messages, "confirm", lambda *args: asked.append(args) or False)
    original = experiment_file.load(experiment)
    window = make_window()
    open_file(window, qtbot, experiment, "support-tone")
    project = window.session.project
    assert project.source_path == str(experiment.resolve())
    assert window.windowTitle().startswith("support-tone (support-tone.toml)")
    assert window.run_bar.samples.value() == 3  # the file's samples
    assert "local" in window.session.file_providers  # its own [providers]
    assert window.run_bar.projects.currentText() == "support-tone"
    assert window.run_bar.projects.count() == 3  # the two samples and this one

    # Edit in the window: the first variant's system prompt, and a new check.
    window.variants_pane.select(0)
    window.prompt_pane.system.setPlainText("You answer in one sentence.")
    window.prompt_pane.flush()
    window.checks_pane.add_requested.emit("json")
    window.commands.save_experiment_action.trigger()
    qtbot.waitUntil(lambda: "You answer in one sentence." in experiment.read_text(), timeout=10000)

    saved = experiment_file.load(experiment)
    assert saved.project.variants[0].system == "You answer in one sentence."
    assert [c.type for c in saved.project.checks] == [
        c.type for c in original.project.checks[:1]] + ["json"] + [
        c.type for c in original.project.checks[1:]]
    assert 'file = "cases.csv"' in experiment.read_text()  # its cases file is still used
    # Everything else is as it was: providers, samples, the other variant, the cases.
    assert saved.providers == original.providers and saved.samples == original.samples
    assert saved.project.variants[1] == original.project.variants[1]
    assert saved.project.cases == original.project.cases
    assert saved.project.user_template == original.project.user_template
    # The watcher saw our own write: no question about reloading it.
    qtbot.wait(500)
    assert asked == []


def test_save_as_makes_the_project_remember_its_file(make_window, qtbot, tmp_path, lab_home):
    window = make_window()
    target = tmp_path / "out" / "support.toml"
    window.projects.save_experiment_as(str(target))
    qtbot.waitUntil(lambda: bool(target.exists() and window.session.project.source_path),
                    timeout=10000)
    spec = experiment_file.load(target)
    shown = experiment_file.ExperimentSpec(window.session.project)
    assert experiment_file.to_data(spec) == experiment_file.to_data(shown)  # ids aside, the same
    window.session.finish_saves()
    window.close()
    again = make_window()
    assert again.session.project.source_path == str(target.resolve())


def test_an_external_change_is_offered_for_reload(make_window, qtbot, experiment, monkeypatch):
    asked = []
    monkeypatch.setattr(messages, "confirm", lambda _p, title, _t: asked.append(title) or True)
    window = make_window()
    open_file(window, qtbot, experiment, "support-tone")
    text = experiment.read_text().replace('name = "A · terse"', 'name = "A · edited elsewhere"')
    experiment.write_text(text)
    qtbot.waitUntil(lambda: bool(asked), timeout=10000)
    assert asked == ["The experiment file changed"]
    qtbot.waitUntil(lambda: window.session.project.variants[0].name == "A · edited elsewhere",
                    timeout=10000)


def test_untrusted_python_checks_are_shown_and_opened_off(make_window, qtbot, experiment,
                                                          lab_home):
    experiment.write_text(experiment.read_text() + PYTHON_CHECKS)
    window = make_window()
    window.projects.open_experiment(str(experiment))
    qtbot.waitUntil(lambda: window.projects.trust_dialog is not None
                    and window.projects.trust_dialog.isVisible(), timeout=10000)
    dialog = window.projects.trust_dialog
    assert "len(output) < 400" in dialog.listing.toPlainText()
    dialog.off_button.click()
    qtbot.waitUntil(lambda: window.session.project.name == "support-tone", timeout=10000)
    assert window.session.trusted is False
    model = window.checks_pane.model
    flagged = [model.data(model.index(r, 0)) for r in range(model.rowCount())]
    assert any(text.startswith("⚠ brief") for text in flagged)
    assert TrustStore().entries() == []
    # A run plans with the checks off: the window asks the core for an untrusted run.
    assert window.running.request().trusted is False


def test_trusting_the_file_lets_its_checks_run(make_window, qtbot, experiment, lab_home):
    experiment.write_text(experiment.read_text() + PYTHON_CHECKS)
    window = make_window()
    window.projects.open_experiment(str(experiment))
    qtbot.waitUntil(lambda: window.projects.trust_dialog is not None
                    and window.projects.trust_dialog.isVisible(), timeout=10000)
    window.projects.trust_dialog.trust_button.click()
    qtbot.waitUntil(lambda: window.session.project.name == "support-tone", timeout=10000)
    assert window.session.trusted is True
    assert [e.path for e in TrustStore().entries()] == [str(experiment.resolve())]
    # Saved from the window, the file stays trusted: its new content is the user's own.
    window.prompt_pane.system.setPlainText("Edited.")
    window.prompt_pane.flush()
    with qtbot.waitSignal(window.projects.file_written, timeout=10000):
        window.commands.save_experiment_action.trigger()
    assert "Edited." in experiment.read_text()
    assert TrustStore().file_is_trusted(experiment)


def test_the_switcher_shows_a_project_lab_run_added(make_window, qtbot, experiment, lab_home):
    window = make_window()
    assert window.run_bar.projects.count() == 2  # the two samples
    # What `lab run FILE` does to the workspace (lab/cli/run.py), done meanwhile.
    spec = experiment_file.load(experiment)
    with open_default_workspace(lab_home / "workspace.db") as store:
        project_id = store.project_for_file(spec.project, str(experiment.resolve()))
    # Coming back to the window shows it in the switcher.
    QApplication.sendEvent(window, QEvent(QEvent.Type.WindowActivate))
    qtbot.waitUntil(lambda: window.run_bar.projects.count() == 3, timeout=5000)
    combo = window.run_bar.projects
    combo.setCurrentIndex(combo.findData(project_id))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: window.session.project.name == "support-tone", timeout=10000)
    assert window.session.project.source_path == str(experiment.resolve())
    assert [v.name for v in window.session.project.variants] == ["A · terse", "B · warm"]
    # File ▸ Projects lists them too, the open one checked; back to the sample from there.
    window.projects.fill_menu(window.projects_menu)
    actions = {a.text(): a for a in window.projects_menu.actions()}
    assert actions["support-tone"].isChecked() and not actions["Support replies"].isChecked()
    actions["Support replies"].trigger()
    qtbot.waitUntil(lambda: window.session.project.name == "Support replies", timeout=10000)


PROMPTFOO = """description: Refund answers
prompts:
  - "You answer refund questions for {{ company }}. Question: {{ question }}"
providers:
  - id: openai:gpt-4o-mini
    label: mini
tests:
  - vars: {company: Acme, question: "Can I return boots?"}
    assert:
      - type: icontains
        value: refund
      - type: javascript
        value: output.length < 300
"""


def test_file_import_converts_reports_and_opens_the_experiment(make_window, qtbot, tmp_path):
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(PROMPTFOO, encoding="utf-8")
    window = make_window()
    assert window.commands.import_action in window.file_menu.actions()
    window.projects.import_experiment(str(config), "promptfoo")
    qtbot.waitUntil(lambda: window.session.project is not None
                    and window.session.project.name == "Refund answers", timeout=10000)
    out, report, lines, complete = window.projects.last_import
    assert out == tmp_path / "promptfooconfig.toml" and out.is_file()
    assert report.is_file() and "javascript" in report.read_text()
    assert not complete  # the javascript assertion was left out, and the user is told
    box = window.projects.import_message
    assert "some parts were left out" in box.text() and report.name in box.text()
    box.close()
    project = window.session.project
    assert [c.type for c in project.checks] == ["contains"]
    assert project.source_path == str(out.resolve())
    prompt = project.variants[0].system + project.user_template
    assert "{{question}}" in prompt and "{{company}}" in prompt  # Nunjucks {{ var }} mapped


def test_an_unreadable_import_says_where(make_window, qtbot, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("lab.gui.controllers.projects.QMessageBox.warning",
                        lambda _parent, title, text: shown.append((title, text)))
    config = tmp_path / "broken.yaml"
    config.write_text("prompts: [unclosed\n", encoding="utf-8")
    window = make_window()
    window.projects.import_experiment(str(config), "promptfoo")
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    assert shown[0][0] == "Cannot import" and "broken.yaml" in shown[0][1]
    assert not (tmp_path / "broken.toml").exists()
