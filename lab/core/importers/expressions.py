"""Python expressions for the lab's `python` check, built from other tools' assertions.

The lab's expressions see `output` (text), `vars` (the test case's values, as text), `json`, `re`,
`math` and a short list of builtins (`lab.core.checks.expression`). promptfoo's one-line Python
assertions see `output` and `context` (`context['vars']` is the lab's `vars`); an Evals Python
grader is a function `grade(sample, item)` (`sample['output_text']` is `output`, `item['x']` is
`vars['x']`). An expression converts when, after those renamings, it reads nothing else.
"""

from __future__ import annotations

import ast
import builtins
import textwrap
from typing import Any

from lab.core.checks.expression import NAMES
from lab.core.experiment.template import variable_spans

KNOWN = NAMES
_ALL_BUILTINS = set(dir(builtins))


class NotAnExpression(ValueError):
    """The code cannot become a lab expression; the message says why."""


def literal(value: Any) -> str:
    return repr(value)


def var(name: str) -> str:
    return f"vars[{name!r}]"


def template_expr(text: str) -> str:
    """A lab `{{variable}}` template as an expression giving the rendered text."""
    pieces, at = [], 0
    for start, end, name in variable_spans(text):
        if start > at:
            pieces.append(literal(text[at:start]))
        pieces.append(var(name))
        at = end
    if at < len(text) or not pieces:
        pieces.append(literal(text[at:]))
    return " + ".join(pieces)


def _free_names(tree: ast.AST) -> list[str]:
    names = [n for n in ast.walk(tree) if isinstance(n, ast.Name)]
    bound = {n.id for n in names if isinstance(n.ctx, ast.Store)}
    bound |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.Lambda) for a in n.args.args}
    loads = [n.id for n in names if isinstance(n.ctx, ast.Load)]
    return list(dict.fromkeys(n for n in loads if n not in bound and n not in KNOWN))


def _check(tree: ast.expr, where: str) -> str:
    free = _free_names(tree)
    if free:
        missing = ", ".join(free)
        kind = "builtins the lab's expressions leave out" if all(
            n in _ALL_BUILTINS for n in free) else "names the lab's expressions do not have"
        raise NotAnExpression(f"{where} uses {missing} ({kind}: only output, vars, json, re, math "
                              "and simple builtins)")
    return ast.unparse(tree)


def _key(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class _Renamer(ast.NodeTransformer):
    """Rewrites `context['vars']` (promptfoo) or `sample[...]`/`item[...]` (Evals)."""

    def __init__(self, evals: bool):
        self.evals = evals

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        node = self.generic_visit(node)  # type: ignore[assignment]
        if not isinstance(node.value, ast.Name):
            return node
        name, key = node.value.id, _key(node.slice)
        if not self.evals and name == "context" and key == "vars":
            return ast.Name("vars", ast.Load())
        if self.evals and name == "sample" and key == "output_text":
            return ast.Name("output", ast.Load())
        if self.evals and name == "sample" and key == "output_json":
            return ast.parse("json.loads(output)", mode="eval").body
        if self.evals and name == "item" and key is not None:
            return ast.Subscript(ast.Name("vars", ast.Load()), ast.Constant(key), ast.Load())
        return node


def promptfoo_python(code: str) -> str:
    """promptfoo's inline Python assertion (an expression, or a body that is one `return`)."""
    text = textwrap.dedent(code).strip()
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if len(lines) == 1 and lines[0].strip().startswith("return "):
        text = lines[0].strip().removeprefix("return ")
    elif len(lines) != 1:
        raise NotAnExpression("it is a multi-line function body; the lab's python check takes "
                              "one expression")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise NotAnExpression(f"it is not a Python expression ({exc.msg})") from None
    return _check(_Renamer(evals=False).visit(tree.body), "it")


def evals_python(source: str) -> str:
    """An Evals Python grader whose `grade(sample, item)` is a single `return EXPRESSION`."""
    try:
        module = ast.parse(textwrap.dedent(source))
    except SyntaxError as exc:
        raise NotAnExpression(f"the source is not valid Python ({exc.msg}, line {exc.lineno})") \
            from None
    functions = [n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == "grade"]
    others = [n for n in module.body if not (isinstance(n, ast.FunctionDef) and n.name == "grade")
              and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    if not functions or others:
        raise NotAnExpression("the source is more than one function grade(sample, item) (imports, "
                              "helpers or module code cannot go into one expression)")
    body = [n for n in functions[0].body
            if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    params = [a.arg for a in functions[0].args.args]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        raise NotAnExpression("grade() is more than one return statement; the lab's python check "
                              "takes one expression")
    if params[:2] != ["sample", "item"]:
        raise NotAnExpression(f"grade() takes ({', '.join(params)}), not (sample, item)")
    return _check(_Renamer(evals=True).visit(body[0].value), "grade()")
