"""Validate a dataset file that is already on disk against a target's rules.

The same per-record rules `plan_export` applies before writing, applied to a file as it is: the
lab's own exports (the tests read every written file back through this) or a file made or
edited elsewhere. Problems name the file and line: a line that is not UTF-8, not JSON, or not
one JSON object is reported there and checking goes on with the next line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lab.core.export.registry import get_format
from lab.core.export.target import Kind
from lab.core.export.validation import Problem, Report, error


def _jsonl(path: Path) -> Iterator[tuple[int, Any, Problem | None]]:
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield number, None, error("file.utf8", "The line is not UTF-8.",
                                          "Save the file as UTF-8.")
                continue
            if not text.strip():
                yield number, None, error("file.blank-line", "The line is blank.",
                                          "Remove blank lines; every line is one example.")
                continue
            try:
                yield number, json.loads(text), None
            except json.JSONDecodeError as exc:
                yield number, None, error("file.json", f"The line is not JSON ({exc.msg}).",
                                          "Write one JSON object per line.")


def _json_array(path: Path) -> Iterator[tuple[int, Any, Problem | None]]:
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        yield 1, None, error("file.json", f"The file is not a JSON document ({exc}).",
                             "Write the records as one JSON array.")
        return
    if not isinstance(records, list):
        yield 1, None, error("file.array", "The file is not a JSON array.",
                             "Write the records as a JSON array: [{...}, {...}].")
        return
    for index, record in enumerate(records):
        yield index + 2, record, None  # one record per line after the opening "["


def _csv(path: Path) -> Iterator[tuple[int, Any, Problem | None]]:
    with open(path, encoding="utf-8", newline="") as handle:
        for row, record in enumerate(csv.DictReader(handle), 1):
            yield row, record, None


def check_file(path: str | Path, format_name: str, kind: Kind | None = None) -> Report:
    """The problems of every record of `path` under the format's per-record rules."""
    target = get_format(format_name)
    kind = kind or target.kinds[0]
    path = Path(path)
    read = {"jsonl": _jsonl, "json-array": _json_array, "csv": _csv}[target.layout]
    report = Report()
    for line, record, problem in read(path):
        found = [problem] if problem else list(target.check(record, kind))
        for p in found:
            report.add(Problem(p.severity, p.rule, p.message, p.fix, file=path.name, line=line))
    return report
