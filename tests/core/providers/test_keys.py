"""API keys in the real Secret Service keyring (gnome-keyring on a private D-Bus), then env vars."""

from __future__ import annotations

import asyncio

import keyring
import keyring.backends.fail
import pytest
from lab.core.model import Message
from lab.core.providers import ChatRequest, ProviderClient, ProviderConfig, keys

from tests.helpers.fake_provider import FakeProviderServer
from tests.helpers.keyring_session import secret_service_keyring  # noqa: F401  (fixture)

KEY = "sk-keyring-test-5c1d9e"
ENV_VARS = ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "LOCAL_KEY"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def real_keyring(secret_service_keyring):  # noqa: F811
    yield secret_service_keyring
    for name in ("openai", "local", "anthropic"):
        try:
            keys.delete_key(name)
        except keys.KeyringUnavailable:
            pass


@pytest.fixture
def no_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.mark.keyring
def test_set_get_list_delete_in_the_system_keyring(real_keyring, monkeypatch: pytest.MonkeyPatch) -> None:
    from keyring.backends.SecretService import Keyring as SecretServiceKeyring

    assert isinstance(keyring.get_keyring(), SecretServiceKeyring)
    openai = ProviderConfig("openai", "openai")
    keys.set_key("openai", f"  {KEY}\n")  # pasted with stray whitespace

    assert keys.find_key(openai) == (KEY, "keyring")
    # Stored where other tools look: service "prompt-lab", user = the provider's name.
    assert keyring.get_password("prompt-lab", "openai") == KEY
    statuses = keys.list_keys([openai, ProviderConfig("anthropic", "anthropic")])
    assert [(s.provider, s.source) for s in statuses] == [("openai", "keyring"), ("anthropic", None)]
    assert KEY not in repr(statuses)

    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    assert keys.find_key(openai) == (KEY, "keyring")  # the keyring wins over the environment
    assert keys.delete_key("openai") is True
    assert keys.delete_key("openai") is False
    assert keys.find_key(openai) == ("sk-from-env", "env")


@pytest.mark.keyring
def test_client_reads_its_key_from_the_keyring(real_keyring) -> None:
    keys.set_key("local", KEY)
    with FakeProviderServer(api_keys=(KEY,)) as server:
        async def go() -> str:
            async with ProviderClient(server.provider_config("openai", name="local")) as client:
                result = await client.complete(ChatRequest("gpt-4o-mini", [Message("user", "hi")]))
                return result.text

        assert asyncio.run(go()) == "You said: hi"
        assert server.requests[-1].key_present and server.requests[-1].headers["authorization"] == "<redacted>"


def test_environment_variables_by_kind(no_keyring, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "g-second")
    gemini = ProviderConfig("gemini", "gemini")
    assert keys.find_key(gemini) == ("g-second", "env")
    monkeypatch.setenv("GEMINI_API_KEY", "g-first")
    assert keys.get_key(gemini) == "g-first"

    monkeypatch.setenv("LOCAL_KEY", "local-secret")
    assert keys.get_key(ProviderConfig("local", "openai", base_url="http://127.0.0.1:8000/v1",
                                       api_key_env="LOCAL_KEY")) == "local-secret"


def test_vendor_key_is_not_sent_to_other_servers(no_keyring, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai")
    assert keys.get_key(ProviderConfig("openai", "openai")) == "sk-real-openai"
    groq = ProviderConfig("groq", "openai", base_url="https://api.groq.com/openai/v1")
    assert keys.get_key(groq) is None
    assert "api_key_env" in keys.key_hint(groq)


def test_without_a_keyring_backend_the_message_says_to_use_an_env_var(no_keyring) -> None:
    assert not keys.keyring_available()
    with pytest.raises(keys.KeyringUnavailable) as caught:
        keys.set_key("openai", KEY)
    message = str(caught.value)
    assert "environment variable" in message and "\n" not in message and KEY not in message
    with pytest.raises(keys.KeyringUnavailable):
        keys.delete_key("openai")
    assert keys.find_key(ProviderConfig("openai", "openai")) == (None, None)


def test_redact_scrubs_keys_and_bearer_tokens() -> None:
    text = f"Incorrect API key provided: {KEY}. Header was Authorization: Bearer abcdefgh12345678"
    clean = keys.redact(text, [KEY, None, ""])
    assert KEY not in clean and "abcdefgh12345678" not in clean
    assert clean.startswith("Incorrect API key provided: ***")
