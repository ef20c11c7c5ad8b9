"""The custom Python-expression check: evaluate a user's expression against one output.

The expression sees ``output`` (the model's text), ``vars`` (the test case's values), the modules
``json``, ``re`` and ``math``, and a short list of harmless builtins (``len``, ``any``, ``sorted``,
...). It returns True/False, a number (a score, passing at ``pass_threshold``), or a dict like
``{"pass": True, "score": 0.8, "reason": "..."}``.

This is NOT a security sandbox, and cannot be one (Python offers no safe ``eval``): the missing
builtins keep honest expressions tidy, nothing more; ``().__class__.__base__.__subclasses__()``
still reaches ``os``. So an expression is code, and runs only when its source is trusted: typed
in the window by the user, or from an experiment file the user trusted (``lab.core.run.trust``).

``evaluate`` runs in the calling process, with no time limit. A run evaluates expressions in
worker processes it can stop (``lab.core.checks.workers``): past its time limit, or out of
memory, a check fails and the run goes on.
"""

from __future__ import annotations

import ast
import builtins
import json
import math
import re
from functools import lru_cache
from typing import Any

DEFAULT_TIMEOUT_S = 2.0  # a python check's time limit in a run, unless its 'timeout' says otherwise

_SAFE_BUILTINS = {
    n: getattr(builtins, n)
    for n in "abs all any bool dict enumerate filter float int isinstance len list map max min "
    "range reversed round set sorted str sum tuple zip".split()
}

# Every name an expression can read: what `evaluate` puts in its namespace.
NAMES = frozenset({"output", "vars", "json", "re", "math", *_SAFE_BUILTINS})


@lru_cache(maxsize=256)
def compile_expression(expression: str) -> Any:
    """Compiled code for ``expression``; raises SyntaxError (cached: a run evaluates it often)."""
    return compile(expression, "<check expression>", "eval")


def _shown(expression: str) -> str:
    one_line = expression.replace("\n", " ")
    return "`" + (one_line if len(one_line) <= 80 else one_line[:79] + "…") + "`"


def evaluate(
    expression: str,
    output: str,
    variables: dict[str, Any],
    pass_threshold: float = 0.5,
    *,
    memory_limit: str | None = None,
) -> tuple[bool, float | None, str]:
    """(passed, score, reason). Any exception inside the expression is a failed check whose
    reason carries the exception; it never propagates. A syntax error does (check it first).
    `memory_limit` ("1 GiB"): the limit a MemoryError means, for its reason."""
    code = compile_expression(expression)
    namespace = {
        "__builtins__": _SAFE_BUILTINS,
        "output": output,
        "vars": dict(variables),
        "json": json,
        "re": re,
        "math": math,
    }
    expr = _shown(expression)  # backticks, because expressions are full of quotes
    try:
        value = eval(code, namespace)  # noqa: S307 - the user's own expression; see module doc
    except MemoryError:
        if memory_limit:
            return False, None, f"python check used more than {memory_limit} of memory; stopped"
        return False, None, f"expression {expr} ran out of memory"
    except Exception as e:
        return False, None, f"expression {expr} raised {type(e).__name__}: {e}"
    if isinstance(value, bool):
        return value, None, f"expression {expr} is {value}"
    if isinstance(value, (int, float)):
        ok = value >= pass_threshold
        return ok, float(value), f"expression {expr} gave {value:g} (pass at {pass_threshold:g})"
    if isinstance(value, dict) and ("pass" in value or "passed" in value):
        ok = bool(value.get("pass", value.get("passed")))
        score = value.get("score")
        reason = str(value.get("reason") or f"expression {expr} returned pass={ok}")
        return ok, float(score) if isinstance(score, (int, float)) else None, reason
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:39] + "…"
    return False, None, (
        f"expression {expr} returned {type(value).__name__} {shown}; it must return "
        "True/False, a number, or a dict like {'pass': True, 'reason': '...'}"
    )


def referenced_columns(expression: str) -> set[str] | None:
    """Test-case columns the expression reads as ``vars['x']`` or ``vars.get('x')``; None when it
    uses ``vars`` any other way (then it may read any column)."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return set()
    names: set[str] = set()
    followed: set[int] = set()
    for node in ast.walk(tree):
        target, key = None, None
        if isinstance(node, ast.Subscript):
            target, key = node.value, node.slice
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "get" and node.args:
                target, key = node.func.value, node.args[0]
        if isinstance(target, ast.Name) and target.id == "vars":
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                names.add(key.value)
                followed.add(id(target))
    uses = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "vars"]
    return names if all(id(n) in followed for n in uses) else None
