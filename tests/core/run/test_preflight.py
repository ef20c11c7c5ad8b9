"""Pre-flight honesty: retiring models, unknown prices said plainly with where to add them, a
budget that cannot be kept refused before anything is sent, and long prompts priced per call."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from lab.core.providers.pricing import (
    LongContext,
    ModelPrice,
    PriceTable,
    save_user_price,
)
from lab.core.run.plan import PlanError
from lab.core.run.preflight import estimate
from lab.core.run.runner import Runner
from lab.core.run.setup import RunOptions
from lab.core.workspace.location import user_prices_path
from tests.core.run.test_plan import EXPERIMENT, plan_of
from tests.helpers.experiments import experiment_text, prepare

TODAY = dt.date(2026, 12, 1)


def two_models(a: str, b: str, judge: str | None = None) -> str:
    text = EXPERIMENT.replace('model = "local/gpt-4o-mini"', f'model = "local/{a}"', 1)
    text = text.replace('model = "local/gpt-4o-mini"', f'model = "local/{b}"', 1)
    if judge:
        text += f'\n[[checks]]\ntype = "judge"\nname = "polite"\nrubric = "polite?"\nmodel = "local/{judge}"\n'
    return text


def test_retired_and_retiring_models_are_named_with_variant_and_date():
    priced = {name: ModelPrice(input=1.0, output=2.0, retires=day) for name, day in [
        ("gpt-soon", dt.date(2026, 12, 31)), ("gpt-later", dt.date(2027, 1, 1)),
        ("gpt-judge", dt.date(2026, 11, 30))]}
    gone = {"gpt-gone": None, "gpt-dated": dt.date(2026, 10, 23)}  # no price any more
    prices = PriceTable({"openai": priced}, retired={"openai": gone})
    plan = plan_of(two_models("gpt-soon", "gpt-dated-2025-04-14", judge="gpt-judge"))
    warnings = estimate(plan, prices, plan.calls, today=TODAY).warnings
    assert warnings == [
        ("variant 'A' uses local/gpt-soon, which the provider retires on 2026-12-31 (in 30 days). "
         "Plan a move to a current model."),
        ("variant 'B' uses local/gpt-dated-2025-04-14, which the provider retired on 2026-10-23: "
         "calls to it will fail. Choose a current model."),
        ("judge check 'polite' uses local/gpt-judge, which the provider retired on 2026-11-30: "
         "calls to it will fail. Choose a current model."),
    ]
    # 31 days away is not "soon"; a retirement without a date is still a retirement.
    plan = plan_of(two_models("gpt-later", "gpt-gone"))
    assert estimate(plan, prices, plan.calls, today=TODAY).warnings == [
        ("variant 'B' uses local/gpt-gone, which the provider has retired: calls to it will fail. "
         "Choose a current model.")]
    # A local server's models are its own files: no provider retires them.
    local = plan_of(two_models("gpt-soon", "gpt-gone").replace("local = false", "local = true"))
    assert estimate(local, prices, local.calls, today=TODAY).warnings == []


def test_shipped_retirements_reach_the_preflight():
    plan = plan_of(two_models("gpt-5", "gpt-4.1-nano"))
    warnings = estimate(plan, PriceTable.load(), plan.calls, today=TODAY).warnings
    assert [w.split(",")[0] for w in warnings] == ["variant 'A' uses local/gpt-5",
                                                    "variant 'B' uses local/gpt-4.1-nano"]
    assert "retires on 2026-12-11 (in 10 days)" in warnings[0]
    assert "retired on 2026-10-23" in warnings[1]


def test_unknown_price_says_where_to_add_it(tmp_path: Path):
    user = tmp_path / "prices.toml"
    plan = plan_of(two_models("gpt-4o-mini", "my-tuned-thing"))
    result = estimate(plan, PriceTable.load(user), plan.calls, today=TODAY)
    assert result.unpriced == ["local/my-tuned-thing"]
    assert result.unknown_cost == [
        (f"cost unknown for local/my-tuned-thing — add its price to {user} "
         '([openai."my-tuned-thing"] with input and output, USD per 1M tokens)')]
    assert result.to_dict()["unknown_cost"] == result.unknown_cost
    # Without a user file named, the message points at the user's data directory.
    assert str(user_prices_path()) in estimate(plan, PriceTable({}), plan.calls).unknown_cost[0]
    # Adding the price where the message says makes the cost known.
    save_user_price(user, "openai", "my-tuned-thing", ModelPrice(input=1.0, output=1.0))
    assert estimate(plan, PriceTable.load(user), plan.calls).unpriced == []


def test_each_call_is_priced_on_its_own_so_a_sum_never_crosses_a_long_context_threshold():
    plan = plan_of()
    tokens = plan.calls[0].input_tokens
    tiered = PriceTable({"openai": {"gpt-4o-mini": ModelPrice(
        input=1.0, output=2.0, long_context=LongContext(above=tokens + 1, input=100.0, output=100.0))}})
    line = estimate(plan, tiered, plan.calls).lines[0]
    assert line.calls == 6 and line.input_tokens > tokens + 1  # the line's sum is above it ...
    assert line.cost_usd == pytest.approx((line.input_tokens * 1.0 + line.output_tokens * 2.0) / 1e6)


# ----- the budget -------------------------------------------------------------------------------


def test_a_budget_with_an_unpriced_call_is_refused_before_anything_is_sent(server, tmp_path):
    db = tmp_path / "workspace.db"
    text = experiment_text(server).replace('model = "fake/gpt-4o-mini"', 'model = "fake/my-model"', 1)
    with pytest.raises(PlanError) as refused:
        prepare(text, db, RunOptions(budget_usd=1.0))
    (problem,) = refused.value.problems
    assert problem.startswith("a budget of $1 cannot be kept: cost unknown for fake/my-model — add "
                              f"its price to {user_prices_path()}")
    assert server.chat_requests() == []
    # Without a budget it runs, its cost shown as unknown; a priced run with a budget is fine.
    assert prepare(text, db).estimate.unpriced == ["fake/my-model"]
    assert prepare(experiment_text(server), db, RunOptions(budget_usd=1.0)).estimate.unpriced == []


def test_the_runner_refuses_such_a_run_too(server, tmp_path):
    db = tmp_path / "workspace.db"
    text = experiment_text(server).replace('model = "fake/gpt-4o-mini"', 'model = "fake/my-model"', 1)
    prepared = prepare(text, db)
    prepared.options.budget_usd = 0.5  # a caller that sets the budget after preparing
    with pytest.raises(PlanError, match="cannot be kept: cost unknown for fake/my-model"):
        Runner(db, prepared)
    assert server.chat_requests() == []
