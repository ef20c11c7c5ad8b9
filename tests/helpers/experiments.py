"""Experiment files pointed at the fake provider server, and running them in-process.

Shared by the runner tests (in-process, fast retries) and the `lab run` tests (a subprocess
reading the key from LAB_TEST_KEY).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lab.core.experiment.file import ExperimentSpec, loads
from lab.core.providers import ProviderClient, RetryPolicy
from lab.core.providers.pricing import PriceTable
from lab.core.run.plan import RunPlan, build_plan, provider_configs
from lab.core.run.runner import Runner
from lab.core.run.setup import PreparedRun, RunOptions, prepare_resume, prepare_run
from lab.core.workspace.providers import configured_providers
from lab.core.workspace.store import open_workspace
from tests.helpers.fake_provider import API_KEY, FakeProviderServer

KEY_ENV = "LAB_TEST_KEY"
FAST_RETRIES = RetryPolicy(initial_delay=0.01, max_delay=0.05, max_server_delay=5.0)
JUDGE_MODEL = "gpt-4o"  # judge calls go to their own model, so the fake can script its replies


def experiment_text(
    server: FakeProviderServer,
    *,
    cases: int = 3,
    samples: int = 1,
    concurrency: int | None = 4,  # None: the provider pins none, the run decides
    judge: bool = False,
    extra: str = "",
) -> str:
    """Two variants (A terse, B warm) over `cases` questions, with a `contains` check."""
    rows = ",\n".join(f'  {{ question = "Question {i}: where is my order?" }}' for i in range(cases))
    judge_check = f'''
[[checks]]
type = "judge"
name = "polite"
rubric = "Is the reply polite?"
model = "fake/{JUDGE_MODEL}"
''' if judge else ""
    return f'''name = "tone"
samples = {samples}

[providers.fake]
kind = "openai"
base_url = "{server.base_url("openai")}"
api_key_env = "{KEY_ENV}"
local = false
{f"concurrency = {concurrency}" if concurrency is not None else ""}

[[variants]]
name = "A"
model = "fake/gpt-4o-mini"
system = "You are terse."
max_tokens = 50

[[variants]]
name = "B"
model = "fake/gpt-4o-mini"
system = "You are warm and brief."
max_tokens = 50

[cases]
user = "{{{{question}}}}"
rows = [
{rows}
]

[[checks]]
type = "contains"
name = "mentions order"
value = "order"
{judge_check}{extra}'''


def make_client(config: Any) -> ProviderClient:
    return ProviderClient(config, key_lookup=lambda _c: API_KEY, retry_policy=FAST_RETRIES)


def plan_for(text: str, db: Path, samples: int | None = None) -> RunPlan:
    spec: ExperimentSpec = loads(text, "tone.toml")
    with open_workspace(db) as store:
        return build_plan(spec, provider_configs(spec, configured_providers(store)), samples)


def prepare(text: str, db: Path, options: RunOptions | None = None, *,
            resume: int | None = None, samples: int | None = None,
            trusted: bool | None = None) -> PreparedRun:
    """`trusted`: may its python checks run (default: not for a new run; a resume decides)."""
    options = options or RunOptions()
    with open_workspace(db) as store:
        if resume is not None:
            providers = list(plan_for(text, db).providers.values())
            return prepare_resume(store, resume, providers, options, PriceTable.load(),
                                  trusted=trusted, client_factory=make_client)
        return prepare_run(store, plan_for(text, db, samples), options, PriceTable.load(),
                           source="tone.toml", trusted=bool(trusted), client_factory=make_client)


def run_experiment(text: str, db: Path, options: RunOptions | None = None, *,
                   events: list | None = None, resume: int | None = None,
                   samples: int | None = None, trusted: bool | None = None) -> Any:
    """Prepare and run to the end in this thread; returns RunFinished."""
    prepared = prepare(text, db, options, resume=resume, samples=samples, trusted=trusted)
    runner = Runner(db, prepared, on_event=(events.append if events is not None else None),
                    client_factory=make_client)
    return asyncio.run(runner.run())
