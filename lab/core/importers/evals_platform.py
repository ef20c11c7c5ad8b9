"""The hosted OpenAI Evals platform's exported data as a lab experiment:
`import_platform_eval(path)`.

The input is a folder (or its `eval.json`) holding:

* `eval.json`: the eval object as the API returns it (`GET /v1/evals/{id}`) or as it was created:
  `name`, `data_source_config` (the item schema) and `testing_criteria` (the graders);
* `items.jsonl`: the data source, one `{"item": {...}}` per line (a line without `item` is taken
  as the item itself);
* `runs.json` (optional): the eval's runs (`GET /v1/evals/{id}/runs`: `{"data": [...]}`, a list,
  or one run). Each `completions` or `responses` run with a message template becomes a variant:
  its model, its messages (system and few-shot turns, and the user message shared by every
  variant) and its sampling parameters. Without runs, one variant sends the item's `input` (or
  its first text field) to `model` (default `openai/gpt-4o-mini`), reported.

Items become test cases (their fields are columns; `{{item.a.b}}` reads column `a.b`); graders
become checks (`evals_graders`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema

from lab.core.experiment.file import ExperimentSpec, from_data, to_data
from lab.core.importers.cases import fill_missing, to_case
from lab.core.importers.evals_graders import Unsupported, convert_criterion, item_template
from lab.core.importers.evals_registry import DEFAULT_MODEL
from lab.core.importers.messages import NotAPrompt, PromptParts, split_messages
from lab.core.importers.report import ImportFileError, ImportReport, ImportResult
from lab.core.importers.sources import load_json, load_jsonl
from lab.core.importers.variants import Model, Source, unique, variant
from lab.core.model import Example, Project

EVAL_FILE, ITEMS_FILE, RUNS_FILE = "eval.json", "items.jsonl", "runs.json"
_PARAMS = {"temperature": "temperature", "top_p": "top_p", "seed": "seed",
           "max_completion_tokens": "max_tokens", "max_tokens": "max_tokens",
           "max_output_tokens": "max_tokens", "response_format": "response_format"}
_EVAL_KEYS = {"name", "data_source_config", "testing_criteria", "object", "id", "created_at",
              "metadata", "share_with_openai"}


def import_platform_eval(path: str | Path, model: str | None = None) -> ImportResult:
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    eval_path = path / EVAL_FILE if path.is_dir() else path
    data = load_json(eval_path)
    if not isinstance(data, dict) or "testing_criteria" not in data:
        raise ImportFileError(f"{eval_path}: not an Evals eval (a JSON object with "
                              "data_source_config and testing_criteria).")
    report = ImportReport(str(path), "OpenAI Evals platform export")
    for key in sorted(set(data) - _EVAL_KEYS):
        report.skip(key, f"'{key}'", "not part of a lab experiment", {key: data[key]})
    items = _items(folder / ITEMS_FILE, data.get("data_source_config") or {}, report)
    dotted: set[str] = set()
    checks = []
    for i, raw in enumerate(data.get("testing_criteria") or [], start=1):
        check = convert_criterion(raw, f"testing_criteria[{i}]", report, dotted)
        if check is not None:
            checks.append(check)
    prompts = _runs(folder / RUNS_FILE, report, dotted)
    project = Project(name=str(data.get("name") or folder.name), checks=checks)
    if prompts:
        project.user_template = prompts[0][0].parts.user
        taken: set[str] = set()
        project.variants = [variant(source, m, unique(m.label, taken)) for source, m in prompts]
    else:
        project.user_template, project.variants = _default_variant(items, model, report)
    project.cases = [to_case(item, f"item {n}", dotted) for n, item in enumerate(items, start=1)]
    names = [n for v in project.variants for t in (v.system, *(x for e in v.examples
                                                              for x in (e.input, e.output)))
             for n in _names(t)] + _names(project.user_template)
    filled = fill_missing(project.cases, names)
    if filled:
        report.note(f"Fields some items lack are empty in those test cases: {', '.join(filled)}.")
    spec = ExperimentSpec(project=project)
    return ImportResult(from_data(to_data(spec), str(path)), report)


def _names(text: str) -> list[str]:
    from lab.core.experiment.template import variables

    return variables(text)


def _items(path: Path, config: dict[str, Any], report: ImportReport) -> list[dict[str, Any]]:
    kind = config.get("type", "custom")
    schema = config.get("item_schema") or (config.get("schema") or {}).get("properties", {}).get(
        "item")
    rows = load_jsonl(path)
    if not rows:
        raise ImportFileError(f"{path}: no items in it.")
    items: list[dict[str, Any]] = []
    with_samples = []
    for line, row in rows:
        if not isinstance(row, dict):
            raise ImportFileError(f"{path}, line {line}: an item row must be a JSON object.")
        item = row.get("item", row) if "item" in row else row
        if "sample" in row:
            with_samples.append(line)
        if not isinstance(item, dict):
            raise ImportFileError(f"{path}, line {line}: 'item' must be a JSON object.")
        items.append(item)
    report.convert(path.name, f"{len(items)} items", f"{len(items)} test cases")
    if with_samples:
        report.skip(f"{path.name} lines {_ranges(with_samples)}", "stored samples ('sample')",
                    "outputs generated before are not imported: the lab makes its own outputs "
                    "when the experiment runs", f"{len(with_samples)} rows with a 'sample'")
    if kind != "custom":
        report.note(f"The data source was '{kind}' (stored completions or logs); its items were "
                    f"read from {path.name}.")
    if isinstance(schema, dict) and schema:
        report.convert("data_source_config.item_schema", "item schema", "the test cases' columns"
                       f" ({', '.join((schema.get('properties') or {}).keys())})")
        bad = [n for n, item in enumerate(items, start=1)
               if not jsonschema.Draft202012Validator(schema).is_valid(item)]
        if bad:
            report.note(f"Items {_ranges(bad)} do not match the item schema; they are imported "
                        "as they are.")
    return items


def _ranges(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:10]))
    return shown + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")


def _runs(path: Path, report: ImportReport, dotted: set[str]) -> list[tuple[Source, Model]]:
    if not path.exists():
        return []
    data = load_json(path)
    runs = data.get("data", [data]) if isinstance(data, dict) else data
    found: list[tuple[Source, Model]] = []
    for i, run in enumerate(runs if isinstance(runs, list) else [], start=1):
        where = f"{path.name}[{i}]"
        try:
            found.append(_run(run, dotted))
        except Unsupported as exc:
            report.skip(where, f"run '{_label(run)}'", str(exc), run)
            continue
        source, model = found[-1]
        if source.parts.user != found[0][0].parts.user:
            found.pop()
            report.skip(where, f"run '{model.label}'", "its user message differs from the first "
                        "run's, and the lab's variants share one user message", run)
        elif (run.get("data_source") or {}).get("type") == "responses":
            report.approximate(where, f"run '{model.label}'", f"variant with model {model.model}",
                               "sent through the Chat Completions API, not the Responses API")
        else:
            report.convert(where, f"run '{model.label}'", f"variant with model {model.model}")
    return found


def _label(run: Any) -> str:
    if not isinstance(run, dict):
        return "?"
    return str(run.get("name") or (run.get("data_source") or {}).get("model") or "run")


def _run(run: Any, dotted: set[str]) -> tuple[Source, Model]:
    source = run.get("data_source") if isinstance(run, dict) else None
    if not isinstance(source, dict):
        raise Unsupported("it has no data_source")
    kind = source.get("type")
    if kind not in ("completions", "responses"):
        raise Unsupported(f"a '{kind}' run grades outputs made elsewhere; there is no model or "
                          "prompt to make a variant from")
    template = source.get("input_messages") or {}
    if template.get("type") != "template":
        raise Unsupported("its messages come from the items (item_reference); the lab's variants "
                          "need a message template")
    messages = []
    for message in template.get("template") or []:
        if not isinstance(message, dict):
            raise Unsupported("its template holds something that is not a message")
        messages.append({k: v for k, v in message.items() if k != "type"})
    try:
        parts = split_messages(messages)
    except NotAPrompt as exc:
        raise Unsupported(str(exc)) from None

    def lab(text: str) -> str:
        converted, more = item_template(text)
        dotted.update(more)
        return converted

    parts = PromptParts(system=lab(parts.system), user=lab(parts.user),
                        examples=[Example(lab(e.input), lab(e.output)) for e in parts.examples])
    params: dict[str, Any] = {}
    for key, value in (source.get("sampling_params") or {}).items():
        if key in _PARAMS and value is not None:
            params[_PARAMS[key]] = value
        elif key != "text":
            raise Unsupported(f"its sampling parameter '{key}' has no lab equivalent")
    if not isinstance(source.get("model"), str):
        raise Unsupported("it names no model")
    label = str(run.get("name") or source["model"])
    return Source(label, parts), Model(label, f"openai/{source['model']}", params)


def _default_variant(items: list[dict[str, Any]], model: str | None,
                     report: ImportReport) -> tuple[str, list]:
    first = items[0]
    field = "input" if "input" in first else next(
        (k for k, v in first.items() if isinstance(v, str)), None)
    if field is None:
        raise ImportFileError("the items have no text field to send as the user message, and "
                              f"there is no {RUNS_FILE} with a message template.")
    chosen = model or DEFAULT_MODEL
    source = Source(chosen, PromptParts(user="{{" + field + "}}"))
    report.approximate(RUNS_FILE, "the prompt and model", f"one variant sending {{{{{field}}}}} "
                       f"to {chosen}", f"the export has no {RUNS_FILE} with a run's message "
                       "template and model; edit the variant, or add runs.json and import again")
    return "{{" + field + "}}", [variant(source, Model(chosen, chosen), chosen.partition("/")[2])]
