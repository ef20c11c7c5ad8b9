"""Model servers on this machine, found where they usually listen: Ollama, llama.cpp's server,
LM Studio and vLLM. On first start the window offers to point the sample at one.

Each is asked for its model list on the loopback address with a short timeout and no retries; a
port nobody listens on refuses at once, so looking costs well under a second. A server counts as
found only if it answers with at least one model: an empty list is nothing to run.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.core.providers.base import ProviderConfig, Timeouts
from lab.core.providers.errors import ProviderError


@dataclass(frozen=True)
class LocalServer:
    """Where a kind of model server usually listens, and the provider that talks to it."""

    provider: str  # the provider name its models get ("ollama/llama3.2")
    label: str  # what users call it
    kind: str  # API family
    base_url: str

    def config(self, timeout: float = 10.0) -> ProviderConfig:
        return ProviderConfig(name=self.provider, kind=self.kind, base_url=self.base_url,
                              local=True, max_retries=0,
                              timeouts=Timeouts(connect=timeout, first_token=timeout,
                                                total=timeout))


USUAL_SERVERS: tuple[LocalServer, ...] = (
    LocalServer("ollama", "Ollama", "ollama", "http://127.0.0.1:11434"),
    LocalServer("llamacpp", "llama.cpp server", "openai", "http://127.0.0.1:8080/v1"),
    LocalServer("lmstudio", "LM Studio", "openai", "http://127.0.0.1:1234/v1"),
    LocalServer("vllm", "vLLM", "openai", "http://127.0.0.1:8000/v1"),
)


@dataclass(frozen=True)
class FoundServer:
    server: LocalServer
    models: tuple[str, ...]

    @property
    def first_model(self) -> str:
        """"provider/model" for the first model it offers."""
        return f"{self.server.provider}/{self.models[0]}"

    def provider_config(self) -> ProviderConfig:
        """The provider to save so variants can call it (ordinary timeouts and retries)."""
        return ProviderConfig(name=self.server.provider, kind=self.server.kind,
                              base_url=self.server.base_url, local=True)


async def find_local_servers(servers: tuple[LocalServer, ...] = USUAL_SERVERS,
                             timeout: float = 1.0) -> list[FoundServer]:
    """The servers that answer with at least one model, in the order given."""
    import asyncio  # here, not at the top: the window's start does not need it
    from lab.core.providers.client import ProviderClient  # httpx, loaded when servers are asked

    async def ask(server: LocalServer) -> FoundServer | None:
        try:
            async with ProviderClient(server.config(timeout), key_lookup=lambda _c: None) as client:
                models = await asyncio.wait_for(client.list_models(), timeout)
        except (ProviderError, asyncio.TimeoutError, OSError):
            return None
        return FoundServer(server, tuple(models)) if models else None

    found = await asyncio.gather(*(ask(s) for s in servers))
    return [f for f in found if f is not None]
