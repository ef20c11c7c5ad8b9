"""Fine-tuning prices: what training a model costs and what the tuned model charges per token.

The price table (`resources/prices.toml`, overridden by the user's copy) may give them in a
sub-table of a model, USD per million tokens:

    [openai."gpt-4.1-mini".fine_tuning]
    training = 5.00   # per training token (billed tokens × epochs)
    input = 0.80      # the tuned model's prompt tokens
    output = 3.20     # the tuned model's completion tokens

When the lab's `PriceTable` knows fine-tuning prices itself (a method ``fine_tuning_price_for``
or ``tuning_price_for``), that is used; otherwise this module reads the sub-tables from the same
files, with the same model-name matching (a dated name is priced as its listed name). A model
without them has unknown fine-tuning prices: never assumed free.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.core.providers.pricing import ModelPrice, PriceTable


@dataclass(frozen=True)
class TuningPrice:
    """USD per 1M tokens."""

    training: float
    input: float
    output: float


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return float(value)


def read_tuning_prices(paths: Iterable[Path]) -> tuple[PriceTable, PriceTable]:
    """(training prices, tuned inference prices) from the ``fine_tuning`` sub-tables of the
    price files, later files overriding earlier ones model by model. Files that are missing or
    unreadable are skipped (the price table's own loader reports those)."""
    training: dict[str, dict[str, ModelPrice]] = {}
    tuned: dict[str, dict[str, ModelPrice]] = {}
    for path in paths:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            continue
        for kind, models in data.items():
            if not isinstance(models, dict):
                continue
            for model, entry in models.items():
                ft = entry.get("fine_tuning") if isinstance(entry, dict) else None
                if not isinstance(ft, dict):
                    continue
                values = [_number(ft.get(k)) for k in ("training", "input", "output")]
                if any(v is None for v in values):
                    continue
                train, inp, out = values
                training.setdefault(kind, {})[model] = ModelPrice(train, 0.0)
                tuned.setdefault(kind, {})[model] = ModelPrice(inp, out)
    return PriceTable(training), PriceTable(tuned)


def tuning_price(kind: str, model: str, prices: PriceTable | None = None,
                 paths: Iterable[Path] = ()) -> TuningPrice | None:
    """The fine-tuning prices of a model, or None when the price table does not give them."""
    for name in ("fine_tuning_price_for", "tuning_price_for"):
        method = getattr(prices, name, None)
        if callable(method):
            found = method(kind, model)
            if found is None:
                return None
            values = [getattr(found, k, None) for k in ("training", "input", "output")]
            if all(isinstance(v, (int, float)) for v in values):
                return TuningPrice(*map(float, values))  # type: ignore[arg-type]
            return None
    training, tuned = read_tuning_prices(paths)
    train, infer = training.price_for(kind, model), tuned.price_for(kind, model)
    if train is None or infer is None:
        return None
    return TuningPrice(train.input, infer.input, infer.output)
