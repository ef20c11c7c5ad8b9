"""Test cases from files: CSV (with a header row) and JSONL (one JSON object per line).

Columns become template variables. A column named `label` (or `_label`) names the case instead.
Problems are collected per row, each naming the file and line, so an import dialog can show all of
them at once; nothing bad is skipped silently.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from lab.core.model import TestCase

LABEL_COLUMNS = ("label", "_label")


@dataclass
class RowProblem:
    line: int
    message: str

    def describe(self, source: str) -> str:
        return f"{source}, line {self.line}: {self.message}"


@dataclass
class CasesImport:
    """What an import found: the cases it could read and a problem for each row it could not."""

    source: str
    cases: list[TestCase] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def messages(self) -> list[str]:
        return [p.describe(self.source) for p in self.problems]


class CasesFileError(Exception):
    """The file as a whole cannot be read (missing, unknown type, not text)."""


def case_from_mapping(values: dict[str, object]) -> TestCase:
    label = ""
    vars_: dict[str, str] = {}
    for key, value in values.items():
        if key in LABEL_COLUMNS:
            label = "" if value is None else str(value)
            continue
        if value is None:
            text = ""
        elif isinstance(value, str):
            text = value
        else:
            # Nested JSON values reach the template as JSON text, which is what a prompt wants.
            text = json.dumps(value, ensure_ascii=False)
        vars_[str(key)] = text
    return TestCase(vars=vars_, label=label)


def parse_csv(text: str, source: str = "<pasted>", delimiter: str | None = None) -> CasesImport:
    result = CasesImport(source=source)
    if not text.strip():
        result.problems.append(RowProblem(1, "the file is empty; add a header row of column names"))
        return result
    if delimiter is None:
        # Spreadsheets paste tab-separated text; files are usually commas.
        first = text.splitlines()[0]
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        result.problems.append(RowProblem(1, f"cannot read the header row ({exc})"))
        return result
    header = [h.strip() for h in header]
    blanks = [i + 1 for i, h in enumerate(header) if not h]
    if blanks:
        result.problems.append(
            RowProblem(1, f"column {blanks[0]} of the header has no name; name every column")
        )
        return result
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        result.problems.append(RowProblem(1, f"duplicate column name(s): {', '.join(dupes)}"))
        return result
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.problems.append(RowProblem(reader.line_num, f"malformed CSV ({exc})"))
            break
        if not any(cell.strip() for cell in row):
            continue  # a blank line between rows is not a test case
        if len(row) != len(header):
            result.problems.append(
                RowProblem(
                    reader.line_num,
                    f"has {len(row)} cells but the header has {len(header)} columns; "
                    "check for an unquoted comma or a missing cell",
                )
            )
            continue
        result.cases.append(case_from_mapping(dict(zip(header, row))))
    return result


def parse_jsonl(text: str, source: str = "<pasted>") -> CasesImport:
    result = CasesImport(source=source)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            result.problems.append(
                RowProblem(number, f"is not valid JSON ({exc.msg} at column {exc.colno})")
            )
            continue
        if not isinstance(value, dict):
            result.problems.append(
                RowProblem(number, "must be a JSON object like {\"question\": \"...\"}")
            )
            continue
        result.cases.append(case_from_mapping(value))
    if not result.cases and not result.problems:
        result.problems.append(RowProblem(1, "the file has no rows"))
    return result


def load(path: str | Path) -> CasesImport:
    """Read test cases from a .csv, .tsv, .jsonl or .ndjson file."""
    file_path = Path(path)
    suffix = file_path.suffix.lower()
    if suffix not in {".csv", ".tsv", ".jsonl", ".ndjson"}:
        raise CasesFileError(
            f"{file_path}: test cases must be a .csv, .tsv or .jsonl file (got '{suffix or 'none'}')."
        )
    try:
        text = file_path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise CasesFileError(f"{file_path}: no such file.") from exc
    except UnicodeDecodeError as exc:
        raise CasesFileError(
            f"{file_path}: not UTF-8 text (byte {exc.start}); save it as UTF-8 and try again."
        ) from exc
    except OSError as exc:
        raise CasesFileError(f"{file_path}: cannot be read ({exc.strerror}).") from exc
    if suffix in {".jsonl", ".ndjson"}:
        return parse_jsonl(text, str(file_path))
    return parse_csv(text, str(file_path), delimiter="\t" if suffix == ".tsv" else ",")


def parse_paste(text: str, columns: list[str]) -> CasesImport:
    """Rows pasted from a spreadsheet into a table that already has `columns`.

    A first row that names known columns (or any row, when the table has none yet) is a header.
    Without a header, cells fill the existing columns in order, so copying just the data rows
    of a sheet works, as long as the number of cells matches.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return CasesImport(source="pasted text", problems=[RowProblem(1, "nothing to paste")])
    delimiter = "\t" if "\t" in lines[0] else ","
    first = [cell.strip() for cell in next(csv.reader([lines[0]], delimiter=delimiter))]
    known = set(columns) | set(LABEL_COLUMNS)
    has_header = not columns or all(cell in known for cell in first)
    if has_header:
        return parse_csv("\n".join(lines), "pasted text", delimiter=delimiter)
    if len(first) != len(columns):
        return CasesImport(source="pasted text", problems=[RowProblem(
            1, f"has {len(first)} cells but the table has {len(columns)} variables "
               f"({', '.join(columns)}); copy the header row too, so each cell finds its column")])
    header = delimiter.join(columns)
    return parse_csv(header + "\n" + "\n".join(lines), "pasted text", delimiter=delimiter)
