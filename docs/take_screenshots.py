"""Take screenshots of the main screens for the README and docs.

Run on a real (virtual) screen so what is captured is what a user sees:
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/take_screenshots.py
Uses a fresh workspace in a temporary folder (the sample project), never your own, and runs
the sample against the test suite's fake provider server on 127.0.0.1 so results are shown:
three samples per cell, with an LLM-judge check added and some answers scripted to vary (a
refusal, a reply too long, one that forgets the customer's name) so the Analysis view has
differences to show; then a few ratings, tags and blind judgements.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT))


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="lab-screens-"))
    os.environ["LAB_HOME"] = str(home)
    os.environ["LAB_SCREENSHOT_KEY"] = "sk-screenshot"
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from lab.core.model import Check, PairwiseJudgement
    from lab.core.providers.base import ProviderConfig
    from lab.core.workspace.location import current_project_id, open_default_workspace
    from lab.core.workspace.providers import save_provider
    from docs.screenshot_player import play
    from lab.gui.app import create_window, make_application
    from lab.gui.panes.analysis import tab_index
    from tests.helpers.fake_provider import FakeProviderServer, reply

    rng = random.Random(4)
    server = FakeProviderServer(api_keys=("sk-screenshot",)).start()
    server.latency = 0.05
    sorry = ("We are very sorry for the trouble with your order and we completely understand "
             "how frustrating this must be.")
    shipped = ("Hi there,\n\nThanks for writing in. Your order shipped yesterday and arrives on "
               "Friday.\n\nNorthwind Support")
    odd = ["Hello! As an AI language model I can't look up orders; please contact support.",
           " ".join([sorry] * 7), shipped]
    for model, share in (("gpt-4o-mini", 0.12), ("gpt-4o", 0.28)):  # A, then B: 60 calls each
        server.script(*[reply(rng.choice(odd)) if rng.random() < share else reply()
                        for _ in range(60)], model=model)
    verdicts = [rng.choice((2, 3, 4, 4, 5, 5)) for _ in range(120)]  # the LLM judge's
    reasons = {True: "clear and kind", False: "misses the point"}
    server.script(*[reply(f'{{"score": {score}, "reason": "{reasons[score >= 4]}"}}')
                    for score in verdicts], model="judge-mini")
    with open_default_workspace(home / "workspace.db") as store:
        save_provider(store, ProviderConfig(name="local", kind="openai", local=True,
                                            base_url=server.base_url("openai"),
                                            api_key_env="LAB_SCREENSHOT_KEY", concurrency=8))
        project = store.load_project(current_project_id(store))
        project.variants[0].model = "local/gpt-4o-mini"
        project.variants[1].model = "local/gpt-4o"
        project.checks.append(Check("judge", {
            "rubric": "Is the reply helpful, kind and specific to the customer's problem?",
            "model": "local/judge-mini"}, name="helpful"))
        store.save_project(project)
        store.set_meta("welcomed", "1")  # the first-start offer is not what these pictures show

    app = make_application(sys.argv[:1])
    window = create_window()
    window.resize(1440, 900)
    window.show()
    OUT.mkdir(exist_ok=True)
    dialogs = []

    def providers() -> None:
        dialogs.append(window.editing.show_providers())

    def run() -> None:
        window.run_bar.samples.setValue(3)
        window.commands.run_action.trigger()

    def select_cell() -> None:
        window.results_pane.select_cell(1, 1)
        window.judging.rate(score=4)

    def pairwise() -> None:
        window.judging.judge_pairs()

    def history() -> None:
        window.history_dock.raise_()
        window.history_pane.select_call_row(0)

    def checks() -> None:
        window.checks_dock.raise_()
        window.results_pane.select_cell(1, 0)
        window.checks_pane.select(0)
        window.checks_pane.use_result_button.click()

    def edit_and_run_again() -> None:
        variant = window.session.project.variants[0]
        window.variants_pane.select(0)
        window.prompt_pane.system.setPlainText(variant.system.replace(
            "Keep it under 120 words.", "Keep it under 80 words, in two short paragraphs."))
        window.prompt_pane.flush()
        window.commands.run_action.trigger()

    def versions() -> None:
        dialog = window.history.show_prompt_history()
        dialog.resize(1200, 760)

        def name() -> None:  # v1, named as a user would
            dialog.name_requested.emit(dialog.model.rows[2]["id"], "before the 80-word rule")
            QTimer.singleShot(300, lambda: dialog.select_rows([1, 2]))
        QTimer.singleShot(400, name)

    def runs() -> None:
        dialog = window.history.show_runs()
        dialog.resize(1100, 420)

    def judge() -> None:
        """Close the dialogs, then rate, tag and judge blind a few outputs, as a user would."""
        for widget in QApplication.topLevelWidgets():
            if widget is not window and widget.isVisible():
                widget.close()
        grid = window.results_pane.model
        for row in range(14):
            for column in (0, 1):
                if (row + column) % 2 and row >= 4:
                    continue
                window.results_pane.select_cell(row, column)
                cell = grid.cell(row, column)
                good = all(cell.checks.values())
                window.judging.rate(score=rng.choice((4, 5)) if good else rng.choice((1, 2)))
                if not good:
                    window.judging.rate(tags=[rng.choice(("too long", "robotic tone",
                                                          "made up facts"))])
        pairs = [(grid.cell(r, 0).logged_id, grid.cell(r, 1).logged_id) for r in range(12)]
        window.session.store.submit(lambda store: [store.record_pairwise(PairwiseJudgement(
            a, b, rng.choice(("left", "left", "right", "tie")))) for a, b in pairs])

    def analysis_beside_results() -> None:
        window.resize(1600, 1000)
        window.analysis_dock.show()  # the toolbar's Analysis button
        window.resizeDocks([window.analysis_dock], [560], Qt.Orientation.Horizontal)
        window.analysis_pane.tabs.setCurrentIndex(tab_index("Quality"))
        window.results_pane.select_cell(2, 1)

    def analysis(tab: str):
        def show() -> None:
            dock = window.analysis_dock
            if not dock.isFloating():  # larger than its place beside the grid, to be read
                dock.setFloating(True)
                dock.resize(980, 860)
                dock.move(60, 40)
            window.analysis_pane.tabs.setCurrentIndex(tab_index(tab))
        return show

    # (name or None for "no screenshot", action, delay before the screenshot in ms)
    steps = [
        ("main-window", lambda: None, 1200),
        ("providers", providers, 800),
        (None, lambda: [d.close() for d in dialogs], 200),
        (None, run, 6000),
        ("results", select_cell, 800),
        ("history", history, 800),
        ("pairwise", pairwise, 1200),
        (None, lambda: window.judging.pairwise_dialog.close(), 200),
        ("export", lambda: window.judging.show_export(), 1500),
        (None, lambda: window.judging.export_dialog.close(), 200),
        ("checks", checks, 1000),
        (None, edit_and_run_again, 4500),
        ("versions", versions, 1200),
        (None, lambda: window.history.versions_dialog.close(), 200),
        ("runs", runs, 1200),
        (None, judge, 1000),
        ("analysis-window", analysis_beside_results, 3000),
        ("analysis", analysis("Decision"), 1500),
        ("analysis-charts", analysis("Quality"), 1200),
        ("analysis-consistency", analysis("Consistency"), 1200),
    ]

    play(app, window, steps, OUT)
    window.session.store.close()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
