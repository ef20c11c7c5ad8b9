"""Before a run: what it will cost, and whether the models it names exist.

`estimate` counts the calls a run will send (cache answers and cells a resumed run already has
are left out), their input tokens (the lab's offline estimate of the rendered prompts) and the
output-token budget (each variant's `max_tokens`, or `ASSUMED_OUTPUT_TOKENS` where none is
set), and prices them with the price table. A model with no price is shown as unknown, never as
free. LLM-judge calls are estimated too, one per output to be graded.

`check_models` asks each provider for its model list and reports models it does not offer, and
providers that cannot be reached at all, before any chat call. A provider that answers but
cannot list its models (no key yet, an endpoint a compatible server lacks) is not a problem
here: the calls themselves will say what is wrong.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from lab.core.checks import judge
from lab.core.experiment.template import estimate_messages_tokens
from lab.core.model import Usage
from lab.core.providers import NetworkError, ProviderClient, ProviderError
from lab.core.providers.pricing import _VERSION_SUFFIX as VERSION_SUFFIX
from lab.core.providers.pricing import PriceTable
from lab.core.run.plan import JUDGE_LABEL, JudgeCheck, PlannedCall, RunPlan

ASSUMED_OUTPUT_TOKENS = 512  # per call, when a variant sets no max_tokens
JUDGE_REPLY_TOKENS = 100  # {"score": 4, "reason": "one or two sentences"}


@dataclass
class EstimateLine:
    label: str  # the variant, or "judge: <check>"
    model: str  # provider/model
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0  # the budget: at most this many
    output_assumed: bool = False  # no max_tokens set: ASSUMED_OUTPUT_TOKENS per call
    cost_usd: float | None = 0.0  # None: the price table has no price for this model


@dataclass
class Estimate:
    lines: list[EstimateLine] = field(default_factory=list)
    cells: int = 0
    from_cache: int = 0
    already_done: int = 0

    @property
    def calls(self) -> int:
        return sum(line.calls for line in self.lines)

    @property
    def input_tokens(self) -> int:
        return sum(line.input_tokens for line in self.lines)

    @property
    def output_tokens(self) -> int:
        return sum(line.output_tokens for line in self.lines)

    @property
    def cost_usd(self) -> float:
        """The priced part; see `unpriced` for what it leaves out."""
        return sum(line.cost_usd or 0.0 for line in self.lines)

    @property
    def unpriced(self) -> list[str]:
        return sorted({line.model for line in self.lines if line.cost_usd is None and line.calls})

    def to_dict(self) -> dict:
        return {
            "cells": self.cells,
            "calls": self.calls,
            "from_cache": self.from_cache,
            "already_done": self.already_done,
            "input_tokens": self.input_tokens,
            "output_tokens_budget": self.output_tokens,
            "cost_usd": self.cost_usd,
            "cost_known": not self.unpriced,
            "unpriced_models": self.unpriced,
            "lines": [vars(line) for line in self.lines],
        }


def estimate(
    plan: RunPlan,
    prices: PriceTable,
    to_call: Iterable[PlannedCall],
    *,
    from_cache: int = 0,
    already_done: int = 0,
    judge_gaps: Iterable[tuple[JudgeCheck, PlannedCall]] = (),
) -> Estimate:
    """Price the calls in `to_call` plus one judge call per judge check for each of them.

    `judge_gaps` adds judge calls for outputs that already exist (a resume filling gaps).
    """
    result = Estimate(cells=len(plan.calls), from_cache=from_cache, already_done=already_done)
    lines: dict[tuple[str, str], EstimateLine] = {}

    def line_for(label: str, model: str) -> EstimateLine:
        return lines.setdefault((label, model), EstimateLine(label, model))

    judge_calls = list(judge_gaps)
    for call in to_call:
        line = line_for(call.variant.name, call.variant.model)
        budget = _max_tokens(call)
        line.calls += 1
        line.input_tokens += call.input_tokens
        line.output_tokens += budget or ASSUMED_OUTPUT_TOKENS
        line.output_assumed |= budget is None
        judge_calls += [(judge_check, call) for judge_check in plan.judges]
    for judge_check, call in judge_calls:
        provider, model = plan.judge_target(judge_check, call.variant)
        line = line_for(f"{JUDGE_LABEL}{judge_check.name}", f"{provider.name}/{model}")
        rubric = judge.judge_prompt(judge_check.check, "", call.case)
        line.calls += 1
        # The output being graded is part of the judge's prompt: count its budget.
        line.input_tokens += estimate_messages_tokens(rubric) + (
            _max_tokens(call) or ASSUMED_OUTPUT_TOKENS)
        line.output_tokens += JUDGE_REPLY_TOKENS
    for line in lines.values():
        provider_name, _, model = line.model.partition("/")
        config = plan.providers.get(provider_name)
        usage = Usage(input_tokens=line.input_tokens, output_tokens=line.output_tokens)
        line.cost_usd = prices.cost(
            config.kind if config else "", model, usage, local=bool(config and config.is_local)
        )
        result.lines.append(line)
    return result


def _max_tokens(call: PlannedCall) -> int | None:
    value = call.request.params.get("max_tokens", call.provider.default_params.get("max_tokens"))
    return value if isinstance(value, int) and value > 0 else None


# ----- are the models there? ------------------------------------------------------------------


@dataclass
class ModelCheck:
    """What asking each provider for its model list found, before anything is sent."""

    problems: list[str] = field(default_factory=list)  # models a provider says it lacks
    unreachable: list[str] = field(default_factory=list)  # providers that could not be reached


async def check_models(
    plan: RunPlan, clients: dict[str, ProviderClient], timeout: float = 10.0
) -> ModelCheck:
    """Ask every provider the plan uses for its models: one line per model it does not offer,
    and one per provider that cannot be reached at all (connection refused, no route, DNS).

    A provider that answers with an error (no key yet, or no model listing at all) is neither:
    its calls will say what is wrong.
    """
    wanted: dict[str, dict[str, str]] = {}  # provider -> model -> where it is named
    for i, variant in enumerate(plan.spec.project.variants, start=1):
        wanted.setdefault(variant.provider, {}).setdefault(
            variant.model_name, f"variants[{i}].model")
    for judge_check in plan.judges:
        if judge_check.model:
            provider, _, model = judge_check.model.partition("/")
            wanted.setdefault(provider, {}).setdefault(model, f"checks[{judge_check.index + 1}].model")
    found = ModelCheck()

    async def listing(name: str) -> list[str] | None:
        try:
            return await asyncio.wait_for(clients[name].list_models(), timeout)
        except NetworkError as exc:
            found.unreachable.append(f"{exc.message} Nothing was sent.")
            return None
        except (ProviderError, TimeoutError):
            return None

    names = [n for n in wanted if n in clients]
    listings = await asyncio.gather(*(listing(n) for n in names))
    for name, offered in zip(names, listings):
        if not offered:
            continue
        for model, where in wanted[name].items():
            if not _offers(offered, model):
                shown = ", ".join(offered[:8]) + (", …" if len(offered) > 8 else "")
                found.problems.append(
                    f"{plan.spec.where(where)}: {where}: provider '{name}' does not offer a model "
                    f"named '{model}' (it offers: {shown}). Check the spelling, or pull the model "
                    "first on a local server."
                )
    return found


def _offers(offered: list[str], model: str) -> bool:
    """Whether `model` is in the list, exactly or as an alias: a listed name that is `model`
    plus a date or version ("claude-sonnet-4-5" is listed as "claude-sonnet-4-5-20250929",
    Ollama's "llama3.2" as "llama3.2:latest"), or the other way round. Anything else
    ("gpt-4o-mini-typo") is a different model. The suffix rule is the price table's."""
    if model in offered or model.removeprefix("models/") in offered:
        return True
    for name in offered:
        longer, shorter = (name, model) if len(name) > len(model) else (model, name)
        if longer.startswith(shorter) and VERSION_SUFFIX.fullmatch(longer[len(shorter):]):
            return True
    return False
