"""The Analysis view draws the core's numbers: each chart read back bar by bar against the
`Analysis` it was given, the heat map's cells, the A/B verdicts, the judge tab and the decision
panel with its links."""

from __future__ import annotations

import pytest

from lab.core.analysis.analyse import analyse
from lab.core.analysis.scope import Scope
from lab.core.workspace.store import open_workspace
from lab.gui.panes.analysis import AnalysisPane, tab_index
from tests.helpers.analysis_workspace import Output, build, variant_table

approx = pytest.approx


def _output(variant: str, case: int, sample: int) -> Output:
    passed = not (variant == "A" and case % 3 == 0 and sample == 1)
    text = "yes" if passed else f"no {sample}"
    return Output(text, passed, judge=5.0 if passed else 2.0,
                  rating=(5 if passed else 1) if sample < 2 else None,
                  tags=() if passed else ("made up facts",))


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    path = tmp_path_factory.mktemp("analysis") / "w.db"
    crafted = build(path, [variant_table("A"), variant_table("B", examples=2)], 6, 3, _output,
                    judge=True)
    with open_workspace(path) as store:
        return analyse(store, Scope(run_id=crafted.run_id))


@pytest.fixture
def pane(qtbot, analysis):
    pane = AnalysisPane()
    qtbot.addWidget(pane)
    pane.resize(560, 800)
    pane.show()
    pane.show_analysis(analysis)
    pane.draw_all()
    return pane


def test_charts_hold_the_core_numbers(pane, analysis):
    a, b = analysis.variant("A"), analysis.variant("B")
    assert pane.pass_chart.categories == ["A", "B"]
    assert pane.pass_chart.values("pass rate") == approx([a.pass_rate.value * 100,
                                                         b.pass_rate.value * 100])
    assert pane.scores_chart.values("LLM judge") == approx([a.judge_score.mean,
                                                           b.judge_score.mean])
    assert pane.scores_chart.values("people") == approx([a.human_score.mean, b.human_score.mean])
    assert pane.approval_chart.values("rated good") == approx([a.approval.value * 100,
                                                              b.approval.value * 100])
    # the whiskers: one line series per bar from the interval's low to its high
    whiskers = [s for s in pane.pass_chart.chart().series() if s.__class__.__name__ ==
                "QLineSeries"]
    spans = sorted(x for s in whiskers for x in (min(p.x() for p in s.points()),
                                                 max(p.x() for p in s.points())))
    assert spans == approx(sorted(x for v in (a, b) for x in (v.pass_rate.low * 100,
                                                              v.pass_rate.high * 100)))
    assert pane.latency_chart.box_values()[0] == approx([a.latency_ms[p] for p in
                                                         (5, 25, 50, 75, 95)])
    assert pane.tokens_chart.values("tokens per output") == approx([a.tokens / a.calls,
                                                                    b.tokens / b.calls])
    consistency = {c.variant: c for c in analysis.consistency.variants}
    assert pane.agreement_chart.values("exact text") == approx(
        [consistency[n].exact.mean * 100 for n in ("A", "B")])
    failures = {f.variant: f for f in analysis.failure_modes}
    counts = {m.name: m.count for m in failures["A"].modes}
    chart = pane.failures_chart
    assert [counts[label.split(": ")[1].split(" · ")[0]] for label in chart.categories] == \
        chart.values("A")


def test_bars_link_to_their_outputs(pane, analysis, qtbot):
    a = analysis.variant("A")
    assert pane.pass_chart.link_of("pass rate", 0) == a.link
    with qtbot.waitSignal(pane.link_activated) as clicked:
        pane.pass_chart.click_bar("pass rate", 0)
    assert clicked.args == [a.link]
    tags = next(m for m in analysis.failure_modes[0].modes if m.source == "tag")
    index = next(i for i, c in enumerate(pane.failures_chart.categories) if tags.name in c)
    with qtbot.waitSignal(pane.link_activated) as clicked:
        pane.failures_chart.click_bar("A", index)
    assert clicked.args[0].call_ids == tags.link.call_ids


def test_heat_map_cells_and_samples(pane, analysis, qtbot):
    model = pane.heat_model
    assert (model.rowCount(), model.columnCount()) == (6, 2)
    cell = next(c for c in analysis.consistency.cells if (c.variant, c.case) == ("A", 0))
    assert model.value(0, 0) == approx(cell.normalised) and cell.normalised < 1
    assert model.value(1, 0) == 1.0
    pane.heat_measure.setCurrentIndex(2)  # check outcomes
    assert model.value(0, 0) == approx(cell.checks)
    with qtbot.waitSignal(pane.samples_requested) as asked:
        pane.heat_map.clicked.emit(model.index(0, 0))
    assert asked.args == [cell]


def test_verdicts_judge_and_decision(pane, analysis, qtbot):
    comparison = analysis.comparisons[0]
    assert comparison.pass_rate.verdict in pane.verdicts_text.text()
    assert pane.verdict_model.rowCount() >= 2
    assert pane.verdict_model.row_text(0)[:2] == ["A → B", "pass rate"]
    judge = pane.judge_text.toPlainText()
    kappa = analysis.judge_agreement[0].pass_fail
    assert f"κ = {kappa.value:.2f}" in judge and f"n = {kappa.n}" in judge
    assert "fewer than 30" in judge or "⚠" in judge  # too few ratings: the warning shows
    decision = pane.decision.browser.toPlainText()
    title, _, rest = analysis.decision.headline.partition(": ")
    assert title in decision and rest[:1].upper() + rest[1:] in decision
    assert all(r.text in decision for r in analysis.decision.reasons)
    assert "The five questions" in decision and "Would a fine-tune pay?" in decision
    # every reason is a link to its outputs
    links = [link for _text, link in pane.decision.anchors()]
    assert all(r.link in links for r in analysis.decision.reasons)
    reason = analysis.decision.reasons[0]
    with qtbot.waitSignal(pane.link_activated) as clicked:
        pane.decision.activate(links.index(reason.link))
    assert clicked.args == [reason.link]
    assert pane.tabs.tabText(tab_index("Decision")) == "Decision"
