"""Which providers the lab knows: the built-in four, plus the ones the user configured.

Built-ins mean a newcomer can write `openai/gpt-4o-mini` and only needs a key. A provider the user
saves under the same name replaces the built-in one. Definitions live in the workspace's
`providers` table (never a key); experiment files can add their own inline.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lab.core.providers.base import KINDS, ProviderConfig
from lab.core.store import Store

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
