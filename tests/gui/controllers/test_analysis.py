"""The Analysis view in the window, against the fake provider server: it follows a run as it
streams (at most once a second, off the GUI thread), holds the numbers the core computes,
a click on a bar selects its outputs in the Results grid (Ctrl+click: History), a rating updates
it, the decision panel shows the recommendation with its reasons, and a heat-map cell opens its
samples side by side."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt

from lab.core.analysis.analyse import AnalysisOptions, analyse
from lab.core.analysis.scope import Scope
from lab.gui.panes.analysis import tab_index
from tests.gui.sample_runs import point_sample_at
from tests.helpers.fake_provider import reply

approx = pytest.approx
REFUSAL = "Sorry, as an AI language model I cannot help with orders."


def _run(window, qtbot, samples: int) -> list:
    shown = []
    window.analysis.computed.connect(shown.append)
    window.analysis_dock.show()  # opened from the toolbar; computed only while in sight
    window.run_bar.samples.setValue(samples)
    window.commands.run_action.trigger()
    qtbot.waitUntil(lambda: window.run_status.progress_label.text().startswith("Run finished"),
                    timeout=30000)
    calls = 20 * 2 * samples
    qtbot.waitUntil(lambda: bool(shown) and shown[-1].calls == calls and not window.analysis._busy,
                    timeout=10000)
    return shown


def test_the_view_follows_a_run_and_clicks_select_outputs(make_window, qtbot, fake_server,
                                                          lab_home):
    point_sample_at(fake_server, lab_home)
    fake_server.latency = 0.05  # a run of a few seconds: the view updates while it streams
    fake_server.script(*[reply(REFUSAL)] * 3, model="gpt-4o")  # three of B's outputs fail
    window = make_window()
    started = time.monotonic()
    shown = _run(window, qtbot, samples=2)
    elapsed = time.monotonic() - started
    controller, pane = window.analysis, window.analysis_pane
    assert any(a.calls < 80 for a in shown), "no update while the run streamed"
    assert controller.computations <= elapsed / 1.0 + 3  # throttled: about once a second

    # The charts hold the core's numbers for the run in the grid.
    run_id = window.session.last_run_id
    expected = window.session.store.submit(
        lambda store: analyse(store, Scope(run_id=run_id), AnalysisOptions())).result()
    latest = shown[-1]
    assert latest.to_dict()["variants"] == expected.to_dict()["variants"]
    pane.tabs.setCurrentIndex(tab_index("Quality"))
    a, b = expected.variants
    qtbot.waitUntil(lambda: bool(pane.pass_chart.bar_sets()), timeout=5000)
    assert pane.pass_chart.values("pass rate") == approx([a.pass_rate.value * 100,
                                                         b.pass_rate.value * 100])
    assert b.pass_rate.value < 1 == a.pass_rate.value

    # Clicking B's bar selects B's outputs: its whole column in the Results grid.
    chart = pane.pass_chart
    qtbot.waitUntil(lambda: chart.isVisible() and chart.width() > 200, timeout=5000)
    selected = []
    controller.shown.connect(selected.append)
    qtbot.mouseClick(chart.viewport(), Qt.MouseButton.LeftButton,
                     pos=chart.bar_position("pass rate", 1))
    qtbot.waitUntil(lambda: bool(selected), timeout=5000)
    assert selected[-1] == (run_id, [(row, 1) for row in range(20)])
    assert window.results_pane.selected_sources() == [(row, 1) for row in range(20)]

    # A failure mode's bar selects exactly the cells whose outputs failed.
    pane.tabs.setCurrentIndex(tab_index("Failures"))
    qtbot.waitUntil(lambda: bool(pane.failures_chart.bar_sets()), timeout=5000)
    failed = next(m for f in expected.failure_modes for m in f.modes
                  if m.name == "no AI disclaimers")
    assert failed.count == 3
    index = next(i for i, c in enumerate(pane.failures_chart.categories)
                 if "no AI disclaimers" in c)
    pane.failures_chart.click_bar(b.name, index)
    qtbot.waitUntil(lambda: len(selected) == 2, timeout=5000)
    grid = window.results_pane.model
    cells = window.session.store.submit(lambda store: store.call_places(
        failed.link.call_ids)).result()
    assert selected[-1][1] == sorted({(case, grid.column_of(v)) for _i, _r, v, case in cells})

    # Ctrl+click (here: asked for) shows exactly those outputs in History.
    controller.show_link(failed.link, in_history=True)
    qtbot.waitUntil(lambda: window.history_pane.model.rowCount() == 3, timeout=5000)
    assert {window.history_pane.model.row_data(r)["id"] for r in range(3)} == \
        set(failed.link.call_ids)


def test_ratings_update_the_view_and_the_decision_panel(make_window, qtbot, fake_server,
                                                        lab_home):
    point_sample_at(fake_server, lab_home)
    window = make_window()
    shown = _run(window, qtbot, samples=2)
    pane, controller = window.analysis_pane, window.analysis
    assert all(v.human_score is None for v in shown[-1].variants)

    # The decision panel: the five questions, the one recommendation and its reasons.
    pane.tabs.setCurrentIndex(tab_index("Decision"))
    decision = shown[-1].decision
    title = decision.headline.partition(":")[0]  # "Keep prompting", then why
    qtbot.waitUntil(lambda: title in pane.decision.browser.toPlainText(), timeout=5000)
    text = pane.decision.browser.toPlainText()
    assert "Is there enough data?" in text
    assert all(r.text in text for r in decision.reasons)
    selected = []
    controller.shown.connect(selected.append)
    links = [link for _t, link in pane.decision.anchors()]
    pane.decision.activate(links.index(decision.reasons[0].link))
    qtbot.waitUntil(lambda: bool(selected), timeout=5000)
    assert selected[-1][1]  # the reason's outputs are selected in the grid

    # A rating from the grid reaches the analysis within about a second.
    window.results_pane.select_cell(0, 0)
    window.judging.rate(score=5)
    window.results_pane.select_cell(1, 0)
    window.judging.rate(score=2)
    qtbot.waitUntil(lambda: shown[-1].variants[0].human_score is not None
                    and shown[-1].variants[0].human_score.n == 2, timeout=10000)
    assert shown[-1].variants[0].human_score.mean == approx(3.5)
    pane.tabs.setCurrentIndex(tab_index("Quality"))  # drawn chart by chart
    qtbot.waitUntil(lambda: bool(pane.scores_chart.bar_sets()) and
                    pane.scores_chart.values("people")[0] == approx(3.5), timeout=5000)

    # The calls a month feed the economics of the decision.
    pane.decision.calls_per_month.setValue(5000)
    pane.decision.calls_per_month.editingFinished.emit()
    qtbot.waitUntil(lambda: shown[-1].decision.evidence.economics.calls_per_month == 5000,
                    timeout=10000)

    # A heat-map cell opens its samples side by side.
    pane.tabs.setCurrentIndex(tab_index("Consistency"))
    model = pane.heat_model
    qtbot.waitUntil(lambda: model.rowCount() == 20, timeout=5000)
    assert (model.rowCount(), model.columnCount()) == (20, 2)
    pane.heat_map.clicked.emit(model.index(2, 1))
    qtbot.waitUntil(lambda: controller.samples_dialog is not None
                    and controller.samples_dialog.isVisible(), timeout=5000)
    assert len(controller.samples_dialog.views) == 2
    controller.samples_dialog.close()


def test_blind_judgements_made_elsewhere_reach_the_view(make_window, qtbot, fake_server,
                                                        lab_home, monkeypatch):
    from lab.core.model import PairwiseJudgement
    from lab.gui.controllers import analysis as controller_module

    monkeypatch.setattr(controller_module, "WATCH_MS", 200)
    point_sample_at(fake_server, lab_home)
    window = make_window()
    shown = _run(window, qtbot, samples=1)
    assert all(c.blind is None for c in shown[-1].comparisons)
    grid = window.results_pane.model
    pairs = [(grid.cell(r, 0).logged_id, grid.cell(r, 1).logged_id) for r in range(6)]
    # judged in the blind dialog (or by a script): no signal reaches the view, the watch does
    window.session.store.submit(lambda store: [store.record_pairwise(
        PairwiseJudgement(a, b, "right")) for a, b in pairs]).result()
    qtbot.waitUntil(lambda: shown[-1].comparisons[0].blind is not None, timeout=10000)
    blind = shown[-1].comparisons[0].blind.summary
    assert (blind.wins, blind.losses, blind.ties) == (6, 0, 0)
    pane = window.analysis_pane
    pane.tabs.setCurrentIndex(tab_index("A/B"))
    qtbot.waitUntil(lambda: bool(pane.blind_chart.bar_sets()), timeout=5000)
    assert pane.blind_chart.values("won") == [6.0]
