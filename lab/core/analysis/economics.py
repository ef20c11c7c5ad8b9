"""Would a fine-tune pay? The prompt every call repeats, at the user's volume, against what a tuned
model costs to train and to call.

* **Repeated prompt**: the system prompt and the enabled few-shot examples of the best variant,
  sent again with every call, estimated with the lab's offline token estimate (the pre-flight's),
  4 tokens of message overhead each. A tuned model learns the behaviour and no longer needs
  them: that is where its savings come from (the export's "drop the prompt" handling).
* **Now**: per call, the variant's mean input and output tokens (from the logged usage) at the
  model's prices; the repeated prompt's share of that, times the expected calls per month.
* **Tuned**: per call, the input without the repeated prompt and the same output, at the tuned
  model's prices; training once: billed tokens × epochs by the export's estimate
  (`export.openai_sft.training_tokens`: OpenAI's cookbook defaults), for the good examples there
  are (at least 50, a first useful tune), at the training price.
* **Break-even**: training cost ÷ saving per call = the calls after which the tune has paid for
  itself; the break-even monthly volume is the volume at which that takes 12 months.

Every price comes from the price table (`tuning_prices` for the fine-tuning ones). A price that
is not there makes the figures that need it unknown (None), never zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lab.core.analysis.tuning_prices import TuningPrice
from lab.core.experiment.template import MESSAGE_OVERHEAD_TOKENS, estimate_tokens
from lab.core.export.openai_sft import training_tokens
from lab.core.model import Variant
from lab.core.providers.pricing import ModelPrice

DEFAULT_CALLS_PER_MONTH = 100_000
PAYBACK_MONTHS = 12
MIN_TRAINING_EXAMPLES = 50


@dataclass(frozen=True)
class Economics:
    variant: str
    model: str
    calls_per_month: int
    repeated_tokens: int  # system prompt + few-shot examples, every call
    system_tokens: int
    example_tokens: int
    input_price: float | None  # USD per 1M input tokens of the model now; None: not in the table
    output_price: float | None
    repeated_cost_per_month: float | None
    cost_per_call_now: float | None
    tuning: TuningPrice | None
    training_examples: int  # examples the training estimate assumes
    training_epochs: int
    training_tokens: int  # billed tokens × epochs
    training_cost: float | None
    cost_per_call_tuned: float | None
    saving_per_call: float | None  # now − tuned; negative: the tuned model costs more per call
    break_even_calls: float | None  # calls after which training has paid for itself
    break_even_calls_per_month: float | None  # the volume that pays it back in 12 months
    payback_months: float | None  # at the user's volume
    unknown: tuple[str, ...]  # what could not be priced, in words

    @property
    def pays(self) -> bool | None:
        """True when the tune pays for itself within 12 months at the user's volume."""
        if self.payback_months is None:
            return None if self.unknown else False
        return self.payback_months <= PAYBACK_MONTHS


def prompt_tokens(variant: Variant) -> tuple[int, int]:
    """(system prompt tokens, few-shot example tokens) every call of the variant repeats."""
    system = MESSAGE_OVERHEAD_TOKENS + estimate_tokens(variant.system) if variant.system else 0
    examples = sum(2 * MESSAGE_OVERHEAD_TOKENS + estimate_tokens(e.input) + estimate_tokens(e.output)
                   for e in variant.enabled_examples())
    return system, examples


def economics(variant: Variant, price: ModelPrice | None, tuning: TuningPrice | None, *,
              calls_per_month: int = DEFAULT_CALLS_PER_MONTH, mean_input: float | None = None,
              mean_output: float | None = None, examples: int = 0,
              tokens_per_example: float | None = None) -> Economics:
    """The figures for the variant's model; ``price`` and ``tuning`` None when unknown."""
    system, shots = prompt_tokens(variant)
    repeated = system + shots
    unknown = []
    if price is None:
        unknown.append(f"the price of {variant.model}")
    if tuning is None:
        unknown.append(f"the fine-tuning prices of {variant.model}")
    if mean_input is None:
        unknown.append("the tokens per call (no call logged usage)")
    mean_input = max(float(mean_input if mean_input is not None else repeated), float(repeated))
    mean_output = float(mean_output or 0.0)
    repeated_cost = now = None
    if price is not None:
        repeated_cost = repeated * calls_per_month * price.input / 1e6
        now = (mean_input * price.input + mean_output * price.output) / 1e6
    n_train = max(examples, MIN_TRAINING_EXAMPLES)
    per_example = tokens_per_example or (mean_input - repeated + mean_output) or 1.0
    epochs, billed = training_tokens([math.ceil(per_example)] * n_train)
    trained = billed * epochs
    training_cost = tuned = saving = break_even = per_month = payback = None
    if tuning is not None:
        training_cost = trained * tuning.training / 1e6
        tuned = ((mean_input - repeated) * tuning.input + mean_output * tuning.output) / 1e6
        if now is not None:
            saving = now - tuned
            if saving > 0:
                break_even = training_cost / saving
                per_month = break_even / PAYBACK_MONTHS
                payback = break_even / calls_per_month if calls_per_month else None
    return Economics(
        variant.name, variant.model, calls_per_month, repeated, system, shots,
        price.input if price else None, price.output if price else None, repeated_cost, now,
        tuning, n_train, epochs, trained, training_cost, tuned, saving, break_even, per_month,
        payback, tuple(unknown))
