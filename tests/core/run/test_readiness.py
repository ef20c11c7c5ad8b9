"""Readiness before a run: a provider that needs a key and has none, and a local model server
that does not answer, are each one problem naming the provider and who uses it."""

from __future__ import annotations

import asyncio
import socket

from lab.core.providers import keys
from tests.core.run.test_plan import plan_of

HOSTED = '''
name = "first run"

[[variants]]
name = "A"
model = "openai/gpt-4o-mini"

[[variants]]
name = "B"
model = "anthropic/claude-sonnet-4-5"

[cases]
rows = [{ input = "hi" }]

[[checks]]
type = "judge"
name = "tone"
rubric = "friendly?"
model = "gemini/gemini-2.5-flash"
'''


def no_keys(_config):
    return None, None


def test_hosted_providers_without_a_key_are_named_with_their_users():
    from lab.core.run.readiness import missing_keys

    problems = missing_keys(plan_of(HOSTED), find_key=no_keys)
    assert [(p.provider, p.kind) for p in problems] == [
        ("openai", "no-key"), ("anthropic", "no-key"), ("gemini", "no-key")]
    assert problems[0].users == ("variant 'A'",)
    assert problems[2].users == ("judge check 'tone'",)
    assert "No API key for openai (used by variant 'A')" in problems[0].message
    assert "OPENAI_API_KEY" in problems[0].message and "Nothing was sent" in problems[0].message


def test_a_key_in_the_keyring_or_environment_is_enough(monkeypatch):
    from lab.core.run.readiness import missing_keys

    only_openai = lambda c: ("sk-x", "env") if c.name == "openai" else (None, None)  # noqa: E731
    assert [p.provider for p in missing_keys(plan_of(HOSTED), find_key=only_openai)] == [
        "anthropic", "gemini"]
    monkeypatch.setattr(keys, "_from_keyring", lambda _name: None)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert "openai" not in [p.provider for p in missing_keys(plan_of(HOSTED))]


def test_local_and_custom_servers_need_no_key():
    from lab.core.run.readiness import missing_keys

    # A server elsewhere may not need a key (it says so with a 401); a local one never does.
    custom = plan_of()  # test_plan's EXPERIMENT: an OpenAI-compatible server on 127.0.0.1:9
    assert missing_keys(custom, find_key=no_keys) == []
    ollama = HOSTED.replace("openai/gpt-4o-mini", "ollama/llama3.2")
    assert "ollama" not in [p.provider for p in missing_keys(plan_of(ollama), find_key=no_keys)]
    assert not keys.needs_key(plan_of(ollama).providers["ollama"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_local_server_that_does_not_answer_is_a_problem():
    from lab.core.run.readiness import server_answers, unreachable_servers

    port = free_port()
    text = plan_text = HOSTED.replace("openai/gpt-4o-mini", "mine/llama").replace(
        "name = \"first run\"",
        f'name = "first run"\n[providers.mine]\nkind = "openai"\nbase_url = "http://127.0.0.1:{port}/v1"\n')
    problems = asyncio.run(unreachable_servers(plan_of(text)))
    assert [(p.provider, p.kind) for p in problems] == [("mine", "unreachable")]
    assert f"127.0.0.1:{port}" in problems[0].message and "variant 'A'" in problems[0].message

    with socket.socket() as listening:
        listening.bind(("127.0.0.1", port))
        listening.listen()
        assert asyncio.run(server_answers(f"http://127.0.0.1:{port}/v1"))
        assert asyncio.run(unreachable_servers(plan_of(plan_text))) == []
