"""Getting a run ready: what is left to call, what the cache answers, and what it will cost.

`prepare_run` (a new run of a plan) and `prepare_resume` (the missing and failed cells of an
earlier run, under the same run id) only read the workspace; nothing is written until the runner
starts, so a user who declines the pre-flight estimate leaves no trace.

A budget is refused (PlanError) when any call the run would send has no price: the cap could
not be kept, and a run that ignores it silently would be worse than one that does not start.

A resume rebuilds the plan from the experiment stored with the run, not from whatever the file
says now: resuming must finish the matrix that was started. Provider settings may differ (a
fixed key or URL is often why a run is resumed), so they come from the caller.

`trusted` says whether the experiment's python checks may run (they are code; see `trust`). It is
the caller's to give for a new run (the window: its own project; the command line: a file the
user trusted), False by default; a resume decides from the run's source unless told.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.core.experiment import file as experiment_file
from lab.core.model import Call
from lab.core.providers.base import ProviderConfig
from lab.core.providers.pricing import PriceTable
from lab.core.run.augment import ClientFactory, augment
from lab.core.run.plan import (
    JudgeCheck,
    PlanError,
    PlannedCall,
    RunPlan,
    build_plan,
    provider_configs,
)
from lab.core.run.preflight import Estimate, estimate
from lab.core.run.trust import resume_trusted
from lab.core.workspace.rows import call_from_row

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store



@dataclass
class RunOptions:
    # Calls in flight: every provider that does not pin its own limit starts here, and the run
    # as a whole never has more in flight than this (or max_concurrency, when growth is allowed).
    concurrency: int = 8
    max_concurrency: int | None = None  # how far the adaptive limits may grow; None: no growth
    no_cache: bool = False  # send every call, even ones the log already has an answer for
    budget_usd: float | None = None  # stop starting calls once the run has spent this much
    # Send the calls through the providers' batch APIs (see batch). None: a new run does not,
    # a resumed run does what it did before.
    batch: bool | None = None

    def problems(self) -> list[str]:
        found = []
        if self.concurrency < 1:
            found.append(f"concurrency must be at least 1 (got {self.concurrency}).")
        if self.max_concurrency is not None and self.max_concurrency < self.concurrency:
            found.append(f"max concurrency ({self.max_concurrency}) is below the concurrency the "
                         f"run starts at ({self.concurrency}); raise it or leave it out.")
        if self.budget_usd is not None and self.budget_usd <= 0:
            found.append(f"the budget must be more than 0 USD (got {self.budget_usd:g}).")
        if self.batch and self.budget_usd is not None:
            found.append("a budget cannot stop a batch half-way (the provider bills whatever it "
                         "finished); leave out the budget, or run without batches.")
        return found


@dataclass
class JudgeGap:
    """A finished output that still lacks one LLM judge's verdict (the run stopped before it)."""

    call: Call  # the logged call, with its id
    planned: PlannedCall
    judge: JudgeCheck


@dataclass
class PreparedRun:
    plan: RunPlan
    options: RunOptions
    work: list[PlannedCall]  # cells still to do, in plan order
    cached: dict[str, dict[str, Any]]  # cache key -> logged call, for cells the cache answers
    estimate: Estimate
    judge_gaps: list[JudgeGap] = field(default_factory=list)
    already_done: int = 0
    spent_usd: float = 0.0  # by earlier sessions of a resumed run
    run_id: int | None = None  # set when resuming
    source: str = ""  # where the experiment came from (a file path, or "gui")
    project_id: int | None = None
    trusted: bool = False  # its python checks may run (a trusted source; see trust)

    @property
    def to_call(self) -> list[PlannedCall]:
        return [c for c in self.work if c.cache_key not in self.cached]

    @property
    def nothing_to_do(self) -> bool:
        return not self.work and not self.judge_gaps


def prepare_run(
    store: Store,
    plan: RunPlan,
    options: RunOptions,
    prices: PriceTable,
    *,
    source: str = "",
    project_id: int | None = None,
    today: dt.date | None = None,
    trusted: bool = False,
    client_factory: ClientFactory | None = None,
) -> PreparedRun:
    """What a new run of `plan` will do and cost; PlanError if it cannot start as asked.

    `trusted`: the plan's python checks come from the user or a file they trusted, and may
    run; otherwise the run leaves them out (with a warning)."""
    if options.problems():
        raise PlanError(options.problems())
    notes = augment(store, plan, project_id, client_factory=client_factory)
    cached = {} if options.no_cache else store.cached_calls(c.cache_key for c in plan.calls)
    prepared = PreparedRun(
        plan=plan, options=options, work=list(plan.calls), cached=cached,
        estimate=Estimate(), source=source, project_id=project_id, trusted=trusted,
    )
    prepared.estimate = estimate(plan, prices, prepared.to_call,
                                 from_cache=len(plan.calls) - len(prepared.to_call), today=today)
    prepared.estimate.warnings += notes
    refuse_unpriced_budget(prepared)
    return prepared


def refuse_unpriced_budget(prepared: PreparedRun) -> None:
    """PlanError when the run has a budget but some call it would send has no price."""
    budget = prepared.options.budget_usd
    if budget is not None:
        refusal = prepared.estimate.budget_refusal(budget)
        if refusal:
            raise PlanError([refusal])


def stored_spec(run: dict[str, Any]) -> experiment_file.ExperimentSpec:
    """The experiment exactly as it was when the run started."""
    origin = run["experiment_source"] or f"run {run['id']}"
    return experiment_file.from_data(run["experiment_config"], origin)


def prepare_resume(
    store: Store,
    run_id: int,
    configured: list[ProviderConfig],
    options: RunOptions,
    prices: PriceTable,
    *,
    today: dt.date | None = None,
    trusted: bool | None = None,
    client_factory: ClientFactory | None = None,
) -> PreparedRun:
    """What run `run_id` still lacks. `configured`: the providers known now (built-in, the
    workspace's, and the experiment file's inline ones if the caller has the file). `trusted`
    None: its python checks run if the run came from the window or from a file still trusted
    and unchanged (`trust.resume_trusted`)."""
    run = store.get_run(run_id)
    if run is None:
        raise PlanError([f"there is no run {run_id} in {store.path}; `lab log` lists the calls "
                         "of every run with their run ids."])
    if options.problems():
        raise PlanError(options.problems())
    spec = stored_spec(run)
    plan = build_plan(spec, provider_configs(spec, configured), samples=run["samples"])
    source = run["experiment_source"] or ""
    notes = augment(store, plan, run.get("project_id"),
                    Path(source).parent if source.endswith(".toml") else None, client_factory)
    # The cache setting belongs to the run: a --no-cache run resumes with fresh calls too.
    options.no_cache = bool(run["settings"].get("no_cache", options.no_cache))
    if options.batch is None:  # a batch run goes on in batches unless told otherwise
        options.batch = bool(run["settings"].get("batch", False))
    done = store.done_cells(run_id)
    work = [c for c in plan.calls if c.cell.key not in done]
    cached = {} if options.no_cache else store.cached_calls(c.cache_key for c in work)
    gaps = _judge_gaps(store, plan, done)
    prepared = PreparedRun(
        plan=plan, options=options, work=work, cached=cached, estimate=Estimate(),
        judge_gaps=gaps, already_done=len(done), run_id=run_id,
        spent_usd=store.run_totals(run_id)["cost_usd"] or 0.0,
        source=run["experiment_source"], project_id=run.get("project_id"),
        trusted=resume_trusted(run, spec) if trusted is None else trusted,
    )
    prepared.estimate = estimate(
        plan, prices, prepared.to_call, from_cache=len(work) - len(prepared.to_call),
        already_done=len(done), judge_gaps=[(g.judge, g.planned) for g in gaps], today=today,
    )
    prepared.estimate.warnings += notes
    refuse_unpriced_budget(prepared)
    return prepared


def _judge_gaps(store: Store, plan: RunPlan, done: dict[tuple[str, int, int], int]) -> list[JudgeGap]:
    if not plan.judges or not done:
        return []
    by_cell = {c.cell.key: c for c in plan.calls}
    have = store.check_names_by_call(done.values())
    gaps = []
    for cell, call_id in done.items():
        missing = [j for j in plan.judges if j.name not in have.get(call_id, set())]
        if not missing or cell not in by_cell:
            continue
        row = store.get_call(call_id)
        call = call_from_row(row)
        call.id = call_id
        gaps += [JudgeGap(call, by_cell[cell], j) for j in missing]
    return gaps


def experiment_config(spec: experiment_file.ExperimentSpec) -> dict[str, Any]:
    """The experiment as plain data (the experiment file's own shape), for the experiments row."""
    return experiment_file.to_data(spec)
