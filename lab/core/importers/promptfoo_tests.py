"""promptfoo tests (inline, or `file://` CSV, JSONL, YAML and JSON files; `vars` with `file://`
values and lists; `description`; `assert`; `defaultTest`) as the lab's test-case rows.

A var given as a list runs the test once per value (several lists: every combination), as in
promptfoo. A `file://` var is the file's text; a script var (.py, .js) or an image is reported.
In CSV files the `__expected` columns are assertions in promptfoo's short form (`contains: x`,
`grade: rubric`, or a plain value meaning equals) and `__description` names the test.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.core.importers.report import ImportReport
from lab.core.importers.sources import (
    is_file_ref,
    load_csv,
    load_data,
    load_jsonl,
    read_text,
    resolve,
)

_SCRIPTS = (".py", ".js", ".ts", ".mjs", ".cjs")
_BINARY = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf", ".mp3", ".wav", ".mp4")
_SHORT = re.compile(r"^(not-)?([a-z][a-z-]*)(?:\(([\d.]+)\))?:\s?(.*)$", re.DOTALL)
_SHORT_ALIASES = {"grade": "llm-rubric", "fn": "javascript", "eval": "javascript"}
_SHORT_BARE = {"is-json", "contains-json", "is-xml", "contains-xml", "is-sql", "contains-sql",
               "is-html", "contains-html"}
TEST_KEYS = {"description", "vars", "assert", "options"}


@dataclass
class Test:
    where: str
    description: str
    vars: dict[str, Any]
    asserts: list[tuple[str, Any]] = field(default_factory=list)  # (where, raw assertion)
    judge: Any = None  # options.provider: who grades its model-graded assertions


def short_assertion(text: str) -> dict[str, Any]:
    """promptfoo's one-cell assertion: `contains: x`, `not-icontains: y`, `similar(0.8): z`,
    `grade: rubric`, `is-json`; anything else means the output equals the text."""
    stripped = text.strip()
    if stripped in _SHORT_BARE or (stripped.startswith("not-") and stripped[4:] in _SHORT_BARE):
        return {"type": stripped}
    m = _SHORT.match(text)
    if m:
        negate, kind, threshold, value = m.groups()
        kind = _SHORT_ALIASES.get(kind, kind)
        result: dict[str, Any] = {"type": f"{negate or ''}{kind}", "value": value}
        if threshold:
            result["threshold"] = float(threshold)
        return result
    return {"type": "equals", "value": text}


def read_tests(raw: Any, base: Path, report: ImportReport, where: str = "tests") -> list[Test]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    tests: list[Test] = []
    for i, item in enumerate(items, start=1):
        here = f"{where}[{i}]" if isinstance(raw, list) else where
        if is_file_ref(item):
            for path in resolve(item, base) or []:
                tests += _from_file(path, f"{here} ({path.name})", report)
            if not resolve(item, base):
                report.skip(here, f"tests {item}", "no file matches it", item)
        elif isinstance(item, dict):
            test = _test(item, here, base, report)
            if test is not None:
                tests.append(test)
        else:
            report.skip(here, "test", "a test is an object with vars and assert, or a file://",
                        item)
    return tests


def _from_file(path: Path, where: str, report: ImportReport) -> list[Test]:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return [_csv_test(row, f"{where} line {line}", report) for line, row in load_csv(path)]
    if suffix == ".jsonl":
        rows = [(f"{where} line {line}", value) for line, value in load_jsonl(path)]
    elif suffix in (".yaml", ".yml", ".json"):
        value = load_data(path)
        values = value if isinstance(value, list) else [value]
        rows = [(f"{where}[{n}]", v) for n, v in enumerate(values, start=1)]
    else:
        report.skip(where, f"tests {path.name}", f"the lab reads tests from CSV, JSONL, YAML and "
                    f"JSON files, not '{suffix}'", str(path))
        return []
    tests = []
    for here, value in rows:
        if isinstance(value, dict):
            test = _test(value, here, path.parent, report)
            if test is not None:
                tests.append(test)
        else:
            report.skip(here, "test", "not an object", value)
    return tests


def _csv_test(row: dict[str, str], where: str, report: ImportReport) -> Test:
    test = Test(where, row.get("__description", ""), {})
    for column, value in row.items():
        if column.startswith("__expected"):
            if value.strip():
                test.asserts.append((f"{where}.{column}", short_assertion(value)))
        elif column == "__description":
            continue
        elif column.startswith("__"):
            if value.strip():
                report.skip(f"{where}.{column}", f"column {column}", "a promptfoo-only column "
                            "(prefix, suffix, metric, threshold, metadata, config) has no lab "
                            "equivalent", value)
        else:
            test.vars[column] = value
    return test


def _test(item: dict[str, Any], where: str, base: Path, report: ImportReport) -> Test | None:
    test = Test(where, str(item.get("description", "") or ""), {})
    variables = item.get("vars", {})
    if is_file_ref(variables):
        variables = load_data(resolve(variables, base)[0])
    if not isinstance(variables, dict):
        report.skip(f"{where}.vars", "vars", "vars must be a mapping of names to values",
                    variables)
        variables = {}
    for name, value in variables.items():
        loaded = var_value(value, base, f"{where}.vars.{name}", report)
        if loaded is not None:
            test.vars[str(name)] = loaded
    asserts = item.get("assert") or []
    for n, a in enumerate(asserts if isinstance(asserts, list) else [asserts], start=1):
        test.asserts.append((f"{where}.assert[{n}]", a))
    options = item.get("options") or {}
    if isinstance(options, dict):
        for key, value in options.items():
            if key == "provider":
                test.judge = value
            else:
                report.skip(f"{where}.options.{key}", f"test option '{key}'", "the lab has no "
                            "per-test options (transforms, prefixes and grader prompts)",
                            {key: value})
    for key in sorted(set(item) - TEST_KEYS):
        report.skip(f"{where}.{key}", f"test field '{key}'", "not part of a lab test case "
                    "(per-test thresholds, metadata and providers have no lab equivalent)",
                    {key: item[key]})
    return test


def var_value(value: Any, base: Path, where: str, report: ImportReport) -> Any:
    """A var's value; a `file://` is read (text files), a list is kept for `expand`."""
    if isinstance(value, list):
        return [var_value(v, base, where, report) for v in value]
    if not is_file_ref(value):
        return value
    paths = resolve(value, base)
    suffix = paths[0].suffix.lower() if paths else ""
    if suffix in _SCRIPTS:
        report.skip(where, f"var {value}", "a script var runs code of its own; the lab's test "
                    "cases hold values", value)
        return None
    if suffix in _BINARY:
        report.skip(where, f"var {value}", "images, audio and documents are not text; the lab "
                    "sends text prompts", value)
        return None
    return read_text(paths[0]) if paths else value


def expand(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The var sets a test runs with: one per combination of its list values."""
    names = [n for n, v in values.items() if isinstance(v, list)]
    if not names:
        return [dict(values)]
    combos = itertools.product(*(values[n] for n in names))
    return [{**values, **dict(zip(names, combo))} for combo in combos]
