"""The run plan: the matrix, cache keys, problems found before any call, the pre-flight estimate."""

from __future__ import annotations

import pytest
from lab.core.experiment.file import loads
from lab.core.experiment.template import build_messages, estimate_messages_tokens
from lab.core.model import Usage
from lab.core.providers import ProviderConfig
from lab.core.providers.pricing import ModelPrice, PriceTable
from lab.core.run.plan import PlanError, build_plan, provider_configs
from lab.core.run.preflight import ASSUMED_OUTPUT_TOKENS, JUDGE_REPLY_TOKENS, estimate
from lab.core.workspace.providers import built_in_providers

EXPERIMENT = '''
name = "tone"
samples = 2

[providers.local]
kind = "openai"
base_url = "http://127.0.0.1:9/v1"
local = false

[[variants]]
name = "A"
model = "local/gpt-4o-mini"
system = "You are terse."
max_tokens = 50

[[variants]]
name = "B"
model = "local/gpt-4o-mini"
system = "You are warm and brief, {{customer}}."
response_format = "json"

[cases]
user = "{{question}}"
rows = [
  { question = "Where is my order?", customer = "Ana" },
  { question = "Refund?", customer = "Bo" },
  { question = "Broken box", customer = "Cy" },
]

[[checks]]
type = "contains"
value = "order"
'''
PRICES = PriceTable({"openai": {"gpt-4o-mini": ModelPrice(input=1.0, output=2.0)}})


def plan_of(text: str = EXPERIMENT, samples: int | None = None):
    spec = loads(text, "tone.toml")
    return build_plan(spec, provider_configs(spec, built_in_providers()), samples)


def problems_of(text: str) -> list[str]:
    with pytest.raises(PlanError) as info:
        plan_of(text)
    return info.value.problems


def test_the_matrix_is_variants_times_cases_times_samples_interleaved():
    plan = plan_of()
    assert len(plan.calls) == 2 * 3 * 2
    assert len({c.cell for c in plan.calls}) == 12
    # Sample-major, then case, then variant: a run stopped half-way is still balanced.
    assert [c.cell.key for c in plan.calls[:4]] == [("A", 0, 0), ("B", 0, 0), ("A", 1, 0), ("B", 1, 0)]
    assert plan.calls[6].cell.key == ("A", 0, 1)
    assert plan.calls[1].body["messages"][0] == {
        "role": "system", "content": "You are warm and brief, Ana."}
    assert plan.calls[1].body["response_format"] == {"type": "json_object"}
    assert plan.calls[0].body["max_tokens"] == 50 and "response_format" not in plan.calls[0].body
    assert list(plan.providers) == ["local"]


def test_cache_keys_tell_samples_and_requests_apart():
    plan = plan_of()
    keys = [c.cache_key for c in plan.calls]
    assert len(set(keys)) == len(keys)  # sample 2 of a cell never shares sample 1's answer
    assert plan_of().calls[0].cache_key == keys[0]  # but the same cell again finds it
    other_server = plan_of(EXPERIMENT.replace("127.0.0.1:9", "127.0.0.1:10"))
    assert other_server.calls[0].cache_key != keys[0]
    warmer = plan_of(EXPERIMENT.replace('system = "You are terse."', 'system = "You are kind."'))
    assert warmer.calls[0].cache_key != keys[0] and warmer.calls[1].cache_key == keys[1]


def test_samples_option_overrides_the_file():
    assert len(plan_of(samples=5).calls) == 2 * 3 * 5


def test_missing_variable_names_file_line_field_and_row():
    text = EXPERIMENT.replace('{ question = "Refund?", customer = "Bo" }', '{ question = "Refund?" }')
    (problem,) = problems_of(text)
    assert problem.startswith("tone.toml, line 19: Variant 'B', system prompt: {{customer}} has "
                              "no value in test case 2.")


def test_unknown_provider_is_named_with_its_line_and_a_suggestion():
    (problem,) = problems_of(EXPERIMENT.replace('model = "local/gpt-4o-mini"\nsystem = "You are t',
                                                'model = "locl/gpt-4o-mini"\nsystem = "You are t'))
    assert problem.startswith("tone.toml, line 12: variants[1].model: no provider named 'locl'")
    assert "Did you mean 'local'?" in problem


def test_every_problem_is_reported_at_once():
    text = EXPERIMENT.replace('value = "order"', 'value = "order"\nignore_case = "yes"').replace(
        "local/gpt-4o-mini", "nowhere/gpt-4o-mini")
    problems = problems_of(text)
    assert len(problems) == 3
    assert problems[2] == ("tone.toml, line 30: Check 'contains': 'ignore_case' must be "
                           "true/false, not 'yes'.")
    assert str(PlanError(problems)).endswith("(and 2 more problems)")


def test_a_judge_naming_an_unknown_provider_is_a_problem():
    text = EXPERIMENT + '\n[[checks]]\ntype = "judge"\nrubric = "polite?"\nmodel = "nope/x"\n'
    (problem,) = problems_of(text)
    assert "checks[2].model: no provider named 'nope'" in problem


def test_bad_inline_provider_is_named():
    text = EXPERIMENT.replace('local = false', 'local = false\nconcurrency = 0')
    spec = loads(text, "tone.toml")
    with pytest.raises(PlanError) as info:
        provider_configs(spec, [])
    assert str(info.value).startswith("tone.toml, line 5: providers.local: ")
    assert "concurrency must be at least 1" in str(info.value)


def test_a_base_url_that_is_not_http_is_refused_with_its_line():
    text = EXPERIMENT.replace('base_url = "http://127.0.0.1:9/v1"', 'base_url = "htp:/nonsense"')
    spec = loads(text, "tone.toml")
    with pytest.raises(PlanError) as info:
        provider_configs(spec, [])
    assert str(info.value) == (
        "tone.toml, line 7: providers.local.base_url: provider 'local': base_url must be an "
        "http:// or https:// address such as https://api.openai.com/v1, not 'htp:/nonsense'"
    )


@pytest.mark.parametrize("shorthand", [True, False])
def test_a_parameter_outside_the_familys_range_is_named_with_its_line(shorthand):
    written = "temperature = 7" if shorthand else "params = { temperature = 7 }"
    text = EXPERIMENT.replace("max_tokens = 50", f"max_tokens = 50\n{written}")
    (problem,) = problems_of(text)
    field = "variants[1].temperature" if shorthand else "variants[1].params.temperature"
    assert problem == (f"tone.toml, line 15: {field}: variant 'A': temperature must be between 0 "
                       "and 2 for the OpenAI API (its documented range), not 7.")


def test_ranges_follow_the_family_of_the_variants_provider():
    anthropic = EXPERIMENT.replace('kind = "openai"', 'kind = "anthropic"').replace(
        "max_tokens = 50", "max_tokens = 50\ntemperature = 1.5\ntop_p = 0.5")
    (problem,) = problems_of(anthropic)
    assert "temperature must be between 0 and 1 for the Anthropic API" in problem
    openai = EXPERIMENT.replace("max_tokens = 50", "max_tokens = 50\ntemperature = 1.5")
    assert plan_of(openai).calls  # 1.5 is inside OpenAI's 0-2


def test_preflight_numbers_for_a_known_matrix():
    plan = plan_of()
    result = estimate(plan, PRICES, plan.calls)
    spec = plan.spec
    a, b = spec.project.variants
    tokens = {v.name: sum(estimate_messages_tokens(build_messages(v, "{{question}}", case))
                          for case in spec.project.cases) * 2 for v in (a, b)}
    line_a, line_b = result.lines
    assert (line_a.label, line_a.calls, line_a.input_tokens, line_a.output_tokens) == (
        "A", 6, tokens["A"], 6 * 50)
    assert not line_a.output_assumed
    # B sets no max_tokens: the estimate assumes a budget, and says so.
    assert (line_b.calls, line_b.output_tokens, line_b.output_assumed) == (
        6, 6 * ASSUMED_OUTPUT_TOKENS, True)
    assert line_a.cost_usd == pytest.approx((tokens["A"] * 1.0 + 300 * 2.0) / 1e6)
    assert result.calls == 12 and result.cells == 12
    assert result.cost_usd == pytest.approx(line_a.cost_usd + line_b.cost_usd)
    assert result.unpriced == []


def test_unknown_price_is_unknown_not_free_and_local_is_free():
    plan = plan_of()
    unpriced = estimate(plan, PriceTable({}), plan.calls)
    assert unpriced.lines[0].cost_usd is None and unpriced.unpriced == ["local/gpt-4o-mini"]
    local = plan_of(EXPERIMENT.replace("local = false", "local = true"))
    assert estimate(local, PriceTable({}), local.calls).cost_usd == 0.0


def test_judge_calls_are_estimated_one_per_output():
    text = EXPERIMENT + '\n[[checks]]\ntype = "judge"\nname = "polite"\nrubric = "polite?"\n'
    plan = plan_of(text)
    result = estimate(plan, PRICES, plan.calls[:4])
    judge_line = result.lines[-1]
    assert (judge_line.label, judge_line.model, judge_line.calls) == (
        "judge: polite", "local/gpt-4o-mini", 4)
    assert judge_line.output_tokens == 4 * JUDGE_REPLY_TOKENS
    assert result.calls == 8


def test_provider_default_max_tokens_counts_as_the_budget():
    spec = loads(EXPERIMENT, "tone.toml")
    configs = provider_configs(spec, [])
    configs["local"] = ProviderConfig(name="local", kind="openai", base_url="http://127.0.0.1:9/v1",
                                      default_params={"max_tokens": 10}, local=False)
    plan = build_plan(spec, configs)
    line_b = estimate(plan, PRICES, plan.calls).lines[1]
    assert (line_b.output_tokens, line_b.output_assumed) == (6 * 10, False)
    assert plan.calls[1].body["max_tokens"] == 10  # the body carries the provider's default
    assert PRICES.cost("openai", "gpt-4o-mini", Usage(1_000_000, 0)) == 1.0
