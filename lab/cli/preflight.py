"""The pre-flight `lab run` and `lab check` share: read the experiment and the price table, plan
the run against the workspace's providers and cache, and ask each provider for its models.

Nothing here sends a chat call; `check_models` only asks for model lists.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from lab.cli.errors import UserError
from lab.core.experiment import file as experiment_file
from lab.core.providers import ProviderClient
from lab.core.providers.pricing import PriceTable, PriceTableError
from lab.core.run.plan import RunPlan, build_plan, provider_configs
from lab.core.run.preflight import ModelCheck, check_models
from lab.core.run.setup import PreparedRun, RunOptions, prepare_resume, prepare_run
from lab.core.workspace.location import user_prices_path
from lab.core.workspace.providers import configured_providers

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store



def load_experiment(path: str) -> tuple[experiment_file.ExperimentSpec, PriceTable]:
    """The experiment file and the price table; a problem in either is a UserError."""
    try:
        return experiment_file.load(path), PriceTable.load(user_prices_path())
    except (experiment_file.ExperimentFileError, PriceTableError) as exc:
        raise UserError(str(exc)) from None


def prepare(store: Store, spec: experiment_file.ExperimentSpec, args: argparse.Namespace,
            options: RunOptions, prices: PriceTable, *, trusted: bool = False,
            keep_project: bool = False) -> PreparedRun:
    """The run `args` ask for (a new one, or `--resume`), priced. Raises PlanError listing every
    problem in the experiment, or UserError for a resume that cannot be. `trusted`: the file's
    python checks may run; `keep_project`: save the file's project in the workspace (a run does,
    so the window shows it; a check leaves the workspace as it was)."""
    providers = provider_configs(spec, configured_providers(store))
    resume = getattr(args, "resume", None)
    if resume is None:
        plan = build_plan(spec, providers, samples=args.samples)
        project_id = (store.project_for_file(spec.project, str(Path(args.experiment).resolve()))
                      if keep_project else None)
        return prepare_run(store, plan, options, prices, source=str(args.experiment),
                           project_id=project_id, trusted=trusted)
    if args.samples is not None or args.no_cache:
        raise UserError("--samples and --no-cache are part of the run; they cannot change "
                        "when resuming (leave them out)")
    # a resume of a trusted file: the file must hold the run's very checks (below)
    prepared = prepare_resume(store, resume, list(providers.values()), options, prices,
                              trusted=trusted or None)
    if prepared.plan.spec.project != spec.project:
        raise UserError(
            f"{args.experiment}: its variants, test cases or checks changed since run "
            f"{resume} started, so it cannot finish that run. Start a new run (leave out "
            "--resume), or restore the file."
        )
    return prepared


def ask_models(plan: RunPlan) -> ModelCheck:
    """Ask every provider the plan uses for its models (the only network use of a pre-flight)."""

    async def ask() -> ModelCheck:
        clients = {name: ProviderClient(config) for name, config in plan.providers.items()}
        try:
            return await check_models(plan, clients)
        finally:
            await asyncio.gather(*(c.aclose() for c in clients.values()))

    return asyncio.run(ask())
