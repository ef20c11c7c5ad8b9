"""promptfoo configs (promptfooconfig.yaml) as lab experiments: `import_promptfoo(path)`.

Every prompt × provider pair becomes a variant, named from their labels; tests become test cases;
`defaultTest` assertions become the experiment's checks and each test's own assertions become
checks limited to it (`case_checks`); `evaluateOptions.repeat` becomes samples. Everything the
lab cannot express is in the report, with the reason and the original text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lab.core.experiment.file import ExperimentSpec, from_data, to_data
from lab.core.experiment.template import variables
from lab.core.importers.assertions import Assertion, convert_assertion, judge_model
from lab.core.importers.case_checks import case_checks, project_checks
from lab.core.importers.cases import fill_missing, to_case
from lab.core.importers.promptfoo_prompts import Prompt, read_prompts
from lab.core.importers.promptfoo_providers import ProviderSet, Target, convert_provider
from lab.core.importers.promptfoo_tests import expand, read_tests, var_value
from lab.core.importers.report import ImportFileError, ImportReport, ImportResult
from lab.core.importers.sources import is_file_ref, load_data, resolve
from lab.core.importers.templates import render_known
from lab.core.importers.variants import Model, Source, name_for, unique, variant
from lab.core.model import Project, TestCase

HANDLED = {"description", "prompts", "providers", "tests", "defaultTest", "evaluateOptions"}
NOT_EXPERIMENT = ("not part of a lab experiment (output paths, sharing, environment, scenarios, "
                  "extensions, derived metrics and red-teaming are promptfoo features)")


def import_promptfoo(path: str | Path) -> ImportResult:
    path = Path(path)
    config = load_data(path)
    if not isinstance(config, dict):
        raise ImportFileError(f"{path}: not a promptfoo config (a mapping with prompts, "
                              "providers and tests).")
    report = ImportReport(str(path), "promptfoo")
    base = path.parent
    for key in config:
        if key == "$schema":
            report.note("The editor schema hint ($schema) is not needed by the lab.")
        elif key not in HANDLED:
            report.skip(key, f"'{key}'", NOT_EXPERIMENT, {key: config[key]})
    if not config.get("prompts"):
        raise ImportFileError(f"{path}: has no prompts; there is nothing to import.")
    if not config.get("providers"):
        raise ImportFileError(f"{path}: names no providers; promptfoo needs at least one, and so "
                              "does a lab experiment.")
    prompts = _shared_user_message(read_prompts(config["prompts"], base, report), report)
    providers = ProviderSet()
    raw_providers = config["providers"] if isinstance(config["providers"], list) else [
        config["providers"]]
    targets = [t for i, p in enumerate(raw_providers, start=1)
               if (t := convert_provider(p, f"providers[{i}]", report, providers, base))]
    if not prompts or not targets:
        missing = "prompt" if not prompts else "provider"
        raise ImportFileError(f"{path}: no {missing} could be converted, so there is no variant "
                              "to run: " + "; ".join(f"{e.where}: {e.reason}"
                                                     for e in report.not_converted))
    project = Project(name=_name(config, path), description=str(config.get("description") or ""))
    project.user_template = prompts[0].parts.user
    project.variants = _variants(prompts, targets, report)
    default = _default_test(config.get("defaultTest"), base, report)
    default_judge = judge_model(default.get("judge")) if default.get("judge") else None
    defaults = _assertions(default.get("assert", []), "defaultTest.assert", report, base,
                           default_judge)
    tests = read_tests(config.get("tests"), base, report)
    dotted = set().union(*(p.dotted for p in prompts))
    per_case: list[list[Assertion]] = []
    for test in tests:
        judge = judge_model(test.judge) if test.judge else default_judge
        var_sets = expand({**default.get("vars", {}), **test.vars})
        for n, values in enumerate(var_sets, start=1):
            label = test.description if len(var_sets) == 1 else \
                f"{test.description or test.where} #{n}"
            case = to_case(values, label, dotted)
            project.cases.append(case)
            found = _assertions([a for _, a in test.asserts], test.where, report, base, judge,
                                wheres=[w for w, _ in test.asserts], quiet=n > 1)
            for a in found:
                a.value = _rendered(a.value, case)
            per_case.append(found)
        what = f"test '{test.description}'" if test.description else "test"
        report.convert(test.where, what, f"{len(var_sets)} test case(s)")
    if not project.cases:
        project.cases.append(TestCase(vars={}))
        report.note("The config has no tests; the experiment has one empty test case (promptfoo "
                    "runs each prompt once without variables).")
    project.checks = project_checks(defaults, report) + case_checks(per_case, project.cases, report)
    used = [n for p in prompts for t in p.parts.texts() for n in variables(t)]
    filled = fill_missing(project.cases, used)
    if filled:
        report.note("Variables some tests do not set are empty in those test cases, as promptfoo "
                    f"renders them: {', '.join(filled)}.")
    spec = ExperimentSpec(project=project, providers=providers.tables,
                          samples=_samples(config.get("evaluateOptions"), report))
    # The experiment as the file will hold it, read back with the file's own checks.
    return ImportResult(from_data(to_data(spec), str(path)), report)


def _name(config: dict[str, Any], path: Path) -> str:
    description = str(config.get("description") or "").strip().splitlines()
    if description and len(description[0]) <= 80:
        return description[0]
    return path.stem


def _shared_user_message(prompts: list[Prompt], report: ImportReport) -> list[Prompt]:
    if not prompts:
        return prompts
    kept = [p for p in prompts if p.parts.user == prompts[0].parts.user]
    for p in prompts:
        if p not in kept:
            report.skip(p.where, f"prompt '{p.label}'", "its user message differs from the first "
                        "prompt's, and the lab's variants share one user message (they differ in "
                        "system prompt, examples, model and parameters); import it on its own, or "
                        "move what differs into a system prompt", p.original)
    return kept


def _variants(prompts: list[Prompt], targets: list[Target], report: ImportReport) -> list:
    taken: set[str] = set()
    result = []
    for target in targets:
        for prompt in prompts:
            if target.prompts is not None and not (prompt.ids & set(target.prompts)):
                continue
            source = Source(prompt.label, prompt.parts)
            model = Model(target.label, target.model, target.params)
            name = unique(name_for(source, model, len(prompts) > 1, len(targets) > 1), taken)
            result.append(variant(source, model, name))
    if not result:
        raise ImportFileError("no provider is allowed to run any prompt (their 'prompts' lists "
                              "name none of the prompts).")
    report.note(f"{len(result)} variant(s): every prompt with every provider "
                f"({', '.join(v.name for v in result)}).")
    return result


def _default_test(raw: Any, base: Path, report: ImportReport) -> dict[str, Any]:
    if raw is None:
        return {}
    if is_file_ref(raw):
        raw = load_data(resolve(raw, base)[0])
    if not isinstance(raw, dict):
        report.skip("defaultTest", "defaultTest", "not a mapping", raw)
        return {}
    found: dict[str, Any] = {"assert": raw.get("assert") or []}
    found["vars"] = {}
    for name, value in (raw.get("vars") or {}).items():
        loaded = var_value(value, base, f"defaultTest.vars.{name}", report)
        if loaded is not None:
            found["vars"][str(name)] = loaded
    options = raw.get("options") or {}
    for key, value in options.items():
        if key == "provider":
            found["judge"] = value
            model = judge_model(value)
            if model:
                report.convert("defaultTest.options.provider", "grading provider",
                               f"judge model {model}")
            else:
                report.skip("defaultTest.options.provider", "grading provider", "it has no lab "
                            "equivalent; the variants' own models judge", value)
        else:
            report.skip(f"defaultTest.options.{key}", f"option '{key}'", "the lab has no "
                        "transforms, prefixes or grader prompts", {key: value})
    for key in sorted(set(raw) - {"assert", "vars", "options"}):
        report.skip(f"defaultTest.{key}", f"defaultTest field '{key}'", NOT_EXPERIMENT,
                    {key: raw[key]})
    return found


def _assertions(raw: Any, where: str, report: ImportReport, base: Path, judge: str | None, *,
                wheres: list[str] | None = None, quiet: bool = False) -> list[Assertion]:
    items = raw if isinstance(raw, list) else [raw]
    found = []
    for i, item in enumerate(items, start=1):
        here = wheres[i - 1] if wheres else f"{where}[{i}]"
        # An expanded test (a var with several values) converts its assertions once per case;
        # the report lists each assertion once.
        sink = ImportReport(report.source, report.kind) if quiet else report
        a = convert_assertion(item, here, sink, base, judge)
        if a is not None:
            found.append(a)
    return found


def _rendered(value: Any, case: TestCase) -> Any:
    if isinstance(value, str):
        return render_known(value, case.vars)
    if isinstance(value, list):
        return [render_known(v, case.vars) if isinstance(v, str) else v for v in value]
    return value


def _samples(options: Any, report: ImportReport) -> int:
    if not isinstance(options, dict):
        return 1
    samples = 1
    for key, value in options.items():
        if key == "repeat" and isinstance(value, int) and value >= 1:
            samples = value
            report.convert("evaluateOptions.repeat", f"repeat {value}", f"samples = {value}")
        else:
            report.skip(f"evaluateOptions.{key}", f"'{key}'", "a run setting: `lab run` takes "
                        "--concurrency, --budget and --samples instead", {key: value})
    return samples

