"""Reading the source files of an import: YAML, JSON, JSONL, CSV and plain text, with every
error naming the file and the place (YAML and JSON errors carry their line), and `file://`
references resolved the way the tools that wrote them resolve them (relative to the config).
"""

from __future__ import annotations

import csv
import glob
import io
import json
from pathlib import Path
from typing import Any

import yaml

from lab.core.importers.report import ImportFileError

FILE_PREFIX = "file://"


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path}: is a folder, not a file.") from None
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8.") \
            from None
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot be read ({exc.strerror}).") from None


def parse_yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "malformed"
        raise ImportFileError(f"{source}{where}: not valid YAML: {problem}.") from None
    except yaml.YAMLError as exc:
        raise ImportFileError(f"{source}: not valid YAML: {exc}.") from None


def load_yaml(path: Path) -> Any:
    return parse_yaml(read_text(path), str(path))


def parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"{source}, line {exc.lineno}, column {exc.colno}: not valid JSON: "
                              f"{exc.msg}.") from None


def load_json(path: Path) -> Any:
    return parse_json(read_text(path), str(path))


def load_jsonl(path: Path) -> list[tuple[int, Any]]:
    """(line number, value) of every non-blank line."""
    rows = []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"{path}, line {number}: not valid JSON: {exc.msg} at column "
                                  f"{exc.colno}.") from None
    return rows


def load_csv(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of every data row; the first row is the header."""
    text = read_text(path)
    reader = csv.DictReader(io.StringIO(text), delimiter="\t" if path.suffix == ".tsv" else ",")
    rows = []
    try:
        for row in reader:
            if None in row:
                raise ImportFileError(f"{path}, line {reader.line_num}: more cells than the "
                                      "header has columns; check for an unquoted comma.")
            rows.append((reader.line_num, {k.strip(): v or "" for k, v in row.items()}))
    except csv.Error as exc:
        raise ImportFileError(f"{path}, line {reader.line_num}: malformed CSV ({exc}).") from None
    return rows


def load_data(path: Path) -> Any:
    """A .yaml/.yml/.json file's value."""
    if path.suffix.lower() == ".json":
        return load_json(path)
    return load_yaml(path)


def is_file_ref(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FILE_PREFIX)


def resolve(ref: str, base: Path) -> list[Path]:
    """The files a `file://` reference names, relative to `base` (a glob may name several);
    a `:function` suffix (a function in a script) is kept off the path."""
    name = ref.removeprefix(FILE_PREFIX)
    path_part, colon, function = name.rpartition(":")
    if colon and "/" not in function and "\\" not in function and path_part and \
            not (len(path_part) == 1 and path_part.isalpha()):  # not a Windows drive letter
        name = path_part
    path = Path(name).expanduser()
    path = path if path.is_absolute() else base / path
    if any(ch in name for ch in "*?["):
        return [Path(p) for p in sorted(glob.glob(str(path), recursive=True))]
    return [path]


def function_of(ref: str) -> str | None:
    """The `:function` of a `file://script.py:function` reference, if any."""
    name = ref.removeprefix(FILE_PREFIX)
    path_part, colon, function = name.rpartition(":")
    if colon and path_part and function and "/" not in function and len(path_part) > 1:
        return function
    return None
