"""Templates of other tools to the lab's `{{variable}}` (see `lab.core.experiment.template`).

Nunjucks (promptfoo): `{{ name }}` is the lab's own syntax; `{{ a.b }}` and `{{ a[0] }}` read
inside an object, which the lab spells as a column named `a.b` / `a.0` (the cases are flattened to
match, `dotted`); `{# comments #}` are dropped, as Nunjucks drops them. Filters
(`{{ x | upper }}`), expressions and tags (`{% if %}`, `{% for %}`) have no lab equivalent: they
are listed in `problems`, with the original text, and left as written.

OpenAI Evals (`{{ item.question }}`, `{{ sample.output_text }}`): `rewrite` maps each
`namespace.path` through a function the importer gives.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lab.core.experiment.template import render, variables

_SPAN = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}|\{#(.*?)#\}", re.DOTALL)
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*"
                   r"(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]|\[(['\"])[^'\"\]]+\1\])*")
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[['\"]([^'\"\]]+)['\"]\]")
_IDENTITY_FILTERS = {"safe"}  # no effect on text: autoescaping is off in promptfoo


@dataclass
class Converted:
    text: str
    problems: list[str] = field(default_factory=list)  # original spans the lab cannot express
    dotted: set[str] = field(default_factory=set)  # `a.b` column names read inside an object

    @property
    def names(self) -> list[str]:
        return variables(self.text)


def path_name(path: str) -> str:
    """`a.b[0]['c']` as the lab column name `a.b.0.c`."""
    head = re.match(r"[A-Za-z_][A-Za-z0-9_]*", path)
    assert head is not None
    parts = [head.group(0)]
    for m in _STEP.finditer(path, head.end()):
        parts.append(next(g for g in m.groups() if g is not None))
    return ".".join(parts)


def _expression_name(inner: str) -> str | None:
    pieces = [p.strip() for p in inner.split("|")]
    if not _PATH.fullmatch(pieces[0]) or any(p not in _IDENTITY_FILTERS for p in pieces[1:]):
        return None
    return path_name(pieces[0])


def nunjucks(text: str) -> Converted:
    """A promptfoo (Nunjucks) template in the lab's syntax, with what could not be expressed."""
    result = Converted(text)
    if "{" not in text:
        return result

    def replace(m: re.Match[str]) -> str:
        expression, tag, comment = m.groups()
        if comment is not None:
            return ""
        if tag is not None:
            result.problems.append(m.group(0))
            return m.group(0)
        name = _expression_name(expression)
        if name is None:
            result.problems.append(m.group(0))
            return m.group(0)
        if "." in name:
            result.dotted.add(name)
        return "{{" + name + "}}"

    result.text = _SPAN.sub(replace, text)
    return result


def rewrite(text: str, mapping: Callable[[str], str | None]) -> Converted:
    """Each `{{ path }}` replaced by `mapping(path)` (the lab text to put there); a path the
    mapping refuses (None), and anything that is not a plain path, is a problem left as written."""
    result = Converted(text)

    def replace(m: re.Match[str]) -> str:
        expression = m.group(1)
        if expression is None or not _PATH.fullmatch(expression.strip()):
            result.problems.append(m.group(0))
            return m.group(0)
        lab_text = mapping(path_name(expression.strip()))
        if lab_text is None:
            result.problems.append(m.group(0))
            return m.group(0)
        return lab_text

    result.text = _SPAN.sub(replace, text)
    return result


def render_known(text: str, values: dict[str, str]) -> str:
    """`text` with its variables filled from `values` when every one has a value; as written
    otherwise (the run renders it then)."""
    if not variables(text) or any(n not in values for n in variables(text)):
        return text
    return render(text, values)
