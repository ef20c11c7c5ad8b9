"""A run's plan: the matrix of calls an experiment asks for, checked before anything is sent.

`build_plan` expands variants × test cases × samples into `PlannedCall`s, each with the exact
wire body its provider will receive and the cache key that identifies it. Everything a user can
get wrong in the experiment (a provider nobody configured, a `{{variable}}` with no value, a
check with a bad option) is collected first and raised together as `PlanError`, naming the file,
line and field, so no call is ever made from a half-valid experiment.

Cache keys cover what decides the answer: the provider's endpoint, the model, the body sent and
the sample index. Sample 2 of a cell is therefore never answered with sample 1's reply, but a
repeated run finds every sample it made before.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from lab.core.checks import judge
from lab.core.checks.config import check_names, validate_check
from lab.core.experiment import template
from lab.core.experiment.file import ExperimentSpec
from lab.core.experiment.reader import locate
from lab.core.model import Check, Message, PromptVersion, RetrievedChunk, TestCase, Variant
from lab.core.providers.base import ChatRequest, ProviderConfig
from lab.core.providers.params import out_of_range
from lab.core.providers.registry import family_for
from lab.core.retrieval.context import context_text
from lab.core.run.output_format import schema_check
from lab.core.run.template_problems import TemplateProblem, check_project

JUDGE_LABEL = "judge: "  # a judge call's variant name in the log reads "judge: <check>"


@dataclass(frozen=True, order=True)
class Cell:
    """One cell of the matrix; `case_index` and `sample_index` count from 0."""

    variant: str
    case_index: int
    sample_index: int

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.variant, self.case_index, self.sample_index)


@dataclass
class PlannedCall:
    """One model call the run will make (or answer from the cache)."""

    cell: Cell
    variant: Variant
    case: TestCase
    provider: ProviderConfig
    request: ChatRequest
    body: dict[str, Any]  # what the provider receives, for the log; never holds a key
    cache_key: str
    input_tokens: int  # estimated, for the pre-flight
    prompt_version: PromptVersion
    retrieved: list[RetrievedChunk] = field(default_factory=list)  # what {{context}} holds

    def with_context(self, chunks: list[RetrievedChunk], user_template: str) -> PlannedCall:
        """This call with the retrieved passages in its prompts (request, body and cache key
        follow: the same passages for the same prompt are the same request)."""
        case = template.with_context(self.case, context_text(chunks))
        messages = template.build_messages(self.variant, user_template, case)
        request = chat_request(self.variant.model_name, messages, self.variant.params)
        body = wire_body(self.provider, request)
        return replace(self, request=request, body=body, retrieved=chunks,
                       cache_key=cache_key(self.provider, request.model, body,
                                           self.cell.sample_index),
                       input_tokens=template.estimate_messages_tokens(messages))


@dataclass
class JudgeCheck:
    """An LLM-judge check, with the model that judges (`None`: the judged variant's own)."""

    index: int  # position in the project's checks (judge replies are keyed by it)
    name: str
    check: Check
    model: str | None


@dataclass
class RunPlan:
    spec: ExperimentSpec
    samples: int
    providers: dict[str, ProviderConfig]  # every provider a variant or a judge uses
    calls: list[PlannedCall] = field(default_factory=list)
    check_names: list[str] = field(default_factory=list)
    judges: list[JudgeCheck] = field(default_factory=list)

    @property
    def checks(self) -> list[Check]:
        return self.spec.project.checks

    def checks_for(self, variant: Variant) -> list[tuple[Check, str]]:
        """The checks that grade `variant`'s outputs, with their names: the project's, and the
        output schema when the variant asks for one (see output_format)."""
        pairs = list(zip(self.checks, self.check_names))
        implicit = schema_check(variant)
        if implicit is not None:
            pairs.append((implicit, check_names([*self.checks, implicit])[-1]))
        return pairs

    def judge_target(self, judge_check: JudgeCheck, variant: Variant) -> tuple[ProviderConfig, str]:
        """(provider, model name) that grades `variant`'s outputs for this check."""
        model = judge_check.model or variant.model
        provider, _, name = model.partition("/")
        return self.providers[provider], name


class PlanError(Exception):
    """The experiment cannot run as written. `problems` lists every reason, each one line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)


def provider_configs(
    spec: ExperimentSpec, configured: list[ProviderConfig]
) -> dict[str, ProviderConfig]:
    """The providers an experiment can use: the configured ones, then its own inline ones."""
    found = {c.name: c for c in configured}
    problems = []
    for name, table in spec.providers.items():
        try:
            found[name] = ProviderConfig.from_dict({"name": name, **table})
        except (TypeError, ValueError) as exc:
            where = f"providers.{name}"
            if "base_url" in str(exc) and "base_url" in table:
                where += ".base_url"
            problems.append(f"{spec.where(where)}: {where}: {exc}")
    if problems:
        raise PlanError(problems)
    return found


def build_plan(
    spec: ExperimentSpec, providers: dict[str, ProviderConfig], samples: int | None = None
) -> RunPlan:
    """Expand the experiment into calls, or raise PlanError listing every problem."""
    samples = spec.samples if samples is None else samples
    project = spec.project
    problems = _problems(spec, providers, samples)
    if problems:
        raise PlanError(problems)
    names = check_names(project.checks)
    plan = RunPlan(
        spec=spec,
        samples=samples,
        providers={},
        check_names=names,
        judges=[
            JudgeCheck(i, names[i], c, c.config.get("model"))
            for i, c in enumerate(project.checks) if c.type == "judge"
        ],
    )
    used = {v.provider for v in project.variants}
    used |= {j.model.partition("/")[0] for j in plan.judges if j.model}
    plan.providers = {name: providers[name] for name in sorted(used)}
    versions = {
        v.name: PromptVersion(v.system, project.user_template, list(v.examples))
        for v in project.variants
    }
    # Sample-major, then case, then variant: a run stopped half-way (budget, Ctrl-C) has
    # covered every variant about equally, so what it has is still a fair comparison.
    for sample in range(samples):
        for case_index, case in enumerate(project.cases):
            for variant in project.variants:
                config = providers[variant.provider]
                messages = template.build_messages(variant, project.user_template,
                                                   template.with_context(case))
                request = chat_request(variant.model_name, messages, variant.params)
                body = wire_body(config, request)
                plan.calls.append(PlannedCall(
                    cell=Cell(variant.name, case_index, sample),
                    variant=variant,
                    case=case,
                    provider=config,
                    request=request,
                    body=body,
                    cache_key=cache_key(config, request.model, body, sample),
                    input_tokens=template.estimate_messages_tokens(messages),
                    prompt_version=versions[variant.name],
                ))
    return plan


def chat_request(model: str, messages: list[Message], params: dict[str, Any]) -> ChatRequest:
    params = dict(params)
    fmt = params.pop("response_format", None)
    if fmt in ("json", "json_object"):
        fmt = {"type": "json_object"}
    elif fmt == "text":
        fmt = None
    return ChatRequest(model=model, messages=messages, params=params, response_format=fmt)


def judge_request(judge_check: JudgeCheck, model: str, output: str, case: TestCase) -> ChatRequest:
    """The call asking the judge model to grade one output (deterministic: temperature 0)."""
    messages = judge.judge_prompt(judge_check.check, output, case)
    return ChatRequest(model=model, messages=messages, params={"temperature": 0})


def wire_body(config: ProviderConfig, request: ChatRequest) -> dict[str, Any]:
    """The body the provider client will send for `request` (its default params included)."""
    if config.default_params:
        request = replace(request, params={**config.default_params, **request.params})
    return family_for(config.kind).build_body(config, request)


def cache_key(config: ProviderConfig, model: str, body: dict[str, Any], sample_index: int) -> str:
    payload = {
        "kind": config.kind,
        "base_url": config.base_url,
        "model": model,  # Gemini puts the model in the URL, not the body
        "body": body,
        "sample": sample_index,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()


# ----- what can be wrong before the first call ------------------------------------------------


def _problems(spec: ExperimentSpec, providers: dict[str, ProviderConfig], samples: int) -> list[str]:
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
        problems += _unknown_provider(spec, providers, variant.model, where)
        problems += _parameter_problems(spec, providers, variant, index[variant.name])
        retrieval = variant.retrieval
        if retrieval is not None and retrieval.on:
            where = f"variants[{index[variant.name]}].retrieval"
            if not project.documents:
                problems.append(f"{spec.where(where)}: variant '{variant.name}' retrieves "
                                "passages, but the experiment has no documents: add a "
                                '[[documents]] table with path = "your/folder".')
            if retrieval.mode in ("embeddings", "hybrid"):
                problems += _unknown_provider(spec, providers, retrieval.embedding_model,
                                              f"{where}.embedding_model")
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
            problems += _unknown_provider(spec, providers, model, f"checks[{i}].model")
    for problem in check_project(project):
        if problem.severity == "error":
            problems.append(f"{spec.where(_field_path(spec, problem))}: {problem.message}")
    return problems


def _unknown_provider(
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
