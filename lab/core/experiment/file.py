"""Experiment files: a project described in TOML, so prompts can live in git and run headless.

The format is documented in docs/experiment-file.md. Reading is strict in the way a user wants:
a typo in a key is an error that suggests the right key, a wrong type names the field and its
line, and a TOML syntax error names the line, all before any call is made.

`dumps` writes a spec back as TOML, so a project edited in the GUI can be saved as a file and
read back unchanged (test cases are written inline, whatever file they came from).
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.core.experiment import cases as cases_file
from lab.core.experiment.chains import read_steps, steps_data
from lab.core.experiment.params import PARAM_KEYS, read_params, write_params
from lab.core.experiment.reader import ExperimentFileError, TableReader, locate
from lab.core.experiment.retrieval import (
    documents_data,
    read_documents,
    read_retrieval,
    retrieval_data,
)
from lab.core.model import Check, Example, Project, TestCase, Variant

TOP_KEYS = {
    "name", "description", "samples", "providers", "documents", "variants", "cases", "checks",
}
VARIANT_KEYS = {
    "name", "model", "system", "examples", "params", "retrieval", "steps", *PARAM_KEYS,
}
EXAMPLE_KEYS = {"user", "assistant", "note", "enabled"}
CASES_KEYS = {"user", "file", "rows"}
PROVIDER_KEYS = {
    "kind", "base_url", "api_key_env", "concurrency", "default_params", "timeouts",
    "max_retries", "local", "extra_headers",
}
PROVIDER_KINDS = {"openai", "anthropic", "gemini", "ollama"}


@dataclass
class ExperimentSpec:
    project: Project
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    samples: int = 1
    source: Path | None = None
    # The file's name and text as read, so later checks (a missing variable, an unknown
    # provider) can name the line too. Not part of what the experiment *is*.
    origin: str = field(default="<experiment>", compare=False, repr=False)
    text: str = field(default="", compare=False, repr=False)
    # SHA-256 of the file's bytes as read (set by `load`): what trusting the file's code trusts
    # (lab.core.workspace.trust), taken from the very bytes that were parsed.
    sha256: str | None = field(default=None, compare=False, repr=False)

    def where(self, path: str) -> str:
        """`file, line N` for a field path like `variants[2].model` (just `file` if unknown)."""
        line = locate(self.text, path)
        return f"{self.origin}, line {line}" if line else self.origin


def loads(text: str, source: str = "<experiment>", base_dir: Path | None = None) -> ExperimentSpec:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already carries "(at line N, column M)".
        raise ExperimentFileError(f"{source}: not valid TOML: {exc}") from exc
    spec = from_data(data, source, base_dir, TableReader(source, text))
    spec.text = text
    return spec


def from_data(
    data: dict[str, Any],
    source: str = "<experiment>",
    base_dir: Path | None = None,
    reader: TableReader | None = None,
) -> ExperimentSpec:
    """A spec from the experiment file's data as plain values (what `to_data` gives, or the
    config stored with a run), with the same checks as reading the file."""
    reader = reader or TableReader(source)
    reader.check_keys(data, TOP_KEYS, "top level")
    project = Project(
        name=reader.text(data, "name", "top level"),
        description=reader.text(data, "description", "top level", default=""),
    )
    samples = data.get("samples", 1)
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
        raise reader.fail("samples", "must be a whole number of at least 1")

    providers = _read_providers(reader, data.get("providers", {}))
    project.documents = read_documents(reader, data.get("documents", []))
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
    return ExperimentSpec(project=project, providers=providers, samples=samples, origin=source)


def load(path: str | Path) -> ExperimentSpec:
    file_path = Path(path)
    try:
        data = file_path.read_bytes()
        # universal newlines, as read_text would
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except FileNotFoundError as exc:
        raise ExperimentFileError(f"{file_path}: no such file.") from exc
    except UnicodeDecodeError as exc:
        raise ExperimentFileError(f"{file_path}: not UTF-8 text; save it as UTF-8.") from exc
    except OSError as exc:
        raise ExperimentFileError(f"{file_path}: cannot be read ({exc.strerror}).") from exc
    spec = loads(text, str(file_path), base_dir=file_path.parent)
    spec.source = file_path
    spec.sha256 = hashlib.sha256(data).hexdigest()
    return spec


def cases_file_kept(text: str, base_dir: Path, cases: list[TestCase]) -> str | None:
    """The `[cases] file = ...` of an experiment file's `text` if that file (and no inline rows)
    holds exactly `cases`: writing the experiment back can then keep pointing at it."""
    try:
        table = tomllib.loads(text).get("cases")
    except tomllib.TOMLDecodeError:
        return None
    if not isinstance(table, dict) or not isinstance(table.get("file"), str) or table.get("rows"):
        return None
    name = table["file"]
    path = Path(name) if Path(name).is_absolute() else base_dir / name
    try:
        imported = cases_file.load(path)
    except cases_file.CasesFileError:
        return None
    same = [(c.label, c.vars) for c in imported.cases] == [(c.label, c.vars) for c in cases]
    return name if same and not imported.problems else None


def _read_providers(reader: TableReader, providers: Any) -> dict[str, dict[str, Any]]:
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


def _read_variant(reader: TableReader, table: Any, where: str) -> Variant:
    if not isinstance(table, dict):
        raise reader.fail(where, "must be a table with name and model")
    reader.check_keys(table, VARIANT_KEYS, where)
    model = reader.text(table, "model", where)
    if "/" not in model:
        raise reader.fail(
            f"{where}.model", f"'{model}' needs a provider in front, like 'openai/{model}'"
        )
    params = read_params(reader, table, where)
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
    retrieval = table.get("retrieval")
    steps = read_steps(reader, table["steps"], where) if "steps" in table else []
    return Variant(
        name=reader.text(table, "name", where),
        model=model,
        system=reader.text(table, "system", where, default=""),
        examples=examples,
        params=params,
        retrieval=None if retrieval is None else read_retrieval(reader, retrieval, where),
        steps=steps,
    )


def _read_cases(reader: TableReader, cases: dict[str, Any], base_dir: Path | None) -> list[TestCase]:
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


# ----- writing ---------------------------------------------------------------------------------


def dumps(spec: ExperimentSpec, cases_file: str | None = None) -> str:
    """The spec as experiment-file TOML that `loads` reads back to an equal spec.

    Ids are left out (a file describes prompts, not workspace rows); test cases are written as
    inline rows, so the file stands on its own, unless `cases_file` names the cases file they
    were read from (and still hold): then `[cases]` keeps pointing at it.
    """
    import tomli_w  # only writing files needs it; reading and running do not

    return tomli_w.dumps(to_data(spec, cases_file), multiline_strings=True)


def to_data(spec: ExperimentSpec, cases_file: str | None = None) -> dict[str, Any]:
    """The spec as the plain values an experiment file holds (`from_data` reads them back)."""
    project = spec.project
    data: dict[str, Any] = {"name": project.name}
    if project.description:
        data["description"] = project.description
    if spec.samples != 1:
        data["samples"] = spec.samples
    if spec.providers:
        data["providers"] = {name: _without_none(table) for name, table in spec.providers.items()}
    if project.documents:
        data["documents"] = documents_data(project.documents)
    data["variants"] = [_variant_table(v) for v in project.variants]
    rows = []
    for case in project.cases:
        row: dict[str, Any] = dict(case.vars)
        if case.label:
            row["label"] = case.label
        rows.append(row)
    data["cases"] = ({"user": project.user_template, "file": cases_file} if cases_file
                     else {"user": project.user_template, "rows": rows})
    if project.checks:
        data["checks"] = [
            {"type": c.type, **({"name": c.name} if c.name else {}), **_without_none(c.config)}
            for c in project.checks
        ]
    return data


def _variant_table(variant: Variant) -> dict[str, Any]:
    table: dict[str, Any] = {"name": variant.name, "model": variant.model}
    if variant.system:
        table["system"] = variant.system
    write_params(table, _without_none(variant.params))
    if variant.examples:
        table["examples"] = [_example_table(e) for e in variant.examples]
    if variant.retrieval is not None:
        table["retrieval"] = retrieval_data(variant.retrieval)
    if variant.steps:
        table["steps"] = steps_data(variant.steps)
    return table


def _example_table(example: Example) -> dict[str, Any]:
    table: dict[str, Any] = {"user": example.input, "assistant": example.output}
    if example.note:
        table["note"] = example.note
    if not example.enabled:
        table["enabled"] = False
    return table


def _without_none(table: dict[str, Any]) -> dict[str, Any]:
    # TOML has no null; an unset option is simply not written.
    return {
        k: _without_none(v) if isinstance(v, dict) else v for k, v in table.items() if v is not None
    }
