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

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from lab.core.checks import judge
from lab.core.checks.config import check_names
from lab.core.experiment import template
from lab.core.experiment.file import ExperimentSpec
from lab.core.model import (
    Check,
    Message,
    Project,
    PromptVersion,
    RetrievedChunk,
    Step,
    TestCase,
    Variant,
)
from lab.core.providers.base import ChatRequest, ProviderConfig
from lab.core.providers.registry import family_for
from lab.core.retrieval.context import context_text
from lab.core.run.plan_problems import plan_problems
from lab.core.run.output_format import schema_check

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
class PlannedStep:
    """One step of a chain cell: what it sends is rendered when the steps before it are done."""

    step: Step
    variant: Variant  # the step as a one-call variant (its prompt, model and parameters)
    provider: ProviderConfig
    input_tokens: int  # estimated, the earlier steps' outputs counted at their budgets
    output_budget: int | None  # max_tokens, when the step sets one

    @property
    def label(self) -> str:
        return self.variant.name  # "B › extract"


@dataclass
class PlannedCall:
    """One model call the run will make (or answer from the cache). A chain's cell is one
    planned call whose `steps` the runner sends in order; its request is the first step's."""

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
    steps: list[PlannedStep] = field(default_factory=list)  # a chain's, in order

    def with_context(self, chunks: list[RetrievedChunk], user_template: str) -> PlannedCall:
        """This call with the retrieved passages in its prompts (request, body and cache key
        follow: the same passages for the same prompt are the same request)."""
        if self.steps:  # a chain renders its steps as it goes; the passages wait in the case
            return replace(self, retrieved=chunks)
        case = template.with_context(self.case, context_text(chunks))
        messages = template.build_messages(self.variant, user_template, case)
        request = chat_request(self.variant.model_name, messages, self.variant.params)
        body = wire_body(self.provider, request)
        return replace(self, request=request, body=body, retrieved=chunks,
                       cache_key=cache_key(self.provider, request.model, body,
                                           self.cell.sample_index),
                       input_tokens=template.estimate_messages_tokens(messages))

    def prompt_case(self, outputs: dict[str, str]) -> TestCase:
        """The test case a chain step renders with: the passages and the earlier outputs."""
        passages = context_text(self.retrieved) if self.retrieved else None
        return template.with_steps(template.with_context(self.case, passages), outputs)


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
    problems = plan_problems(spec, providers, samples)
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
    used |= {(s.model or v.model).partition("/")[0] for v in project.variants for s in v.steps}
    used |= {v.retrieval.embedding_model.partition("/")[0] for v in project.variants
             if v.retrieval is not None and v.retrieval.mode in ("embeddings", "hybrid")}
    used |= {j.model.partition("/")[0] for j in plan.judges if j.model}
    plan.providers = {name: providers[name] for name in sorted(used)}
    versions = {
        v.name: PromptVersion(v.system, project.user_template, list(v.examples), list(v.steps))
        for v in project.variants
    }
    # Sample-major, then case, then variant: a run stopped half-way (budget, Ctrl-C) has
    # covered every variant about equally, so what it has is still a fair comparison.
    for sample in range(samples):
        for case_index, case in enumerate(project.cases):
            for variant in project.variants:
                if variant.steps:
                    plan.calls.append(_chain_call(variant, project, case, case_index, sample,
                                                  providers, versions[variant.name]))
                    continue
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


def _chain_call(variant: Variant, project: Project, case: TestCase, case_index: int, sample: int,
                providers: dict[str, ProviderConfig], version: PromptVersion) -> PlannedCall:
    """A chain's cell: its steps planned, its request the first step's. The cache key is the
    chain's own (never an answer's): each step is looked up in the cache as it is sent."""
    steps: list[PlannedStep] = []
    budgets = 0
    rendered = template.with_steps(template.with_context(case), {})
    for step in variant.steps:
        as_variant = template.step_variant(variant, step)
        # The earlier outputs are not known yet: every {{steps.…}} counts as empty here.
        unknown = {n: "" for t in (step.system, step.user) for n in template.variables(t)
                   if n.startswith(template.STEPS)}
        messages = template.build_messages(
            as_variant, step.user, TestCase({**template.with_context(case).vars, **unknown}))
        budget = as_variant.params.get("max_tokens")
        budget = budget if isinstance(budget, int) and budget > 0 else None
        steps.append(PlannedStep(step, as_variant, providers[as_variant.provider],
                                 template.estimate_messages_tokens(messages) + budgets, budget))
        budgets += budget or 512
    first = steps[0]
    messages = template.build_messages(first.variant, first.step.user, rendered)
    request = chat_request(first.variant.model_name, messages, first.variant.params)
    body = wire_body(first.provider, request)
    blob = json.dumps({"chain": [vars(s.step) for s in steps], "case": case.vars,
                       "sample": sample}, sort_keys=True, ensure_ascii=False, default=str)
    return PlannedCall(
        cell=Cell(variant.name, case_index, sample), variant=variant, case=case,
        provider=first.provider, request=request, body=body,
        cache_key="chain:" + hashlib.sha256(blob.encode()).hexdigest(),
        input_tokens=sum(s.input_tokens for s in steps), prompt_version=version, steps=steps)


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
