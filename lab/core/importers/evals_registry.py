"""openai/evals registry evals (an eval YAML naming a class and its samples.jsonl) as lab
experiments: `import_registry_eval(path)`.

The YAML holds `<name>: {id: <name>.<split>.<version>}` and `<name>.<split>.<version>: {class:
..., args: {samples_jsonl: ...}}`. `samples_jsonl` is looked up beside the YAML, then in the
registry's `data/` folder (the YAML sits in `registry/evals/`); a model-graded spec in
`registry/modelgraded/<spec>.yaml` or beside the YAML. The registry names no model (Evals takes
it on the command line), so the variant uses `model` (default `openai/gpt-4o-mini`), reported.

Classes: basic Match (the output starts with an ideal answer), Includes (contains one, with
`ignore_case`), FuzzyMatch (normalised containment either way: the lab's `fuzzy` check), JsonMatch
(the output's JSON equals an ideal's) and ModelBasedClassify (an LLM judge from the spec's
prompt and choice scores); any other class runs evaluation code of its own and is reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lab.core.experiment.file import ExperimentSpec, from_data, to_data
from lab.core.importers.evals_samples import Samples, ideal_columns, ideal_slots, read_samples
from lab.core.importers.modelgraded import modelgraded_check
from lab.core.importers.report import ImportFileError, ImportReport, ImportResult
from lab.core.importers.sources import load_jsonl, load_yaml
from lab.core.model import Check, Project, Variant

DEFAULT_MODEL = "openai/gpt-4o-mini"
_CLASSES = {"basic.match:Match": "match", "basic.includes:Includes": "includes",
            "basic.fuzzy_match:FuzzyMatch": "fuzzy", "basic.json_match:JsonMatch": "json",
            "modelgraded.classify:ModelBasedClassify": "modelgraded"}
_USED_ARGS = {"samples_jsonl", "ignore_case", "modelgraded_spec", "eval_type",
              "modelgraded_spec_args"}


def import_registry_eval(path: str | Path, model: str | None = None) -> ImportResult:
    path = Path(path)
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ImportFileError(f"{path}: not an Evals registry file (a mapping of eval names).")
    report = ImportReport(str(path), "openai/evals registry eval")
    name, spec_key, eval_spec = _pick(data, path, report)
    cls = str(eval_spec.get("class", ""))
    args = eval_spec.get("args") or {}
    samples_path = _find(str(args.get("samples_jsonl", "")), path, "data")
    if samples_path is None:
        raise ImportFileError(f"{path}: {spec_key}.args.samples_jsonl: cannot find "
                              f"'{args.get('samples_jsonl')}' beside the YAML or in the "
                              "registry's data folder.")
    rows = [(f"{samples_path.name} line {n}", s) for n, s in load_jsonl(samples_path)]
    samples = read_samples(rows, report)
    if not samples.cases:
        raise ImportFileError(f"{samples_path}: no sample could be converted: " + "; ".join(
            e.reason for e in report.not_converted[:3]))
    report.convert(samples_path.name, f"{len(rows)} samples", f"{len(samples.cases)} test cases "
                   "(the last user turn in column 'input')")
    chosen = model or DEFAULT_MODEL
    project = Project(name=name, description=str(data[name].get("description", "") or ""),
                      user_template="{{input}}", cases=samples.cases)
    project.variants = [Variant(name=chosen.partition("/")[2] or chosen, model=chosen,
                                system=samples.parts.system, examples=samples.parts.examples)]
    if model is None:
        report.approximate(name, "the model", f"variant using {chosen}", "an Evals registry eval "
                           "names no model (oaieval takes it on the command line); change the "
                           "variant's model, or import with --model provider/model")
    check = _check(cls, args, samples, path, spec_key, report)
    if check is not None:
        project.checks.append(check)
    for key in sorted(set(args) - _USED_ARGS):
        report.skip(f"{spec_key}.args.{key}", f"argument '{key}'", "the lab's experiment has no "
                    "such setting (few-shot files, max tokens and similar are set on variants)",
                    {key: args[key]})
    spec = ExperimentSpec(project=project)
    return ImportResult(from_data(to_data(spec), str(path)), report)


def _pick(data: dict[str, Any], path: Path, report: ImportReport) -> tuple[str, str, dict]:
    names = [k for k, v in data.items() if isinstance(v, dict) and "id" in v]
    if not names:
        raise ImportFileError(f"{path}: no eval in it (an entry `<name>: {{id: <name>.dev.v0}}`).")
    name = names[0]
    spec_key = str(data[name]["id"])
    if not isinstance(data.get(spec_key), dict):
        raise ImportFileError(f"{path}: {name}.id names '{spec_key}', which the file does not "
                              "define.")
    for other in names[1:]:
        report.skip(other, f"eval '{other}'", "one experiment per eval: import the file again "
                    "after moving this eval first", {other: data[other]})
    for key, value in data[name].items():
        if key not in ("id", "description", "metrics"):
            report.skip(f"{name}.{key}", f"'{key}'", "not part of a lab experiment", {key: value})
    report.convert(name, f"eval '{name}'", f"experiment '{name}' ({spec_key})")
    return name, spec_key, data[spec_key]


def _find(relative: str, yaml_path: Path, folder: str) -> Path | None:
    if not relative:
        return None
    registry = yaml_path.resolve().parent.parent
    for candidate in (yaml_path.parent / relative, registry / folder / relative,
                      yaml_path.parent / folder / relative):
        if candidate.is_file():
            return candidate
    return None


def _check(cls: str, args: dict[str, Any], samples: Samples, path: Path, spec_key: str,
           report: ImportReport) -> Check | None:
    short = cls.removeprefix("evals.elsuite.")
    kind = _CLASSES.get(short)
    where = f"{spec_key}.class"
    if kind is None:
        report.skip(where, f"class {cls}", "it runs evaluation code of its own; the lab's "
                    "checks are declared (contains, regex, python expressions, judges)", cls)
        return None
    if kind == "modelgraded":
        spec_name = str(args.get("modelgraded_spec", ""))
        spec_path = _find(f"{spec_name}.yaml", path, "modelgraded")
        if spec_path is None:
            report.skip(where, f"class {cls} with spec '{spec_name}'", "the model-graded spec file "
                        f"{spec_name}.yaml is not beside the eval or in the registry's "
                        "modelgraded folder", {"class": cls, "args": args})
            return None
        return modelgraded_check(load_yaml(spec_path), spec_name, args, where, report)
    ignore_case = bool(args.get("ignore_case", False))
    if kind == "fuzzy":
        check = Check("fuzzy", {"value": ideal_slots(samples)}, "fuzzy match")
        report.convert(where, f"class {cls}", "check 'fuzzy match' (fuzzy, the ideal answers in "
                       "columns ideal_1...)")
        return check
    shape = ideal_columns(samples)
    ideals = "[vars['ideal']]" if shape == "text" else "json.loads(vars['ideal'])"
    if kind == "includes" and shape == "text":
        check = Check("contains", {"value": "{{ideal}}", **({"ignore_case": True}
                                                            if ignore_case else {})}, "includes")
    elif kind == "includes":
        low = ".lower()" if ignore_case else ""
        check = Check("python", {"expression": f"any(i{low} in output{low} for i in {ideals})"},
                      "includes")
    elif kind == "match":
        expression = ("output.startswith(vars['ideal'])" if shape == "text"
                      else f"any(output.startswith(i) for i in {ideals})")
        check = Check("python", {"expression": expression}, "match")
    else:
        check = Check("python", {"expression": f"json.loads(output) in [json.loads(i) for i in "
                                               f"{ideals}]"}, "json match")
        report.approximate(where, f"class {cls}", "check 'json match' (python: the output's JSON "
                           "equals an ideal's)", "compares the parsed JSON exactly", cls)
        return check
    report.convert(where, f"class {cls}", f"check '{check.name}' ({check.type}, the ideal "
                   "answers in column 'ideal')")
    return check
