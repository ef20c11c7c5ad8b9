"""The decision on crafted workspaces, built with the real store: each of the four
recommendations, with the numbers and links behind every reason."""

from __future__ import annotations

import re

import pytest

from lab.core.analysis.analyse import AnalysisOptions, analyse
from lab.core.analysis.failure_modes import classify
from lab.core.analysis.scope import Scope
from lab.core.providers.pricing import PriceTable
from lab.core.workspace.store import open_workspace
from tests.helpers.analysis_workspace import Output, build, variant_table

EXHAUSTED = [  # every core technique tried, three variants
    variant_table("shots", examples=2),
    variant_table("cot", system="Think through the problem step by step, then answer."),
    variant_table("json", system="Reply with a JSON object.", json_format=True),
]


def _decide(path, **options):
    with open_workspace(path) as store:
        return analyse(store, Scope(), AnalysisOptions(**options))


def _check_reasons(decision):
    assert decision.reasons
    for reason in decision.reasons:
        assert re.search(r"\d", reason.text), reason.text  # never a reason without its numbers
        assert reason.link is not None
        # a link names outputs, unless the figure is that there are none (0 good examples)
        assert reason.link.call_ids or reason.link.selection or reason.figures.get(
            "good_examples") == 0, reason


def _plateau(tag: str, rated: int, cases: int = 20):
    """Every variant passes 7 cases in 10 (the same ones: no variant is ahead); failures carry
    ``tag``; the first ``rated`` passing outputs (variant by variant) are rated 5."""
    count = {"n": 0}

    def output(variant: str, case: int, sample: int) -> Output:
        passed = case % 10 < 7
        rating = None
        if passed and count["n"] < rated:
            count["n"] += 1
            rating = 5
        return Output(f"{variant} answers question {case}.", passed, rating=rating,
                      tags=() if passed else (tag,))
    return output


def test_keep_prompting_when_techniques_are_untried(tmp_path):
    plain = [variant_table("A"), variant_table("B", system="You are brief.")]
    build(tmp_path / "w.db", plain, 24, 1, lambda v, c, s: Output(f"{v} {c}", c % 3 != 0))
    analysis = _decide(tmp_path / "w.db")
    d = analysis.decision
    assert d.recommendation == "keep_prompting"
    assert "untried techniques" in d.headline and "fewer than 3 variants" in d.headline
    assert "0 of the 3 core prompting techniques tried" in d.reasons[0].text
    _check_reasons(d)


def test_keep_prompting_while_the_best_variant_is_still_significantly_ahead(tmp_path):
    def output(variant: str, case: int, sample: int) -> Output:
        passed = variant == "cot" or case < 5
        return Output(f"{variant} {case}", passed, tags=() if passed else ("too long",))

    build(tmp_path / "w.db", EXHAUSTED, 20, 1, output)
    d = _decide(tmp_path / "w.db").decision
    assert d.recommendation == "keep_prompting"
    assert d.headline == "Keep prompting: the best variant is still significantly ahead."
    assert d.evidence.best.name == "cot" and d.evidence.best_vs_runner_up.significant
    _check_reasons(d)


def test_add_retrieval_when_knowledge_failures_dominate(tmp_path):
    build(tmp_path / "w.db", EXHAUSTED, 20, 1, _plateau("Hallucinated policy", rated=60))
    d = _decide(tmp_path / "w.db").decision
    assert d.recommendation == "add_retrieval"
    # each failing output failed the "ok" check (behaviour) and was tagged (knowledge)
    assert d.headline.startswith("Add retrieval: 50% of")
    failures = d.evidence.failures
    assert [m.kind for m in failures.modes if m.source == "tag"] == ["knowledge"]
    _check_reasons(d)


def test_collect_examples_says_how_many_more(tmp_path):
    build(tmp_path / "w.db", EXHAUSTED, 20, 1, _plateau("too long", rated=12))
    d = _decide(tmp_path / "w.db").decision
    assert d.recommendation == "collect_examples"
    assert d.more_examples_needed == 38  # 12 good examples, 50 for a first useful tune
    assert "rate about 38 more good outputs" in d.headline
    assert d.evidence.data.examples == 12
    assert not d.evidence.best_vs_runner_up.significant
    _check_reasons(d)


def test_fine_tune_when_prompting_plateaued_on_behaviour_and_data_is_there(tmp_path):
    build(tmp_path / "w.db", EXHAUSTED, 30, 1, _plateau("wrong tone", rated=63, cases=30))
    prices = tmp_path / "prices.toml"
    prices.write_text('[openai."gpt-4o-mini"]\ninput = 0.15\noutput = 0.60\n'
                      '[openai."gpt-4o-mini".fine_tuning]\ntraining = 3.0\ninput = 0.30\n'
                      'output = 1.20\n')
    d = _decide(tmp_path / "w.db", prices=PriceTable.load(default_path=prices),
                price_paths=(prices,), calls_per_month=1000).decision
    assert d.recommendation == "fine_tune"
    assert d.evidence.data.examples == 63 and d.more_examples_needed is None
    assert "prompting has plateaued" in d.headline
    money = d.evidence.economics
    assert money.tuning is not None and money.training_cost is not None
    assert money.input_price == 0.15 and money.repeated_tokens > 0
    _check_reasons(d)


def test_duplicates_do_not_count_as_more_examples(tmp_path):
    # three samples of each case, all the same text and all rated 5: one example per case
    build(tmp_path / "w.db", [variant_table("A")], 8, 3,
          lambda v, c, s: Output(f"answer {c}" + " " * s, True, rating=5))
    analysis = _decide(tmp_path / "w.db")
    data = analysis.decision.evidence.data
    assert (data.selected, data.examples, data.duplicates) == (24, 8, 16)


def test_unknown_prices_are_said_not_assumed_free(tmp_path):
    build(tmp_path / "w.db", [variant_table("A")], 4, 1, lambda v, c, s: Output(f"a {c}"))
    money = _decide(tmp_path / "w.db").decision.evidence.economics
    assert money.repeated_cost_per_month is None and money.training_cost is None
    assert money.pays is None
    assert any("price of openai/gpt-4o-mini" in u for u in money.unknown)


@pytest.mark.parametrize("name, kind", [
    ("hallucination", "knowledge"), ("Made up facts", "knowledge"), ("OUTDATED", "knowledge"),
    ("not-in-source", "knowledge"), ("missing info", "knowledge"), ("too long", "behaviour"),
    ("format", "behaviour"), ("tone", "behaviour"), ("unmade", "behaviour"),
])
def test_failure_vocabulary(name, kind):
    assert classify(name) == kind


def test_vocabulary_can_be_replaced():
    assert classify("stale price", ("stale",)) == "knowledge"
    assert classify("hallucination", ("stale",)) == "behaviour"
