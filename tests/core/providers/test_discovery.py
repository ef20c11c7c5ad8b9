"""Finding model servers on this machine where they usually listen."""

from __future__ import annotations

import asyncio
import socket

from lab.core.providers.discovery import FoundServer, LocalServer, find_local_servers
from lab.core.workspace.providers import add_found_server, configured_providers
from lab.core.workspace.store import open_workspace
from tests.helpers.fake_provider import FakeProviderServer


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_only_servers_that_answer_with_models_are_found():
    server = FakeProviderServer().start()  # its Ollama API needs no key, like Ollama
    try:
        nobody = LocalServer("lmstudio", "LM Studio", "openai",
                             f"http://127.0.0.1:{closed_port()}/v1")
        fake = LocalServer("ollama", "Ollama", "ollama", server.base_url("ollama"))
        found = asyncio.run(find_local_servers((nobody, fake), timeout=2.0))
    finally:
        server.stop()
    assert [f.server.provider for f in found] == ["ollama"]
    assert found[0].models and found[0].first_model == f"ollama/{found[0].models[0]}"


def test_a_found_server_becomes_a_provider_once():
    store = open_workspace(None)
    found = FoundServer(LocalServer("vllm", "vLLM", "openai", "http://127.0.0.1:8000/v1"),
                        ("qwen",))
    assert add_found_server(store, found) == "vllm"
    assert add_found_server(store, found) == "vllm"
    assert [p["name"] for p in store.list_providers()] == ["vllm"]
    # The built-in ollama already points at Ollama's usual address: nothing is saved.
    ollama = FoundServer(LocalServer("ollama", "Ollama", "ollama", "http://127.0.0.1:11434"),
                         ("llama3.2",))
    assert add_found_server(store, ollama) == "ollama"
    assert [p["name"] for p in store.list_providers()] == ["vllm"]
    assert {c.name for c in configured_providers(store)} >= {"vllm", "ollama"}
