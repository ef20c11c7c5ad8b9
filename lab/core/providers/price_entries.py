"""One model's price as the lab reads it: rates per million tokens (plain, cached, cache
writes), a long-prompt tier, scheduled changes, fine-tuning prices, the batch discount, and
retirement; the cost of one call from its usage. See `pricing` for the file they come from."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.core.model import Usage

# "-2024-07-18", "-20250929", "@20250929", "-001", "-latest", "-preview-09-2025", ":v1"
VERSION_SUFFIX = re.compile(r"[-@:](\d{4}-\d{2}-\d{2}|\d{8}|\d{3,4}|latest|preview(-\d{2}-\d{4})?|v\d+(\.\d+)*)")

RETIRED_TABLE = "retired"  # top-level table of models that are gone: [retired.<kind>]
RATE_FIELDS = ("input", "output", "cached_input", "cache_write", "cache_write_1h")
KIND_SETTINGS = ("batch_discount",)


class PriceTableError(ValueError):
    """A price file that cannot be read; the message names the file, line, table and field."""


@dataclass(frozen=True)
class Rates:
    """The rates one request is billed at, defaults filled in (USD per 1M tokens)."""

    input: float
    output: float
    cached_input: float
    cache_write: float
    cache_write_1h: float


@dataclass(frozen=True)
class LongContext:
    """Rates for a request whose input exceeds `above` tokens; they apply to all its tokens."""

    above: int
    input: float
    output: float
    cached_input: float | None = None  # defaults to this tier's input
    cache_write: float | None = None  # defaults to this tier's input
    cache_write_1h: float | None = None  # defaults to this tier's cache_write


@dataclass(frozen=True)
class FineTuning:
    """Tuning a model: training per 1M training tokens, and what the tuned model costs to run."""

    training: float  # USD per 1M training tokens (tokens in the training file × epochs)
    inference: ModelPrice  # a call to the tuned model
    training_ends: dt.date | None = None  # no new training jobs from this date

    def training_cost(self, training_file_tokens: int, epochs: int = 1) -> float:
        """USD for one training job over a file of `training_file_tokens` tokens."""
        return training_file_tokens * max(epochs, 0) * self.training / 1_000_000


@dataclass(frozen=True)
class ModelPrice:
    """USD per 1M tokens, and what else the provider says about the price (see the module doc)."""

    input: float
    output: float
    cached_input: float | None = None  # cache reads; defaults to the input price
    cache_write: float | None = None  # cache writes (Anthropic: five-minute); defaults to input
    cache_write_1h: float | None = None  # Anthropic one-hour cache writes; defaults to cache_write
    batch_discount: float | None = None  # 0.5 = half price as a batch; None: not known
    long_context: LongContext | None = None
    since: dt.date | None = None  # when this price took effect
    retires: dt.date | None = None  # when the provider shuts the model down
    fine_tuning: FineTuning | None = None
    scheduled: tuple[ModelPrice, ...] = ()  # later prices, each complete, in date order

    def on(self, day: dt.date) -> ModelPrice:
        """The price in effect on `day`: the latest scheduled change that has started, or this."""
        current = self
        for later in self.scheduled:
            if later.since is None or later.since <= day:
                current = later
        return current

    def rates(self, prompt_tokens: int = 0) -> Rates:
        """The rates for a request with `prompt_tokens` input tokens (the long-context tier's
        above its threshold)."""
        tier: Any = self
        if self.long_context is not None and prompt_tokens > self.long_context.above:
            tier = self.long_context
        read = tier.input if tier.cached_input is None else tier.cached_input
        write = tier.input if tier.cache_write is None else tier.cache_write
        write_1h = write if tier.cache_write_1h is None else tier.cache_write_1h
        return Rates(tier.input, tier.output, read, write, write_1h)

    def cost(self, usage: Usage, *, batch: bool = False) -> float | None:
        """USD for one call; None as a batch call when the batch discount is not known."""
        factor = 1.0
        if batch:
            if self.batch_discount is None:
                return None
            factor = 1.0 - self.batch_discount
        if usage.input_tokens is None or usage.output_tokens is None:
            return None  # unknown usage: unknown cost, never zero
        r = self.rates(usage.input_tokens)
        written_1h = max(usage.cache_write_1h_tokens or 0, 0)
        written = max(usage.cache_write_tokens or 0, written_1h)
        cached = max(usage.cached_tokens or 0, 0)
        fresh = max(usage.input_tokens - cached - written, 0)
        total = (
            fresh * r.input
            + cached * r.cached_input
            + (written - written_1h) * r.cache_write
            + written_1h * r.cache_write_1h
            + usage.output_tokens * r.output
        )
        return total * factor / 1_000_000


@dataclass(frozen=True)
class Retirement:
    """A model the provider has shut down or will: `on` is the date (None: retired, date unknown)."""

    model: str  # the name as the table lists it
    on: dt.date | None

    def retired(self, today: dt.date) -> bool:
        return self.on is None or self.on <= today

    def days_left(self, today: dt.date) -> int | None:
        return None if self.on is None else (self.on - today).days


def default_prices_path() -> Path:
    try:
        from importlib.resources import files

        candidate = Path(str(files("lab.resources") / "prices.toml"))
        if candidate.is_file():
            return candidate
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[2] / "resources" / "prices.toml"
