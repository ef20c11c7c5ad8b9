"""What can be wrong with an experiment before the first call: every problem found at once,
each one line naming the file, line and field, so nothing is sent until all are fixed.

Samples and variants, unknown providers (with a suggestion), parameters outside the API
family's range, retrieval without documents or with an embedding model that cannot embed,
chain steps naming unknown providers, every check's configuration, and template problems.
"""

from __future__ import annotations

import difflib
import re

from lab.core.checks.config import validate_check
from lab.core.experiment.file import ExperimentSpec
from lab.core.experiment.reader import locate
from lab.core.model import Variant
from lab.core.providers.base import ProviderConfig
from lab.core.providers.params import out_of_range
from lab.core.run.output_format import schema_check
from lab.core.run.template_problems import TemplateProblem, check_project


def plan_problems(spec: ExperimentSpec, providers: dict[str, ProviderConfig], samples: int) -> list[str]:
    project = spec.project
    problems: list[str] = []
    index = {v.name: i for i, v in enumerate(project.variants, start=1)}
    if samples < 1:
        problems.append(f"{spec.origin}: samples must be at least 1 (got {samples}).")
    if not project.variants:
        problems.append(f"{spec.origin}: the experiment has no variants; add one.")
    if not project.cases:
        problems.append(f"{spec.origin}: the experiment has no test cases; add rows or a file.")
    for variant in project.variants:
        where = f"variants[{index[variant.name]}].model"
        problems += unknown_provider(spec, providers, variant.model, where)
        problems += _parameter_problems(spec, providers, variant, index[variant.name])
        for number, step in enumerate(variant.steps, start=1):
            if step.model:
                problems += unknown_provider(spec, providers, step.model,
                                              f"variants[{index[variant.name]}].steps[{number}].model")
        retrieval = variant.retrieval
        if retrieval is not None and retrieval.on:
            where = f"variants[{index[variant.name]}].retrieval"
            if not project.documents:
                problems.append(f"{spec.where(where)}: variant '{variant.name}' retrieves "
                                "passages, but the experiment has no documents: add a "
                                '[[documents]] table with path = "your/folder".')
            if retrieval.mode in ("embeddings", "hybrid"):
                found = unknown_provider(spec, providers, retrieval.embedding_model,
                                          f"{where}.embedding_model")
                embedder = providers.get(retrieval.embedding_model.partition("/")[0])
                if not found and embedder is not None and embedder.kind == "anthropic":
                    found = [f"{spec.where(where)}: {where}.embedding_model: the Anthropic API has "
                             "no embeddings endpoint; use an OpenAI-compatible, Gemini or Ollama "
                             "embedding model."]
                problems += found
        fmt = variant.params.get("response_format")
        where = spec.where(f"variants[{index[variant.name]}].response_format")
        if isinstance(fmt, str) and fmt not in ("json", "json_object", "text"):
            problems.append(f"{where}: variant '{variant.name}': response_format must be "
                            f"\"json\" or a table, not '{fmt}'.")
        elif isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            implicit = schema_check(variant)
            if implicit is None:
                problems.append(f"{where}: variant '{variant.name}': the output schema must be a "
                                "JSON Schema object, like schema = { type = \"object\" }.")
            else:
                problems += [f"{where}: variant '{variant.name}': {message}"
                             for message in validate_check(implicit)]
    for i, check in enumerate(project.checks, start=1):
        where = spec.where(f"checks[{i}]")
        problems += [f"{where}: {message}" for message in validate_check(check)]
        model = check.config.get("model") if check.type == "judge" else None
        if isinstance(model, str):
            problems += unknown_provider(spec, providers, model, f"checks[{i}].model")
    for problem in check_project(project):
        if problem.severity == "error":
            problems.append(f"{spec.where(_field_path(spec, problem))}: {problem.message}")
    return problems


def unknown_provider(
    spec: ExperimentSpec, providers: dict[str, ProviderConfig], model: str, where: str
) -> list[str]:
    provider, slash, _ = model.partition("/")
    if not slash:
        return [f"{spec.where(where)}: {where}: '{model}' needs a provider in front, like "
                f"'openai/{model}'."]
    if provider in providers:
        return []
    close = difflib.get_close_matches(provider, sorted(providers), n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return [
        f"{spec.where(where)}: {where}: no provider named '{provider}' (known: "
        f"{', '.join(sorted(providers))}).{hint} Add it under [providers.{provider}] or in the "
        "app's provider settings."
    ]


def _parameter_problems(
    spec: ExperimentSpec, providers: dict[str, ProviderConfig], variant: Variant, i: int
) -> list[str]:
    """Parameters outside the documented range of the variant's API family, each located."""
    config = providers.get(variant.model.partition("/")[0])
    if config is None:
        return []  # reported as an unknown provider
    found = []
    for name, message in out_of_range(config.kind, {**config.default_params, **variant.params}):
        if name in variant.params:
            # written as the shorthand `temperature = 7`, or inside `params = { ... }`
            field, at = f"variants[{i}].{name}", f"variants[{i}].{name}"
            if locate(spec.text, at) == locate(spec.text, f"variants[{i}]"):
                field, at = f"variants[{i}].params.{name}", f"variants[{i}].params"
            found.append(f"{spec.where(at)}: {field}: variant '{variant.name}': {message}")
        else:
            found.append(f"provider '{config.name}', default parameters: {message}")
    return found


def _field_path(spec: ExperimentSpec, problem: TemplateProblem) -> str:
    """The experiment-file path of the field a template problem is about, for its line."""
    field_name = problem.field or ""
    if problem.variant is not None:
        names = [v.name for v in spec.project.variants]
        i = names.index(problem.variant) + 1 if problem.variant in names else 0
        key = "system" if field_name == "system prompt" else "examples"
        return f"variants[{i}].{key}"
    if field_name == "user message":
        return "cases.user"
    m = re.match(r"check '(.*)' ", field_name)
    if m:
        titles = [c.title for c in spec.project.checks]
        if m.group(1) in titles:
            return f"checks[{titles.index(m.group(1)) + 1}]"
    return "cases"
