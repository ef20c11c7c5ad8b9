"""Reading a price file (TOML): every entry checked, and a mistake named by file, line, table and
field (`PriceTableError`). The shipped table and the user's own are read the same way."""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lab.core.providers.price_entries import (
    KIND_SETTINGS,
    RATE_FIELDS,
    RETIRED_TABLE,
    VERSION_SUFFIX,
    FineTuning,
    LongContext,
    ModelPrice,
    PriceTableError,
)


@dataclass
class PriceFile:
    prices: dict[str, dict[str, ModelPrice]] = field(default_factory=dict)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind -> batch_discount, ...
    retired: dict[str, dict[str, dt.date | None]] = field(default_factory=dict)


def read_price_file(path: Path) -> PriceFile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PriceTableError(f"{path}: cannot read the price table ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise PriceTableError(f"{path}: not a text file (UTF-8); fix it or delete the file") from None
    return parse_price_text(path, text)


def parse_price_text(path: Path, text: str) -> PriceFile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PriceTableError(f"{path}: not valid TOML ({exc}); fix that line or delete the file") from None
    reader = _Reader(path, text)
    result = PriceFile()
    for kind, models in data.items():
        if not isinstance(models, dict):
            continue  # top-level notes such as `checked = "2025-..."`
        if kind == RETIRED_TABLE:
            result.retired = reader.retired(models)
            continue
        for model, entry in models.items():
            if isinstance(entry, dict):
                result.prices.setdefault(kind, {})[model] = reader.entry(kind, model, entry)
            else:
                result.settings.setdefault(kind, {})[model] = reader.setting(kind, model, entry)
    return result


class _Reader:
    """Turns one file's TOML data into prices; every complaint names file, line, table and field."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    # -- where a problem is ------------------------------------------------------------------

    def fail(self, table: tuple[str, ...], key: str | None, problem: str, nth: int = 0) -> PriceTableError:
        line = self._line(table, key, nth)
        where = f"{self.path}, line {line}" if line else str(self.path)
        name = table_name(table)
        return PriceTableError(f"{where}: {name}{' ' + key if key else ''}: {problem}")

    def _line(self, table: tuple[str, ...], key: str | None, nth: int) -> int | None:
        """1-based line of `key` in `table` (or of the table's header), if it can be found."""
        header = None
        seen = 0
        for i, raw in enumerate(self.lines):
            path = header_path(raw)
            if path == table:
                if seen == nth:
                    header = i
                    break
                seen += 1
        if header is None:
            # An inline table or dotted keys: find the key anywhere as a last resort.
            if key is not None:
                pattern = re.compile(rf'(^|[\s{{,.]){re.escape(key)}\s*=')
                for i, raw in enumerate(self.lines):
                    if pattern.search(raw.split("#", 1)[0]):
                        return i + 1
            return None
        if key is None:
            return header + 1
        pattern = re.compile(rf'^\s*("{re.escape(key)}"|{re.escape(key)})\s*=')
        for i in range(header + 1, len(self.lines)):
            if header_path(self.lines[i]) is not None:
                break
            if pattern.match(self.lines[i]):
                return i + 1
        return header + 1

    # -- values ------------------------------------------------------------------------------

    def rate(self, table: tuple[str, ...], data: dict, key: str, nth: int = 0) -> float | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(table, key, f"prices must be numbers (USD per million tokens), not {value!r}", nth)
        if value < 0:
            raise self.fail(table, key, "prices cannot be negative", nth)
        return float(value)

    def discount(self, table: tuple[str, ...], data: dict, key: str, nth: int = 0) -> float | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise self.fail(table, key, f"must be a fraction from 0 to 1 (0.5 = half price), not {value!r}", nth)
        return float(value)

    def date(self, table: tuple[str, ...], data: dict, key: str, nth: int = 0) -> dt.date | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(table, key, f"must be a date like 2026-10-07, not {value!r}", nth)

    def known(self, table: tuple[str, ...], data: dict, allowed: tuple[str, ...], nth: int = 0) -> None:
        for key in data:
            if key not in allowed:
                raise self.fail(table, key, f"unknown field (known: {', '.join(allowed)})", nth)

    # -- tables ------------------------------------------------------------------------------

    def setting(self, kind: str, key: str, value: Any) -> Any:
        table = (kind,)
        if key not in KIND_SETTINGS:
            raise self.fail(table, key, "is neither a model's table nor a setting (known settings: "
                            f"{', '.join(KIND_SETTINGS)}); a model needs its own [{kind}.\"name\"] table")
        return self.discount(table, {key: value}, key)

    def rates(self, table: tuple[str, ...], data: dict, nth: int = 0, *, required: bool = True) -> dict[str, Any]:
        values = {k: self.rate(table, data, k, nth) for k in RATE_FIELDS}
        if required and (values["input"] is None or values["output"] is None):
            raise self.fail(table, None, "needs both 'input' and 'output' (USD per million tokens)", nth)
        return values

    def entry(self, kind: str, model: str, data: dict) -> ModelPrice:
        table = (kind, model)
        allowed = (*RATE_FIELDS, "batch_discount", "since", "retires", "long_context",
                   "scheduled", "fine_tuning")
        self.known(table, data, allowed)
        price = ModelPrice(
            **self.rates(table, data),
            batch_discount=self.discount(table, data, "batch_discount"),
            long_context=self.long_context(table + ("long_context",), data.get("long_context")),
            since=self.date(table, data, "since"),
            retires=self.date(table, data, "retires"),
            fine_tuning=self.fine_tuning(table + ("fine_tuning",), data.get("fine_tuning")),
        )
        if price.fine_tuning is not None and price.fine_tuning.inference.since is None:
            inference = replace(price.fine_tuning.inference, since=price.since)
            price = replace(price, fine_tuning=replace(price.fine_tuning, inference=inference))
        return replace(price, scheduled=self.scheduled(table + ("scheduled",), data.get("scheduled"), price))

    def long_context(self, table: tuple[str, ...], data: Any) -> LongContext | None:
        if data is None:
            return None
        if not isinstance(data, dict):
            raise self.fail(table[:-1], table[-1], "must be a table: above = N and the tier's prices")
        self.known(table, data, ("above", *RATE_FIELDS))
        above = data.get("above")
        if isinstance(above, bool) or not isinstance(above, int) or above < 1:
            raise self.fail(table, "above", "needs the threshold in input tokens, a whole number "
                            f"above 0 (got {above!r})")
        return LongContext(above=above, **self.rates(table, data))

    def scheduled(self, table: tuple[str, ...], data: Any, base: ModelPrice) -> tuple[ModelPrice, ...]:
        if data is None:
            return ()
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise self.fail(table[:-1], table[-1], "must be [[...scheduled]] tables, each with since = a date")
        changes = []
        for nth, change in enumerate(data):
            self.known(table, change, ("since", *RATE_FIELDS, "batch_discount"), nth)
            since = self.date(table, change, "since", nth)
            if since is None:
                raise self.fail(table, "since", "a scheduled price needs the date it starts", nth)
            named = {k: v for k, v in self.rates(table, change, nth, required=False).items() if v is not None}
            discount = self.discount(table, change, "batch_discount", nth)
            if discount is not None:
                named["batch_discount"] = discount
            changes.append(replace(base, since=since, **named))
        return tuple(sorted(changes, key=lambda p: p.since))

    def fine_tuning(self, table: tuple[str, ...], data: Any) -> FineTuning | None:
        if data is None:
            return None
        if not isinstance(data, dict):
            raise self.fail(table[:-1], table[-1], "must be a table: training = USD per 1M training "
                            "tokens, input and output for the tuned model")
        self.known(table, data, ("training", "training_ends", "since", *RATE_FIELDS, "batch_discount"))
        training = self.rate(table, data, "training")
        if training is None:
            raise self.fail(table, None, "needs 'training' (USD per million training tokens)")
        inference = ModelPrice(**self.rates(table, data),
                               batch_discount=self.discount(table, data, "batch_discount"),
                               since=self.date(table, data, "since"))
        return FineTuning(training, inference, self.date(table, data, "training_ends"))

    def retired(self, data: dict) -> dict[str, dict[str, dt.date | None]]:
        found: dict[str, dict[str, dt.date | None]] = {}
        for kind, models in data.items():
            if not isinstance(models, dict):
                raise self.fail((RETIRED_TABLE,), kind, f"must be a table: [{RETIRED_TABLE}.{kind}] "
                                "listing \"model\" = its retirement date")
            for model, value in models.items():
                if value is True:
                    found.setdefault(kind, {})[model] = None
                else:
                    day = self.date((RETIRED_TABLE, kind), models, model)
                    found.setdefault(kind, {})[model] = day
        return found


def _split_key(text: str) -> tuple[str, ...] | None:
    """`openai."gpt-4.1".long_context` -> ("openai", "gpt-4.1", "long_context")."""
    parts, current, quote, i = [], "", None, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"' and i + 1 < len(text):
                current += text[i + 1]
                i += 2
                continue
            if ch == quote:
                quote = None
            else:
                current += ch
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            parts.append(current.strip())
            current = ""
        else:
            current += ch
        i += 1
    if quote:
        return None
    parts.append(current.strip())
    return tuple(parts)


def header_path(line: str) -> tuple[str, ...] | None:
    """The key path of a `[table]` or `[[array]]` header line, else None."""
    m = re.match(r"\s*\[\[?(.*?)\]\]?\s*(#.*)?$", line)
    if not m:
        return None
    return _split_key(m.group(1))


def table_name(table: tuple[str, ...]) -> str:
    if not table:
        return ""
    parts = [table[0], *(f'"{p}"' if i == 0 else p for i, p in enumerate(table[1:]))]
    return "[" + ".".join(parts) + "]"


def match_model(names: Any, model: str) -> str | None:
    """The listed name `model` is priced by: itself, else the longest listed name it extends
    by a date or version suffix ("gpt-4o-mini-2024-07-18" is "gpt-4o-mini"). Other extensions
    are a different model ("o3-pro" is not "o3")."""
    name = model.removeprefix("models/")
    if name in names:
        return name
    best = None
    for listed in names:
        if name.startswith(listed) and VERSION_SUFFIX.fullmatch(name[len(listed):]):
            if best is None or len(listed) > len(best):
                best = listed
    return best


def tuned_base(model: str) -> str | None:
    """The base model of an OpenAI fine-tune name, "ft:gpt-4o-mini-2024-07-18:org::id"."""
    if model.startswith("ft:"):
        return model[3:].split(":", 1)[0] or None
    return None
