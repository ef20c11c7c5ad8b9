"""Experiment files: a project described in TOML, so prompts can live in git and run headless.

The format is documented in docs/experiment-file.md. Reading is strict in the way a user wants:
a typo in a key is an error that suggests the right key, a wrong type names the field, and a
TOML syntax error names the line, all before any call is made.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.core import cases_file
from lab.core.model import Check, Example, Project, TestCase, Variant

# Parameters that may be written directly on a variant, as a shorthand for `params = {...}`.
PARAM_KEYS = {
    "temperature": (int, float),
    "top_p": (int, float),
    "max_tokens": (int,),
    "seed": (int,),
    "stop": (str, list),
    "presence_penalty": (int, float),
    "frequency_penalty": (int, float),
    "response_format": (str, dict),
}
TOP_KEYS = {"name", "description", "samples", "providers", "variants", "cases", "checks"}
VARIANT_KEYS = {"name", "model", "system", "examples", "params", *PARAM_KEYS}
EXAMPLE_KEYS = {"user", "assistant", "note", "enabled"}
CASES_KEYS = {"user", "file", "rows"}
PROVIDER_KEYS = {
    "kind", "base_url", "api_key_env", "concurrency", "default_params", "timeouts",
    "max_retries", "local", "extra_headers",
}
PROVIDER_KINDS = {"openai", "anthropic", "gemini", "ollama"}


class ExperimentFileError(Exception):
    """A problem in an experiment file; the message names the file, line or field, and the fix."""


@dataclass
class ExperimentSpec:
    project: Project
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    samples: int = 1
    source: Path | None = None


class _Reader:
    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, message: str) -> ExperimentFileError:
        return ExperimentFileError(f"{self.source}: {where}: {message}")

    def check_keys(self, table: dict[str, Any], allowed: set[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else (
                    f"; allowed keys are {', '.join(sorted(allowed))}"
                )
                raise self.fail(where, f"unknown key '{key}'{hint}")

    def text(self, table: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = table.get(key, default)
        if value is None:
            raise self.fail(where, f"'{key}' is required")
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", f"must be text, not {type(value).__name__}")
        return value


def loads(text: str, source: str = "<experiment>", base_dir: Path | None = None) -> ExperimentSpec:
    reader = _Reader(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already carries "(at line N, column M)".
        raise ExperimentFileError(f"{source}: not valid TOML: {exc}") from exc
    reader.check_keys(data, TOP_KEYS, "top level")
    project = Project(
        name=reader.text(data, "name", "top level"),
        description=reader.text(data, "description", "top level", default=""),
    )
    samples = data.get("samples", 1)
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
        raise reader.fail("samples", "must be a whole number of at least 1")

    providers = _read_providers(reader, data.get("providers", {}))
    variants = data.get("variants")
    if not isinstance(variants, list) or not variants:
        raise reader.fail("variants", "add at least one [[variants]] table with a name and model")
    seen: set[str] = set()
    for index, table in enumerate(variants, start=1):
        variant = _read_variant(reader, table, f"variants[{index}]")
        if variant.name in seen:
            raise reader.fail(f"variants[{index}].name", f"'{variant.name}' is used twice")
        seen.add(variant.name)
        project.variants.append(variant)

    cases = data.get("cases", {})
    if not isinstance(cases, dict):
        raise reader.fail("cases", "must be a table: [cases] with user = ... and rows or file")
    reader.check_keys(cases, CASES_KEYS, "cases")
    project.user_template = reader.text(cases, "user", "cases", default="{{input}}")
    project.cases = _read_cases(reader, cases, base_dir)

    checks = data.get("checks", [])
    if not isinstance(checks, list):
        raise reader.fail("checks", "must be written as [[checks]] tables")
    for index, table in enumerate(checks, start=1):
        where = f"checks[{index}]"
        if not isinstance(table, dict):
            raise reader.fail(where, "must be a table with a 'type'")
        kind = reader.text(table, "type", where)
        config = {k: v for k, v in table.items() if k not in {"type", "name"}}
        project.checks.append(
            Check(type=kind, name=reader.text(table, "name", where, default=""), config=config)
        )
    return ExperimentSpec(project=project, providers=providers, samples=samples)


def load(path: str | Path) -> ExperimentSpec:
    file_path = Path(path)
    try:
        text = file_path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ExperimentFileError(f"{file_path}: no such file.") from exc
    except UnicodeDecodeError as exc:
        raise ExperimentFileError(f"{file_path}: not UTF-8 text; save it as UTF-8.") from exc
    except OSError as exc:
        raise ExperimentFileError(f"{file_path}: cannot be read ({exc.strerror}).") from exc
    spec = loads(text, str(file_path), base_dir=file_path.parent)
    spec.source = file_path
    return spec


def _read_providers(reader: _Reader, providers: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(providers, dict):
        raise reader.fail("providers", "must be tables like [providers.local]")
    result: dict[str, dict[str, Any]] = {}
    for name, table in providers.items():
        where = f"providers.{name}"
        if not isinstance(table, dict):
            raise reader.fail(where, "must be a table with kind and base_url")
        reader.check_keys(table, PROVIDER_KEYS, where)
        kind = reader.text(table, "kind", where)
        if kind not in PROVIDER_KINDS:
            raise reader.fail(
                f"{where}.kind", f"'{kind}' is not one of {', '.join(sorted(PROVIDER_KINDS))}"
            )
        if "api_key" in table:  # pragma: no cover - rejected by check_keys; kept for clarity
            raise reader.fail(where, "keys never go in files; use api_key_env or the keyring")
        result[name] = dict(table)
    return result


def _read_variant(reader: _Reader, table: Any, where: str) -> Variant:
    if not isinstance(table, dict):
        raise reader.fail(where, "must be a table with name and model")
    reader.check_keys(table, VARIANT_KEYS, where)
    model = reader.text(table, "model", where)
    if "/" not in model:
        raise reader.fail(
            f"{where}.model", f"'{model}' needs a provider in front, like 'openai/{model}'"
        )
    params = table.get("params", {})
    if not isinstance(params, dict):
        raise reader.fail(f"{where}.params", "must be a table, e.g. params = { temperature = 0.2 }")
    params = dict(params)
    for key, types in PARAM_KEYS.items():
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, types):
                raise reader.fail(f"{where}.{key}", f"has the wrong type ({type(value).__name__})")
            params[key] = value
    examples = []
    raw_examples = table.get("examples", [])
    if not isinstance(raw_examples, list):
        raise reader.fail(f"{where}.examples", "must be a list of {user = ..., assistant = ...}")
    for index, ex in enumerate(raw_examples, start=1):
        ex_where = f"{where}.examples[{index}]"
        if not isinstance(ex, dict):
            raise reader.fail(ex_where, "must be a table {user = ..., assistant = ...}")
        reader.check_keys(ex, EXAMPLE_KEYS, ex_where)
        enabled = ex.get("enabled", True)
        if not isinstance(enabled, bool):
            raise reader.fail(f"{ex_where}.enabled", "must be true or false")
        examples.append(
            Example(
                input=reader.text(ex, "user", ex_where),
                output=reader.text(ex, "assistant", ex_where),
                note=reader.text(ex, "note", ex_where, default=""),
                enabled=enabled,
            )
        )
    return Variant(
        name=reader.text(table, "name", where),
        model=model,
        system=reader.text(table, "system", where, default=""),
        examples=examples,
        params=params,
    )


def _read_cases(reader: _Reader, cases: dict[str, Any], base_dir: Path | None) -> list[TestCase]:
    found: list[TestCase] = []
    if "file" in cases:
        name = reader.text(cases, "file", "cases")
        path = Path(name) if Path(name).is_absolute() else (base_dir or Path.cwd()) / name
        try:
            imported = cases_file.load(path)
        except cases_file.CasesFileError as exc:
            raise reader.fail("cases.file", str(exc)) from exc
        if imported.problems:
            raise reader.fail("cases.file", "; ".join(imported.messages()[:5]))
        found.extend(imported.cases)
    rows = cases.get("rows", [])
    if not isinstance(rows, list):
        raise reader.fail("cases.rows", "must be a list of tables, e.g. rows = [{ q = \"...\" }]")
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise reader.fail(f"cases.rows[{index}]", "must be a table of variable = value")
        found.append(cases_file.case_from_mapping(row))
    if not found:
        raise reader.fail("cases", "no test cases: add rows = [...] or file = \"cases.csv\"")
    return found
