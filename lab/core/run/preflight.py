"""Before a run: what it will cost, and whether the models it names exist.

`estimate` counts the calls a run will send (cache answers and cells a resumed run already has
are left out), their input tokens (the lab's offline estimate of the rendered prompts) and the
output-token budget (each variant's `max_tokens`, or `ASSUMED_OUTPUT_TOKENS` where none is
set), and prices them with the price table, call by call (a long prompt can cross a model's
long-context threshold; a line's sum would cross it falsely). A model with no price is shown as
unknown, never as free, with where to add its price. LLM-judge calls are estimated too, one per
output to be graded. A model that the provider has retired, or retires within
`RETIRING_SOON_DAYS`, gives a warning naming the variant (or judge check), model and date.

`check_models` asks each provider for its model list and reports models it does not offer, and
providers that cannot be reached at all, before any chat call. A provider that answers but
cannot list its models (no key yet, an endpoint a compatible server lacks) is not a problem
here: the calls themselves will say what is wrong.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lab.core.checks import judge
from lab.core.experiment.template import estimate_messages_tokens
from lab.core.model import Usage
from lab.core.providers import NetworkError, ProviderConfig, ProviderError
from lab.core.providers.pricing import VERSION_SUFFIX, PriceTable
from lab.core.run.plan import JUDGE_LABEL, JudgeCheck, PlannedCall, RunPlan
from lab.core.workspace.location import user_prices_path

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.providers.client import ProviderClient


ASSUMED_OUTPUT_TOKENS = 512  # per call, when a variant sets no max_tokens
JUDGE_REPLY_TOKENS = 100  # {"score": 4, "reason": "one or two sentences"}
RETIRING_SOON_DAYS = 30  # warn about a model the provider shuts down within this many days


@dataclass
class EstimateLine:
    label: str  # the variant, or "judge: <check>"
    model: str  # provider/model
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0  # the budget: at most this many
    output_assumed: bool = False  # no max_tokens set: ASSUMED_OUTPUT_TOKENS per call
    cost_usd: float | None = 0.0  # None: the price table has no price for this model
    kind: str = ""  # the provider's kind: where a missing price goes in the price file
    batch: bool = False  # sent through the provider's batch API, priced at its batch price


@dataclass
class Estimate:
    lines: list[EstimateLine] = field(default_factory=list)
    cells: int = 0
    from_cache: int = 0
    already_done: int = 0
    warnings: list[str] = field(default_factory=list)  # retired or retiring models, one line each
    price_file: Path | None = None  # where the user adds a missing price
    notes: list[str] = field(default_factory=list)  # how a batch run sends its calls, one line each

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

    @property
    def unpriced_kinds(self) -> dict[str, str]:
        """Each unpriced "provider/model" with its provider's kind (the price file's first key)."""
        return {model: self._kind_of(model) for model in self.unpriced}

    @property
    def unknown_cost(self) -> list[str]:
        """One line per model with no price, saying where to add it."""
        return [unknown_price_message(model, self._kind_of(model), self._price_file)
                for model in self.unpriced]

    def budget_refusal(self, budget_usd: float) -> str | None:
        """Why a budget cannot be kept (a planned call has no price), or None when it can."""
        if not self.unpriced:
            return None
        their = "its price" if len(self.unpriced) == 1 else "their prices"
        tables = ", ".join(_price_table(m, self._kind_of(m)) for m in self.unpriced)
        return (f"a budget of ${budget_usd:g} cannot be kept: cost unknown for "
                f"{', '.join(self.unpriced)} — add {their} to {self._price_file} as {tables} "
                "with input and output (USD per 1M tokens), or run without a budget.")

    @property
    def _price_file(self) -> Path:
        return self.price_file or user_prices_path()

    def _kind_of(self, model: str) -> str:
        return next((line.kind for line in self.lines if line.model == model), "")

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
            "unknown_cost": self.unknown_cost,
            "warnings": self.warnings,
            "notes": self.notes,
            "lines": [vars(line) for line in self.lines],
        }


def unknown_price_message(model: str, kind: str, price_file: Path) -> str:
    """`model` is "provider/model"; `kind` the provider's kind (the price file's first key)."""
    return (f"cost unknown for {model} — add its price to {price_file} ({_price_table(model, kind)} "
            "with input and output, USD per 1M tokens)")


def _price_table(model: str, kind: str) -> str:
    """The price file's table for "provider/model" of a provider of `kind`."""
    name = model.partition("/")[2] or model
    return f'[{kind or "<kind>"}."{name}"]'



def estimate(
    plan: RunPlan,
    prices: PriceTable,
    to_call: Iterable[PlannedCall],
    *,
    from_cache: int = 0,
    already_done: int = 0,
    judge_gaps: Iterable[tuple[JudgeCheck, PlannedCall]] = (),
    today: dt.date | None = None,
    batched: Callable[[PlannedCall], bool] | None = None,
) -> Estimate:
    """Price the calls in `to_call` plus one judge call per judge check for each of them, at
    the prices in effect `today` (default: the real today), and warn of retiring models.

    `judge_gaps` adds judge calls for outputs that already exist (a resume filling gaps).
    `batched`: which calls a batch run sends in batches (priced at the batch price; judge
    calls and chains are sent one by one).
    """
    day = today or dt.date.today()
    result = Estimate(cells=len(plan.calls), from_cache=from_cache, already_done=already_done,
                      price_file=prices.user_path or user_prices_path())
    lines: dict[tuple[str, str, bool], EstimateLine] = {}

    def add(label: str, config: ProviderConfig, model: str, input_tokens: int,
            output_tokens: int, batch: bool = False) -> EstimateLine:
        line = lines.setdefault((label, f"{config.name}/{model}", batch),
                                EstimateLine(label, f"{config.name}/{model}", kind=config.kind,
                                             batch=batch))
        line.calls += 1
        line.input_tokens += input_tokens
        line.output_tokens += output_tokens
        cost = prices.cost(config.kind, model, Usage(input_tokens=input_tokens, output_tokens=output_tokens),
                           local=config.is_local, on=day, batch=batch)
        line.cost_usd = None if line.cost_usd is None or cost is None else line.cost_usd + cost
        return line

    judge_calls = list(judge_gaps)
    for call in to_call:
        for step in call.steps:  # a chain: each step is a call of its own model
            line = add(step.label, step.provider, step.variant.model_name, step.input_tokens,
                       step.output_budget or ASSUMED_OUTPUT_TOKENS)
            line.output_assumed |= step.output_budget is None
        if call.steps:
            judge_calls += [(judge_check, call) for judge_check in plan.judges]
            continue
        budget = _max_tokens(call)
        line = add(call.variant.name, call.provider, call.variant.model_name, call.input_tokens,
                   budget or ASSUMED_OUTPUT_TOKENS, batch=batched is not None and batched(call))
        line.output_assumed |= budget is None
        judge_calls += [(judge_check, call) for judge_check in plan.judges]
    for judge_check, call in judge_calls:
        provider, model = plan.judge_target(judge_check, call.variant)
        rubric = judge.judge_prompt(judge_check.check, "", call.case)
        # The output being graded is part of the judge's prompt: count its budget.
        add(f"{JUDGE_LABEL}{judge_check.name}", provider, model,
            estimate_messages_tokens(rubric) + (_max_tokens(call) or ASSUMED_OUTPUT_TOKENS),
            JUDGE_REPLY_TOKENS)
    result.lines = list(lines.values())
    result.warnings = retirement_warnings(plan, prices, day)
    return result


def retirement_warnings(plan: RunPlan, prices: PriceTable, today: dt.date) -> list[str]:
    """A line for each variant or judge check whose model is retired or retires within
    RETIRING_SOON_DAYS of `today`. Local servers are left out: their models are files."""
    users: list[tuple[str, str]] = [(f"variant '{v.name}'", v.model) for v in plan.spec.project.variants]
    users += [(f"judge check '{j.name}'", j.model) for j in plan.judges if j.model]
    found = []
    for who, target in users:
        provider, _, model = target.partition("/")
        config = plan.providers.get(provider)
        if config is None or config.is_local:
            continue
        gone = prices.retirement(config.kind, model)
        if gone is None:
            continue
        days = gone.days_left(today)
        if days is None:
            found.append(f"{who} uses {target}, which the provider has retired: calls to it will "
                         "fail. Choose a current model.")
        elif gone.retired(today):
            found.append(f"{who} uses {target}, which the provider retired on {gone.on:%Y-%m-%d}: "
                         "calls to it will fail. Choose a current model.")
        elif days <= RETIRING_SOON_DAYS:
            found.append(f"{who} uses {target}, which the provider retires on {gone.on:%Y-%m-%d} "
                         f"(in {days} day{'s' if days != 1 else ''}). Plan a move to a current model.")
    return found


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
