"""Reading the JSON a model output holds, and naming a place inside it ($.items[0].name).

Shared by the JSON checks, the schema validation of a check's own config, and consistency (which
compares a JSON field across samples).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

FENCE = re.compile(r"^```[A-Za-z]*[ \t]*\n(.*?)\n?```$", re.DOTALL)


def json_path(parts: Sequence[Any]) -> str:
    path = "$"
    for p in parts:
        if isinstance(p, int):
            path += f"[{p}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(p)):
            path += f".{p}"
        else:
            path += f"[{json.dumps(p)}]"
    return path


def parse_json_output(output: str, allow_fence: bool = True) -> Any:
    """The JSON value an output holds; with ``allow_fence``, an output that is exactly one
    ```json fenced block counts too (chat models add fences unasked). Raises ValueError with a
    reason a user reads. Prose around the JSON is not accepted: a program reading it would fail."""
    text = output.strip()
    fenced = FENCE.match(text)
    if fenced and allow_fence:
        text = fenced.group(1)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        hint = " (a ```json fence is not allowed by this check)" if fenced else ""
        where = f"at line {e.lineno} column {e.colno}"
        raise ValueError(f"not valid JSON{hint}: {e.msg} {where}") from e
