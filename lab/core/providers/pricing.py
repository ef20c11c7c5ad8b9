"""What a call cost, from a price table the user can edit.

The default table ships as `resources/prices.toml` (USD per million tokens, by provider kind and
model). A copy in the user's data directory overrides it model by model; the caller passes that
path. A model missing from both tables has an unknown cost (None), shown as unknown rather than
as a misleading 0. Local models (Ollama, or an OpenAI-compatible server on this machine) cost 0.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.core.model import Usage

# "-2024-07-18", "-20250929", "@20250929", "-001", "-latest", "-preview-09-2025", ":v1"
_VERSION_SUFFIX = re.compile(r"[-@:](\d{4}-\d{2}-\d{2}|\d{8}|\d{3,4}|latest|preview(-\d{2}-\d{4})?|v\d+(\.\d+)*)")


class PriceTableError(ValueError):
    """A price file that cannot be read; the message names the file, line and what to fix."""


@dataclass(frozen=True)
class ModelPrice:
    """USD per 1M tokens."""

    input: float
    output: float
    cached_input: float | None = None  # cache reads; defaults to the input price
    cache_write: float | None = None  # Anthropic cache writes; defaults to the input price


def default_prices_path() -> Path:
    try:
        from importlib.resources import files

        candidate = Path(str(files("lab.resources") / "prices.toml"))
        if candidate.is_file():
            return candidate
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[2] / "resources" / "prices.toml"


def _read(path: Path) -> dict[str, dict[str, ModelPrice]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PriceTableError(f"{path}: not valid TOML ({exc}); fix that line or delete the file") from None
    except OSError as exc:
        raise PriceTableError(f"{path}: cannot read the price table ({exc.strerror})") from None
    table: dict[str, dict[str, ModelPrice]] = {}
    for kind, models in data.items():
        if not isinstance(models, dict):
            continue  # top-level notes such as `checked = "2025-..."`
        for model, entry in models.items():
            table.setdefault(kind, {})[model] = _entry(path, kind, model, entry)
    return table


def _entry(path: Path, kind: str, model: str, entry: Any) -> ModelPrice:
    where = f"{path}: [{kind}.\"{model}\"]"
    if not isinstance(entry, dict):
        raise PriceTableError(f"{where} must be a table with input and output prices")
    try:
        values = {k: None if entry.get(k) is None else float(entry[k])
                  for k in ("input", "output", "cached_input", "cache_write")}
    except (TypeError, ValueError):
        raise PriceTableError(f"{where}: prices must be numbers (USD per million tokens)") from None
    if values["input"] is None or values["output"] is None:
        raise PriceTableError(f"{where} needs both 'input' and 'output' (USD per million tokens)")
    if any(v is not None and v < 0 for v in values.values()):
        raise PriceTableError(f"{where}: prices cannot be negative")
    return ModelPrice(**values)  # type: ignore[arg-type]


class PriceTable:
    def __init__(self, prices: dict[str, dict[str, ModelPrice]] | None = None) -> None:
        self._prices = prices or {}

    @classmethod
    def load(cls, user_path: Path | None = None, default_path: Path | None = None) -> PriceTable:
        """The shipped table, overridden model by model by the user's copy if it exists."""
        prices = _read(default_path or default_prices_path())
        if user_path is not None and Path(user_path).is_file():
            for kind, models in _read(Path(user_path)).items():
                prices.setdefault(kind, {}).update(models)
        return cls(prices)

    def price_for(self, kind: str, model: str) -> ModelPrice | None:
        """Exact name first, then a listed name plus a date or version suffix
        ("gpt-4o-mini-2024-07-18" is priced as "gpt-4o-mini"). Other extensions are a different
        model ("o3-pro" is not "o3"), so they stay unknown rather than mispriced."""
        models = self._prices.get(kind, {})
        name = model.removeprefix("models/")
        if name in models:
            return models[name]
        best = None
        for listed in models:
            if name.startswith(listed) and _VERSION_SUFFIX.fullmatch(name[len(listed):]):
                if best is None or len(listed) > len(best):
                    best = listed
        return models[best] if best else None

    def cost(
        self,
        kind: str,
        model: str,
        usage: Usage,
        *,
        cache_write_tokens: int = 0,
        local: bool = False,
    ) -> float | None:
        if local:
            return 0.0
        price = self.price_for(kind, model)
        if price is None:
            return None
        cached = usage.cached_tokens
        fresh = max(usage.input_tokens - cached - cache_write_tokens, 0)
        read_price = price.input if price.cached_input is None else price.cached_input
        write_price = price.input if price.cache_write is None else price.cache_write
        total = (
            fresh * price.input
            + cached * read_price
            + cache_write_tokens * write_price
            + usage.output_tokens * price.output
        )
        return total / 1_000_000


def ensure_user_copy(user_path: Path) -> Path:
    """Copy the shipped table to the user's data directory so they can edit it."""
    user_path = Path(user_path)
    if not user_path.exists():
        user_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(default_prices_path(), user_path)
    return user_path
