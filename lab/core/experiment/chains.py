"""A chain variant in an experiment file: `[[variants.steps]]` tables, one per step, in order.

    [[variants]]
    name = "extract then answer"
    model = "openai/gpt-4o-mini"          # the steps' model unless a step names its own

    [[variants.steps]]
    name = "extract"
    system = "List the facts the question needs, as JSON."
    user = "{{question}}"
    response_format = "json"

    [[variants.steps]]
    name = "answer"
    user = "Facts: {{steps.extract}}\\n\\nAnswer: {{question}}"

A step's output is `{{steps.NAME}}` in the steps after it, and when it is a JSON object each
field is `{{steps.NAME.field}}`. The last step's output is the variant's.
"""

from __future__ import annotations

import re
from typing import Any

from lab.core.experiment.reader import TableReader
from lab.core.model import Step

STEP_KEYS = {"name", "user", "system", "model", "params"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def read_steps(reader: TableReader, raw: Any, where: str,
               param_keys: dict[str, tuple[type, ...]]) -> list[Step]:
    where = f"{where}.steps"
    if not isinstance(raw, list) or not raw:
        raise reader.fail(where, "must be written as [[variants.steps]] tables, at least one")
    steps: list[Step] = []
    for index, table in enumerate(raw, start=1):
        here = f"{where}[{index}]"
        if not isinstance(table, dict):
            raise reader.fail(where, f"step {index} must be a table with a name and a user message")
        reader.check_keys(table, STEP_KEYS | set(param_keys), here)
        name = reader.text(table, "name", here)
        if not _NAME.fullmatch(name):
            raise reader.fail(f"{here}.name", f"'{name}' cannot be used in {{{{steps.{name}}}}}; "
                                              "use letters, digits, _ and -")
        if name in {s.name for s in steps}:
            raise reader.fail(f"{here}.name", f"'{name}' is used twice")
        model = reader.text(table, "model", here, default="")
        if model and "/" not in model:
            raise reader.fail(f"{here}.model", f"'{model}' needs a provider in front, like "
                                               f"'openai/{model}'")
        params = table.get("params", {})
        if not isinstance(params, dict):
            raise reader.fail(f"{here}.params", "must be a table, e.g. params = { temperature = 0 }")
        params = dict(params)
        for key, types in param_keys.items():
            if key in table:
                value = table[key]
                if isinstance(value, bool) or not isinstance(value, types):
                    raise reader.fail(f"{here}.{key}", f"has the wrong type ({type(value).__name__})")
                params[key] = value
        steps.append(Step(name=name, user=reader.text(table, "user", here),
                          system=reader.text(table, "system", here, default=""), model=model,
                          params=params))
    return steps


def steps_data(steps: list[Step], param_keys: dict[str, tuple[type, ...]]) -> list[dict[str, Any]]:
    tables = []
    for step in steps:
        table: dict[str, Any] = {"name": step.name}
        if step.system:
            table["system"] = step.system
        table["user"] = step.user
        if step.model:
            table["model"] = step.model
        extra = {}
        for key, value in step.params.items():
            types = param_keys.get(key)
            if value is None:
                continue
            if types and isinstance(value, types) and not isinstance(value, bool):
                table[key] = value
            else:
                extra[key] = value
        if extra:
            table["params"] = extra
        tables.append(table)
    return tables
