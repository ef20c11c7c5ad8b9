"""Reading an experiment file's tables with errors that name the file, the line and the field.

`TableReader` checks keys (suggesting the closest allowed one for a typo) and types, and
`locate` finds the line of a field path such as `variants[2].model` or `documents[1].path` by
reading lines, so every later check (a missing variable, an unknown provider) can point at it too.
"""

from __future__ import annotations

import difflib
import re
from typing import Any


class ExperimentFileError(Exception):
    """A problem in an experiment file; the message names the file, line or field, and the fix."""


class TableReader:
    def __init__(self, source: str, text: str = ""):
        self.source = source
        self.file_text = text

    def fail(self, where: str, message: str, at: str | None = None) -> ExperimentFileError:
        """An error naming the file, the line of `at` (default: `where`) and the field."""
        line = locate(self.file_text, at or where)
        place = f"{self.source}, line {line}" if line else self.source
        return ExperimentFileError(f"{place}: {where}: {message}")

    def check_keys(self, table: dict[str, Any], allowed: set[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else (
                    f"; allowed keys are {', '.join(sorted(allowed))}"
                )
                at = key if where == "top level" else f"{where}.{key}"
                raise self.fail(where, f"unknown key '{key}'{hint}", at=at)

    def text(self, table: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = table.get(key, default)
        if value is None:
            raise self.fail(where, f"'{key}' is required")
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", f"must be text, not {type(value).__name__}")
        return value


_HEADER = re.compile(r"^\s*\[")
_PATH = re.compile(r"^(variants|checks|documents)\[(\d+)\](?:\.(\w+))?|^(providers)\.([\w-]+)(?:\.(\w+))?"
                   r"|^(cases)(?:\.(\w+))?|^(\w+)$")


def locate(text: str, where: str) -> int | None:
    """The 1-based line of a field path (`variants[2].model`, `providers.local.kind`,
    `cases.file`, `samples`) in an experiment file's text, or None when it cannot be found.

    It reads lines, not the TOML grammar: good enough to point at the header or `key =` line,
    and it falls back to the table's header (or to None) rather than guess.
    """
    m = _PATH.match(where)
    if not text or not m:
        return None
    lines = text.splitlines()
    if m.group(1):  # [[variants]] / [[checks]]: the n-th header
        header = re.compile(r"^\s*\[\[\s*" + m.group(1) + r"\s*\]\]")
        starts = [i for i, line in enumerate(lines) if header.match(line)]
        index = int(m.group(2)) - 1
        if not 0 <= index < len(starts):
            return None
        return _key_line(lines, starts[index], m.group(3))
    if m.group(4):
        name = re.escape(m.group(5))
        header = re.compile(r'^\s*\[\s*providers\s*\.\s*("?)' + name + r'\1\s*\]')
        key = m.group(6)
    elif m.group(7):
        header, key = re.compile(r"^\s*\[\s*cases\s*\]"), m.group(8)
    else:  # a top-level key: before the first table header
        key_re = re.compile(r"^\s*" + re.escape(m.group(9)) + r"\s*=")
        for i, line in enumerate(lines):
            if _HEADER.match(line):
                break
            if key_re.match(line):
                return i + 1
        return None
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    return None if start is None else _key_line(lines, start, key)


def _key_line(lines: list[str], start: int, key: str | None) -> int:
    if key:
        key_re = re.compile(r'^\s*"?' + re.escape(key) + r'"?\s*=')
        for i in range(start + 1, len(lines)):
            if _HEADER.match(lines[i]):
                break
            if key_re.match(lines[i]):
                return i + 1
    return start + 1
