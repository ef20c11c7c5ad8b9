"""Can the run's providers be called at all? A key for every provider that needs one, and an
answer from every model server on this machine. Checked before anything is sent.

Without it, a newcomer pressing Run on the sample with no key sends every call only to have each
one fail with "no API key found", and a local server that is not running fails each call after
its connect timeout. Both are one problem about one provider, so they are reported once, before
the run, naming the provider, the variants and judge checks that use it, and what to do.

`missing_keys` is quick (a keyring or environment lookup per provider; keyring lookups block, so
call it off the GUI thread). `unreachable_servers` opens a TCP connection to each local server
the plan uses, with a short timeout (a loopback port nobody listens on refuses at once).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from lab.core.providers import keys
from lab.core.providers.base import ProviderConfig

if TYPE_CHECKING:  # annotations only: the window's start does not load the planner
    from lab.core.run.plan import RunPlan

ProblemKind = Literal["no-key", "unreachable"]
KeyFinder = Callable[[ProviderConfig], tuple]  # keys.find_key: (key, where it came from)


@dataclass(frozen=True)
class ProviderProblem:
    """Why one provider cannot be called; `provider` is the name before '/' in model names."""

    provider: str
    kind: ProblemKind
    message: str
    users: tuple[str, ...] = ()  # "variant 'A'", "judge check 'tone'"


def provider_users(plan: RunPlan) -> dict[str, list[str]]:
    """Which variants and judge checks call each provider of the plan, in plan order."""
    users: dict[str, list[str]] = {}
    for variant in plan.spec.project.variants:
        users.setdefault(variant.provider, []).append(f"variant '{variant.name}'")
    for judge_check in plan.judges:
        if judge_check.model:
            name = judge_check.model.partition("/")[0]
            users.setdefault(name, []).append(f"judge check '{judge_check.name}'")
        # a judge without a model asks each judged variant's own provider: counted above
    return {name: found for name, found in users.items() if name in plan.providers}


def _used_by(users: list[str]) -> str:
    shown = ", ".join(users[:3]) + (f" and {len(users) - 3} more" if len(users) > 3 else "")
    return f"used by {shown}"


def missing_keys(plan: RunPlan, find_key: KeyFinder = keys.find_key) -> list[ProviderProblem]:
    """A problem for each provider of the plan that needs a key (see `keys.needs_key`) and has
    none in the keyring or its environment variables."""
    problems = []
    for name, users in provider_users(plan).items():
        config = plan.providers[name]
        if not keys.needs_key(config) or find_key(config)[1] is not None:
            continue
        env = " or ".join(keys.env_var_names(config))
        where = "add it in Providers (kept in the system keyring)" + (
            f" or set {env}" if env else "")
        problems.append(ProviderProblem(
            name, "no-key",
            f"No API key for {name} ({_used_by(users)}): {where}, or point the variants at a "
            "model you can call. Nothing was sent.",
            tuple(users)))
    return problems


def local_servers(plan: RunPlan) -> list[ProviderConfig]:
    """The providers of the plan that run on this machine."""
    return [plan.providers[name] for name in provider_users(plan)
            if plan.providers[name].is_local]


async def unreachable_servers(plan: RunPlan, timeout: float = 1.5) -> list[ProviderProblem]:
    """A problem for each local model server of the plan that does not accept a connection."""
    import asyncio  # here, not at the top: the window's start does not need it

    users = provider_users(plan)
    configs = local_servers(plan)
    answers = await asyncio.gather(*(server_answers(c.base_url, timeout) for c in configs))
    return [
        ProviderProblem(
            config.name, "unreachable",
            f"The model server for {config.name} at {config.base_url} is not answering "
            f"({_used_by(users[config.name])}): start it"
            + (" (ollama serve)" if config.kind == "ollama" else "")
            + ", fix its address in Providers, or point the variants at another model. "
            "Nothing was sent.",
            tuple(users[config.name]))
        for config, answered in zip(configs, answers) if not answered
    ]


async def server_answers(base_url: str, timeout: float = 1.5) -> bool:
    """Whether something accepts a TCP connection at the host and port of `base_url`."""
    import asyncio  # here, not at the top: the window's start does not need it

    url = urlsplit(base_url)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(url.hostname, port), timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return True
