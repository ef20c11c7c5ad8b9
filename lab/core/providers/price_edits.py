"""Editing the user's price file: add or replace one model's entry (what an "add price" button
calls), keeping the rest of the file, comments included, as it was."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import Any

import tomli_w

from lab.core.providers.price_entries import (
    RATE_FIELDS,
    ModelPrice,
    PriceTableError,
    default_prices_path,
)
from lab.core.providers.price_file import header_path, parse_price_text


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
    for name in ("since", "retires", *RATE_FIELDS, "batch_discount"):
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
            for name in (*RATE_FIELDS, "batch_discount"):
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
        written = parse_price_text(user_path, new_text)
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
        if header_path(line) == table:
            start = i
            break
    if start is None:
        return None, 0
    end = len(lines)
    for i in range(start + 1, len(lines)):
        path = header_path(lines[i])
        if path is not None and path[:len(table)] != table:
            end = i
            break
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return start, end
