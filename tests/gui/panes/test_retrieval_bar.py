"""A variant's retrieval setting in the prompt pane: chosen, saved in the workspace, written to
the experiment file and read back the same, undone in one step each, and a prompt without
{{context}} pointed out."""

from __future__ import annotations

import json
import sqlite3
import sys

from lab.core.experiment import file as experiment_file
from lab.core.model import Retrieval
from tests.gui.sample_runs import SUPPORT


def stored_retrieval(lab_home) -> list:
    conn = sqlite3.connect(lab_home / "workspace.db")
    try:
        return [json.loads(r[0]) if r[0] else None for r in conn.execute(
            f"SELECT retrieval_json FROM variants WHERE project_id = {SUPPORT} ORDER BY position")]
    finally:
        conn.close()


def choose_mode(bar, mode: str) -> None:
    bar.mode.setCurrentIndex(bar.mode.findData(mode))
    bar.mode.activated.emit(bar.mode.currentIndex())


def undo(window) -> None:
    window.results_pane.view.setFocus()
    window.commands.undo_action.trigger()


def test_retrieval_is_set_saved_written_to_the_file_and_undone(make_window, qtbot, lab_home,
                                                              tmp_path):
    window = make_window()
    window.variants_pane.select(1)
    variant = window.session.project.variants[1]
    bar = window.prompt_pane.retrieval
    assert variant.retrieval is None and bar.mode.currentData() == "off"
    assert not bar.k.isVisibleTo(bar)  # nothing to set while it is off

    choose_mode(bar, "lexical")
    assert variant.retrieval == Retrieval(mode="lexical", k=4)
    assert bar.k.isVisibleTo(bar) and not bar.embedding_model.isVisibleTo(bar)
    # The support prompts have no {{context}}: where the passages would go is pointed out.
    assert bar.hint.text() == "add {{context}} to a prompt"
    bar.k.setValue(2)
    bar.query.setText("{{message}}")
    bar.query.editingFinished.emit()
    assert variant.retrieval == Retrieval(mode="lexical", k=2, query="{{message}}")
    window.prompt_pane.system.setPlainText(variant.system + "\nPolicies:\n{{context}}")
    assert bar.hint.text() == ""
    assert "lexical k=2" in window.variants_pane.model.data(window.variants_pane.model.index(1, 0))
    qtbot.waitUntil(lambda: stored_retrieval(lab_home)[1] is not None
                    and stored_retrieval(lab_home)[1]["query"] == "{{message}}", timeout=5000)

    choose_mode(bar, "hybrid")
    assert bar.embedding_model.isVisibleTo(bar)
    bar.embedding_model.setText("openai/text-embedding-3-small")
    bar.embedding_model.editingFinished.emit()
    assert variant.retrieval == Retrieval(mode="hybrid", k=2, query="{{message}}",
                                          embedding_model="openai/text-embedding-3-small")

    # Written to the experiment file as the file format has it, and read back the same.
    target = tmp_path / "support.toml"
    window.projects.save_experiment_as(str(target))
    qtbot.waitUntil(target.exists, timeout=10000)
    assert ('[variants.retrieval]\nmode = "hybrid"\nk = 2\nquery = "{{message}}"\n'
            'embedding_model = "openai/text-embedding-3-small"\n') in target.read_text()
    read_back = experiment_file.load(target).project.variants
    assert read_back[1].retrieval == variant.retrieval and read_back[0].retrieval is None

    # Each change is one step to undo, shown in the bar as it was.
    window.variants_pane.select(0)
    window.edit_menu.aboutToShow.emit()
    assert window.commands.undo_action.text() == "&Undo Change the retrieval of B · empathetic steps"
    undo(window)  # the embedding model
    assert variant.retrieval == Retrieval(mode="hybrid", k=2, query="{{message}}")
    assert window.session.current_variant is variant  # shown where it happened
    assert bar.embedding_model.text() == ""
    undo(window)  # the mode
    assert variant.retrieval.mode == "lexical"
    assert bar.mode.currentData() == "lexical" and bar.query.text() == "{{message}}"
    undo(window)  # the query
    undo(window)  # k
    assert variant.retrieval == Retrieval(mode="lexical", k=4)
    undo(window)  # back to no retrieval at all
    assert variant.retrieval is None and bar.mode.currentData() == "off"
    qtbot.waitUntil(lambda: stored_retrieval(lab_home) == [None, None], timeout=5000)


def test_off_keeps_nothing_but_what_was_set(make_window):
    window = make_window()
    variant = window.session.project.variants[0]
    bar = window.prompt_pane.retrieval
    choose_mode(bar, "lexical")
    choose_mode(bar, "off")
    assert variant.retrieval is None  # nothing else was set: no retrieval, as before
    choose_mode(bar, "lexical")
    bar.k.setValue(6)
    choose_mode(bar, "off")
    assert variant.retrieval == Retrieval(mode="off", k=6)  # k kept for switching back
    assert not variant.retrieval.on


def test_embeddings_without_the_vectors_extra_say_what_to_install(make_window, qtbot,
                                                                 monkeypatch):
    monkeypatch.setitem(sys.modules, "sqlite_vec", None)  # an install without the extra
    window = make_window()
    combo = window.run_bar.projects
    combo.setCurrentIndex(combo.findText("Policy answers"))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: window.session.project.name == "Policy answers", timeout=10000)
    window.variants_pane.select(1)
    bar = window.prompt_pane.retrieval
    choose_mode(bar, "embeddings")
    bar.embedding_model.setText("openai/text-embedding-3-small")
    bar.embedding_model.editingFinished.emit()
    estimate = window.run_bar.estimate
    qtbot.waitUntil(lambda: "problem" in estimate.text(), timeout=15000)
    assert "1 problem to fix before running" in estimate.text()
    assert ("embeddings retrieval needs the sqlite-vec extension: "
            "pip install 'prompt-lab[vectors]'") in estimate.toolTip()
