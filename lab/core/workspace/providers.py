"""Which providers the lab knows: the built-in four, plus the ones the user configured.

Built-ins mean a newcomer can write `openai/gpt-4o-mini` and only needs a key. A provider the user
saves under the same name replaces the built-in one. Definitions live in the workspace's
`providers` table (never a key); experiment files can add their own inline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from lab.core.providers import keys
from lab.core.providers.base import KINDS, ProviderConfig
from lab.core.providers.errors import ProviderError

if TYPE_CHECKING:
    from lab.core.providers.discovery import FoundServer
    from lab.core.workspace.store import Store

BUILT_IN = ("openai", "anthropic", "gemini", "ollama")


def built_in_providers() -> list[ProviderConfig]:
    return [ProviderConfig(name=kind, kind=kind) for kind in BUILT_IN if kind in KINDS]


def config_from_row(row: dict[str, Any]) -> ProviderConfig:
    return ProviderConfig.from_dict(row)


def configured_providers(store: Store | None = None,
                         inline: Iterable[ProviderConfig] = ()) -> list[ProviderConfig]:
    """Built-ins, overridden by the workspace's providers, overridden by inline definitions."""
    by_name = {c.name: c for c in built_in_providers()}
    if store is not None:
        for row in store.list_providers():
            by_name[row["name"]] = config_from_row(row)
    for config in inline:
        by_name[config.name] = config
    return list(by_name.values())


def save_provider(store: Store, config: ProviderConfig) -> None:
    data = config.to_dict()
    name, kind = data.pop("name"), data.pop("kind")
    store.save_provider(name, kind, data)


def remember_settings(store: Store, config: ProviderConfig, changes: dict[str, Any]) -> bool:
    """Keep settings a client learned about a provider's server (`{"stream_usage": False}`) in
    the workspace's definition of that provider, if it is the one saved there (same name, kind
    and base_url). False when it is not saved there: a built-in, or an experiment file's own."""
    for row in store.list_providers():
        if row["name"] != config.name:
            continue
        saved = config_from_row(row)
        if (saved.kind, saved.base_url) != (config.kind, config.base_url):
            return False
        save_provider(store, replace(saved, **changes))
        return True
    return False


def add_found_server(store: Store, found: FoundServer) -> str:
    """Make a model server found on this machine callable: save it as a provider unless one of
    that name already points at it (the built-in `ollama` does). Returns the provider's name."""
    wanted = found.provider_config()
    for config in configured_providers(store):
        if config.name == wanted.name and config.base_url == wanted.base_url:
            return config.name
    save_provider(store, wanted)
    return wanted.name


async def list_models(config: ProviderConfig, key: str | None = None) -> list[str]:
    """The models a provider offers ("Test connection"). `key` tries a key before it is saved."""
    lookup = (lambda _config: key) if key else None
    from lab.core.providers.client import (
        ProviderClient,  # httpx: loaded when a server is asked
    )

    async with ProviderClient(config, key_lookup=lookup) as client:
        return sorted(await client.list_models())


async def list_all_models(configs: Iterable[ProviderConfig]) -> dict[str, list[str] | str]:
    """Models per provider for the model picker; a provider that fails maps to its error text.

    Providers with no key (and not local) are skipped without a call: asking would only fail.
    """
    import asyncio  # here, not at the top: the window's start does not need it

    usable = [c for c in configs if c.is_local or keys.find_key(c)[1] is not None]

    async def one(config: ProviderConfig) -> list[str] | str:
        try:
            return await list_models(config)
        except ProviderError as exc:
            return str(exc)

    results = await asyncio.gather(*(one(c) for c in usable))
    return {c.name: r for c, r in zip(usable, results)}
