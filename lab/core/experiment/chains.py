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
from collections.abc import Iterable
from typing import Any

from lab.core.experiment.params import PARAM_KEYS, read_params, write_params
from lab.core.experiment.reader import TableReader
from lab.core.model import Step

STEP_KEYS = {"name", "user", "system", "model", "params"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def read_steps(reader: TableReader, raw: Any, where: str) -> list[Step]:
    where = f"{where}.steps"
    if not isinstance(raw, list) or not raw:
        raise reader.fail(where, "must be written as [[variants.steps]] tables, at least one")
    steps: list[Step] = []
    for index, table in enumerate(raw, start=1):
        here = f"{where}[{index}]"
        if not isinstance(table, dict):
            raise reader.fail(where, f"step {index} must be a table with a name and a user message")
        reader.check_keys(table, STEP_KEYS | set(PARAM_KEYS), here)
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
        steps.append(Step(name=name, user=reader.text(table, "user", here),
                          system=reader.text(table, "system", here, default=""), model=model,
                          params=read_params(reader, table, here)))
    return steps


def steps_data(steps: list[Step]) -> list[dict[str, Any]]:
    tables = []
    for step in steps:
        table: dict[str, Any] = {"name": step.name}
        if step.system:
            table["system"] = step.system
        table["user"] = step.user
        if step.model:
            table["model"] = step.model
        write_params(table, step.params)
        tables.append(table)
    return tables


def step_name_problem(name: str, others: Iterable[str]) -> str | None:
    """Why `name` cannot name a step beside `others` (the chain's other steps), or None."""
    if not _NAME.fullmatch(name):
        return (f"'{name}' cannot be used in {{{{steps.{name}}}}}; use letters, digits, _ and -, "
                "starting with a letter")
    if name in set(others):
        return f"'{name}' is already a step of this chain"
    return None


def new_step_name(others: Iterable[str]) -> str:
    """A name for a new step that no other step has: step2, step3, ..."""
    taken = set(others)
    number = len(taken) + 1
    while f"step{number}" in taken:
        number += 1
    return f"step{number}"
