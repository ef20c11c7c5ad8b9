"""What a call costs, from a price table the user can edit.

The default table ships as `resources/prices.toml` (USD per million tokens, by provider kind and
model). A copy in the user's data directory overrides it model by model; the caller passes that
path to `PriceTable.load`. A model missing from both tables has an unknown cost (None), shown as
unknown rather than as a misleading 0. Local models (Ollama, or an OpenAI-compatible server on
this machine) cost 0.

One model's entry (every field but input and output may be left out):

    [anthropic."claude-haiku-5-5"]
    since = 2026-10-07        # the date this price took effect
    retires = 2027-06-01      # (hypothetical) the date the provider shuts the model down
    input = 0.10              # prompt tokens not read from or written to a cache
    output = 0.50             # completion tokens, reasoning / thinking included
    cached_input = 0.01       # cache reads (default: input)
    cache_write = 0.125       # cache writes; Anthropic's five-minute ones (default: input)
    cache_write_1h = 0.20     # Anthropic's one-hour cache writes (default: cache_write)
    batch_discount = 0.5      # the fraction off every rate for a batch call (default: the kind's)

    [anthropic."claude-haiku-5-5".long_context]
    above = 100_000           # a request with more input tokens than this is billed, every
    input = 0.50              # token of it, at these rates (same fields and defaults as above)
    output = 2.50

    [[gemini."gemini-3.8-flash".scheduled]]
    since = 2027-01-01        # a price change announced ahead: from this date these fields
    input = 1.50              # replace the entry's own (the others carry over)
    output = 7.50

    [openai."gpt-4.1".fine_tuning]
    training = 25.00          # per 1M training tokens (tokens in the training file × epochs)
    training_ends = 2027-01-06  # no new training jobs from this date
    input = 3.00              # a tuned model's inference; cached_input, cache_write,
    output = 12.00            # batch_discount and since as for a model

Kind-wide settings sit in the kind's own table (`[anthropic]` then `batch_discount = 0.5`); a
model's own value wins. Models that are gone and have no price are listed by retirement date
(`true`: retired, date unknown) so a pre-flight can say so:

    [retired.openai]
    "gpt-4.1-nano" = 2026-10-23

Fine-tuned models: `price_for("openai", "ft:gpt-4o-mini-2024-07-18:org::id")` is the base
model's `fine_tuning` inference price (unknown when the base has none), and
`PriceTable.fine_tuning(kind, base)` gives the training price too (`FineTuning.training_cost`).

`save_user_price` adds or replaces one model's entry in the user's file (what an "add price"
button calls); the rest of the file, comments included, is left as it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

from lab.core.model import Usage
from lab.core.providers.price_entries import (
    FineTuning,
    ModelPrice,
    Retirement,
    default_prices_path,
)
from lab.core.providers.price_file import match_model, read_price_file, tuned_base

# The pricing API in one place: entries, errors and editing the user's file.
from lab.core.providers.price_edits import (  # noqa: F401, E402
    ensure_user_copy,
    price_data,
    save_user_price,
)
from lab.core.providers.price_entries import (  # noqa: F401, E402
    VERSION_SUFFIX,
    LongContext,
    PriceTableError,
    Rates,
)


class PriceTable:
    def __init__(
        self,
        prices: dict[str, dict[str, ModelPrice]] | None = None,
        *,
        settings: dict[str, dict[str, Any]] | None = None,
        retired: dict[str, dict[str, dt.date | None]] | None = None,
        user_path: Path | None = None,
    ) -> None:
        self._prices = prices or {}
        self._settings = settings or {}
        self._retired = retired or {}
        self.user_path = user_path  # where the user's own prices go (may not exist yet)

    @classmethod
    def load(cls, user_path: Path | None = None, default_path: Path | None = None) -> PriceTable:
        """The shipped table, overridden model by model by the user's copy if it exists."""
        shipped = read_price_file(default_path or default_prices_path())
        if user_path is not None and Path(user_path).is_file():
            mine = read_price_file(Path(user_path))
            for kind, models in mine.prices.items():
                shipped.prices.setdefault(kind, {}).update(models)
            for kind, values in mine.settings.items():
                shipped.settings.setdefault(kind, {}).update(values)
            for kind, models in mine.retired.items():
                shipped.retired.setdefault(kind, {}).update(models)
        return cls(shipped.prices, settings=shipped.settings, retired=shipped.retired,
                   user_path=Path(user_path) if user_path is not None else None)

    def entries(self) -> list[tuple[str, str, ModelPrice]]:
        """Every listed model as (kind, name, entry), the entry as written (not dated)."""
        return [(kind, name, price) for kind, models in self._prices.items()
                for name, price in models.items()]

    def price_for(self, kind: str, model: str, on: dt.date | None = None) -> ModelPrice | None:
        """The price of `model` on `on` (default today): exact name first, then a listed name
        plus a date or version suffix. A fine-tune ("ft:<base>:...") has its base model's
        fine-tuning inference price. Unknown: None."""
        day = on or dt.date.today()
        models = self._prices.get(kind, {})
        base = tuned_base(model)
        if base is not None:
            tuning = self.fine_tuning(kind, base, on=day)
            return self._with_defaults(kind, tuning.inference) if tuning else None
        listed = match_model(models, model)
        if listed is None:
            return None
        return self._with_defaults(kind, models[listed].on(day))

    def _with_defaults(self, kind: str, price: ModelPrice) -> ModelPrice:
        discount = self._settings.get(kind, {}).get("batch_discount")
        if price.batch_discount is None and discount is not None:
            return replace(price, batch_discount=discount)
        return price

    def fine_tuning(self, kind: str, model: str, on: dt.date | None = None) -> FineTuning | None:
        """What tuning `model` costs (training per 1M tokens) and what calls to the tuned model
        cost (`.inference`); None when the table has no fine-tuning price for it."""
        listed = match_model(self._prices.get(kind, {}), model)
        if listed is None:
            return None
        price = self._prices[kind][listed].on(on or dt.date.today())
        return price.fine_tuning

    def retirement(self, kind: str, model: str) -> Retirement | None:
        """When the provider shuts `model` down (or did), if the table says."""
        name = tuned_base(model) or model  # a fine-tune goes when its base model goes
        models = self._prices.get(kind, {})
        listed = match_model(models, name)
        if listed is not None and models[listed].retires is not None:
            return Retirement(listed, models[listed].retires)
        gone = self._retired.get(kind, {})
        listed = match_model(gone, name)
        if listed is not None:
            return Retirement(listed, gone[listed])
        return None

    def cost(
        self,
        kind: str,
        model: str,
        usage: Usage,
        *,
        local: bool = False,
        batch: bool = False,
        on: dt.date | None = None,
    ) -> float | None:
        """USD for one call. Cache reads and writes (five-minute and one-hour) at their own
        prices, a long prompt at its tier's, `batch=True` with the batch discount (None when
        that is not known). Unknown model or unknown usage: None; local: 0."""
        if local:
            return 0.0
        price = self.price_for(kind, model, on)
        if price is None:
            return None
        return price.cost(usage, batch=batch)
