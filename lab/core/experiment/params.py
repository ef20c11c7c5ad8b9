"""Model parameters in an experiment file: the ones written directly on a variant or a chain's
step (`temperature = 0.2`), the rest in `params = { ... }`; read and written the same way for
both."""

from __future__ import annotations

from typing import Any

from lab.core.experiment.reader import TableReader

# Parameters that may be written directly on a variant, as a shorthand for `params = {...}`.
PARAM_KEYS: dict[str, tuple[type, ...]] = {
    "temperature": (int, float),
    "top_p": (int, float),
    "max_tokens": (int,),
    "seed": (int,),
    "stop": (str, list),
    "presence_penalty": (int, float),
    "frequency_penalty": (int, float),
    "response_format": (str, dict),
}


def read_params(reader: TableReader, table: dict[str, Any], where: str) -> dict[str, Any]:
    """`params = {...}` with the shorthand keys of `table` on top, each type-checked."""
    params = table.get("params", {})
    if not isinstance(params, dict):
        raise reader.fail(f"{where}.params", "must be a table, e.g. params = { temperature = 0.2 }")
    params = dict(params)
    for key, types in PARAM_KEYS.items():
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, types):
                raise reader.fail(f"{where}.{key}", f"has the wrong type ({type(value).__name__})")
            params[key] = value
    return params


def write_params(table: dict[str, Any], params: dict[str, Any]) -> None:
    """Into `table`: the shorthand (`temperature = 0.2`) where the reader accepts it, which
    reads best, and anything else in `params = {...}`. Unset (None) values are left out."""
    extra: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        types = PARAM_KEYS.get(key)
        if types and isinstance(value, types) and not isinstance(value, bool):
            table[key] = value
        else:
            extra[key] = value
    if extra:
        table["params"] = extra
