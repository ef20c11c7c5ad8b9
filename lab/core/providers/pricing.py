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
import math
import os
import re
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import tomli_w

from lab.core.model import Usage

# "-2024-07-18", "-20250929", "@20250929", "-001", "-latest", "-preview-09-2025", ":v1"
_VERSION_SUFFIX = re.compile(r"[-@:](\d{4}-\d{2}-\d{2}|\d{8}|\d{3,4}|latest|preview(-\d{2}-\d{4})?|v\d+(\.\d+)*)")

RETIRED_TABLE = "retired"  # top-level table of models that are gone: [retired.<kind>]
_RATE_FIELDS = ("input", "output", "cached_input", "cache_write", "cache_write_1h")
_KIND_SETTINGS = ("batch_discount",)


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


# ----- reading a price file -----------------------------------------------------------------------


@dataclass
class _File:
    prices: dict[str, dict[str, ModelPrice]] = field(default_factory=dict)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind -> batch_discount, ...
    retired: dict[str, dict[str, dt.date | None]] = field(default_factory=dict)


def _read(path: Path) -> _File:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PriceTableError(f"{path}: cannot read the price table ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise PriceTableError(f"{path}: not a text file (UTF-8); fix it or delete the file") from None
    return _parse(path, text)


def _parse(path: Path, text: str) -> _File:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PriceTableError(f"{path}: not valid TOML ({exc}); fix that line or delete the file") from None
    reader = _Reader(path, text)
    result = _File()
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
        name = _table_name(table)
        return PriceTableError(f"{where}: {name}{' ' + key if key else ''}: {problem}")

    def _line(self, table: tuple[str, ...], key: str | None, nth: int) -> int | None:
        """1-based line of `key` in `table` (or of the table's header), if it can be found."""
        header = None
        seen = 0
        for i, raw in enumerate(self.lines):
            path = _header_path(raw)
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
            if _header_path(self.lines[i]) is not None:
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
        if key not in _KIND_SETTINGS:
            raise self.fail(table, key, "is neither a model's table nor a setting (known settings: "
                            f"{', '.join(_KIND_SETTINGS)}); a model needs its own [{kind}.\"name\"] table")
        return self.discount(table, {key: value}, key)

    def rates(self, table: tuple[str, ...], data: dict, nth: int = 0, *, required: bool = True) -> dict[str, Any]:
        values = {k: self.rate(table, data, k, nth) for k in _RATE_FIELDS}
        if required and (values["input"] is None or values["output"] is None):
            raise self.fail(table, None, "needs both 'input' and 'output' (USD per million tokens)", nth)
        return values

    def entry(self, kind: str, model: str, data: dict) -> ModelPrice:
        table = (kind, model)
        allowed = (*_RATE_FIELDS, "batch_discount", "since", "retires", "long_context",
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
        self.known(table, data, ("above", *_RATE_FIELDS))
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
            self.known(table, change, ("since", *_RATE_FIELDS, "batch_discount"), nth)
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
        self.known(table, data, ("training", "training_ends", "since", *_RATE_FIELDS, "batch_discount"))
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


def _header_path(line: str) -> tuple[str, ...] | None:
    """The key path of a `[table]` or `[[array]]` header line, else None."""
    m = re.match(r"\s*\[\[?(.*?)\]\]?\s*(#.*)?$", line)
    if not m:
        return None
    return _split_key(m.group(1))


def _table_name(table: tuple[str, ...]) -> str:
    if not table:
        return ""
    parts = [table[0], *(f'"{p}"' if i == 0 else p for i, p in enumerate(table[1:]))]
    return "[" + ".".join(parts) + "]"


def _match(names: Any, model: str) -> str | None:
    """The listed name `model` is priced by: itself, else the longest listed name it extends
    by a date or version suffix ("gpt-4o-mini-2024-07-18" is "gpt-4o-mini"). Other extensions
    are a different model ("o3-pro" is not "o3")."""
    name = model.removeprefix("models/")
    if name in names:
        return name
    best = None
    for listed in names:
        if name.startswith(listed) and _VERSION_SUFFIX.fullmatch(name[len(listed):]):
            if best is None or len(listed) > len(best):
                best = listed
    return best


def _tuned_base(model: str) -> str | None:
    """The base model of an OpenAI fine-tune name, "ft:gpt-4o-mini-2024-07-18:org::id"."""
    if model.startswith("ft:"):
        return model[3:].split(":", 1)[0] or None
    return None


# ----- the table ----------------------------------------------------------------------------------


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
        shipped = _read(default_path or default_prices_path())
        if user_path is not None and Path(user_path).is_file():
            mine = _read(Path(user_path))
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
        base = _tuned_base(model)
        if base is not None:
            tuning = self.fine_tuning(kind, base, on=day)
            return self._with_defaults(kind, tuning.inference) if tuning else None
        listed = _match(models, model)
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
        listed = _match(self._prices.get(kind, {}), model)
        if listed is None:
            return None
        price = self._prices[kind][listed].on(on or dt.date.today())
        return price.fine_tuning

    def retirement(self, kind: str, model: str) -> Retirement | None:
        """When the provider shuts `model` down (or did), if the table says."""
        name = _tuned_base(model) or model  # a fine-tune goes when its base model goes
        models = self._prices.get(kind, {})
        listed = _match(models, name)
        if listed is not None and models[listed].retires is not None:
            return Retirement(listed, models[listed].retires)
        gone = self._retired.get(kind, {})
        listed = _match(gone, name)
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


# ----- the user's file ------------------------------------------------------------------------


def ensure_user_copy(user_path: Path) -> Path:
    """Copy the shipped table to the user's data directory so they can edit it."""
    user_path = Path(user_path)
    if not user_path.exists():
        user_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(default_prices_path(), user_path)
    return user_path


def price_data(price: ModelPrice) -> dict[str, Any]:
    """One entry as the price file writes it (fields left at their default are left out)."""
    data: dict[str, Any] = {}
    for name in ("since", "retires", *_RATE_FIELDS, "batch_discount"):
        value = getattr(price, name)
        if value is not None:
            data[name] = value
    if price.long_context is not None:
        tier = price.long_context
        data["long_context"] = {f.name: getattr(tier, f.name) for f in fields(tier)
                                if getattr(tier, f.name) is not None}
    if price.fine_tuning is not None:
        tuning = price.fine_tuning
        inner = {k: v for k, v in price_data(tuning.inference).items() if k != "retires"}
        data["fine_tuning"] = {"training": tuning.training, **(
            {"training_ends": tuning.training_ends} if tuning.training_ends else {}), **inner}
    if price.scheduled:
        changes = []
        for later in price.scheduled:
            change: dict[str, Any] = {"since": later.since}
            for name in (*_RATE_FIELDS, "batch_discount"):
                if getattr(later, name) != getattr(price, name) and getattr(later, name) is not None:
                    change[name] = getattr(later, name)
            changes.append(change)
        data["scheduled"] = changes
    return data


def save_user_price(user_path: Path, kind: str, model: str, price: ModelPrice) -> Path:
    """Add `model`'s price to the user's price file, or replace the entry it has there.

    The file is created if missing (holding just this entry; the shipped table still applies to
    every other model). Everything else in it, comments included, stays as it was. The result is
    read back before it replaces the file, so a file this cannot edit safely is left untouched
    (PriceTableError says so)."""
    user_path = Path(user_path)
    if not kind or not model:
        raise PriceTableError(f"{user_path}: a price needs a provider kind and a model name")
    block = _entry_block(kind, model, price)
    text = user_path.read_text(encoding="utf-8") if user_path.exists() else ""
    lines = text.splitlines(keepends=True)
    start, end = _entry_span(lines, (kind, model))
    if start is None:
        if text and not text.endswith("\n"):
            text += "\n"
        new_text = text + ("\n" if text.strip() else "") + block
    else:
        gap = "\n" if end < len(lines) and lines[end].strip() else ""
        new_text = "".join(lines[:start]) + block + gap + "".join(lines[end:])
    try:
        written = _parse(user_path, new_text)
    except PriceTableError as exc:
        raise PriceTableError(
            f"{user_path}: could not add the price of {kind} model '{model}' to this file safely "
            f"({exc}); add it by hand:\n{block}") from None
    if written.prices.get(kind, {}).get(model) is None:
        raise PriceTableError(f"{user_path}: could not add the price of {kind} model '{model}'; "
                              f"add it by hand:\n{block}")
    user_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".prices-", suffix=".toml", dir=user_path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(new_text)
        os.replace(tmp, user_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return user_path


def _entry_block(kind: str, model: str, price: ModelPrice) -> str:
    data = price_data(price)
    header = f"{_toml_key(kind)}.{_toml_string(model)}"
    scalars = {k: v for k, v in data.items() if not isinstance(v, (dict, list))}
    out = [f"[{header}]\n", tomli_w.dumps(scalars)]
    for name in ("long_context", "fine_tuning"):
        if name in data:
            out += [f"\n[{header}.{name}]\n", tomli_w.dumps(data[name])]
    for change in data.get("scheduled", []):
        out += [f"\n[[{header}.scheduled]]\n", tomli_w.dumps(change)]
    return "".join(out)


def _toml_string(text: str) -> str:
    return tomli_w.dumps({"k": text}).split("=", 1)[1].strip()  # quoted and escaped


def _toml_key(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else _toml_string(text)


def _entry_span(lines: list[str], table: tuple[str, ...]) -> tuple[int | None, int]:
    """Lines [start, end) holding `table` and its sub-tables; comments and blank lines just
    before the next table belong to that one and stay."""
    start = None
    for i, line in enumerate(lines):
        if _header_path(line) == table:
            start = i
            break
    if start is None:
        return None, 0
    end = len(lines)
    for i in range(start + 1, len(lines)):
        path = _header_path(lines[i])
        if path is not None and path[:len(table)] != table:
            end = i
            break
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return start, end
