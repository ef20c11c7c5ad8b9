"""API keys: the operating system's keyring first, then environment variables.

Keys are stored under the service "prompt-lab" with the provider's name as the user name, so
`lab keys set openai` and the GUI's key dialog share them. Nothing in this module logs, prints or
reprs a key; `list_keys` reports only where a key is found. `redact` scrubs keys out of text that
came back from a provider (some echo part of the key in their 401 message).
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Literal
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import keyring.backend

    from lab.core.providers.base import ProviderConfig

SERVICE = "prompt-lab"
KeySource = Literal["keyring", "env"]

log = logging.getLogger(__name__)

DEFAULT_ENV_VARS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
}


class KeyringUnavailable(RuntimeError):
    """No usable system keyring; the message says how to use an environment variable instead."""


def _unavailable(reason: str, env_hint: str = "the provider's api_key_env, e.g. OPENAI_API_KEY") -> KeyringUnavailable:
    return KeyringUnavailable(
        f"No usable system keyring ({reason}); put the key in an environment variable instead "
        f"({env_hint}) before starting the lab."
    )


def _backend() -> keyring.backend.KeyringBackend:
    # keyring (and its Secret Service stack) is imported on the first key, not with this module:
    # the window's first paint does not need it (lab.core.runtime.preload loads it just after).
    import keyring
    import keyring.backends.chainer
    import keyring.backends.fail

    backend = keyring.get_keyring()
    if isinstance(backend, keyring.backends.fail.Keyring):
        raise _unavailable("no keyring backend is installed or running")
    if isinstance(backend, keyring.backends.chainer.ChainerBackend) and not backend.backends:
        raise _unavailable("the keyring chain has no backends")
    if type(backend).__module__.startswith("keyring.backends.null"):
        raise _unavailable("the keyring backend is the null backend")
    return backend


def env_var_names(config: ProviderConfig) -> tuple[str, ...]:
    """Environment variables consulted for this provider, in order.

    The well-known names (OPENAI_API_KEY, ...) are used only when the provider talks to that
    vendor's own host: an OpenAI-compatible server elsewhere (Groq, OpenRouter, a LAN box) must
    not receive the user's OpenAI key by accident. Those set `api_key_env` or use the keyring.
    """
    if config.api_key_env:
        return (config.api_key_env,)
    from lab.core.providers.base import DEFAULT_BASE_URLS

    default = DEFAULT_BASE_URLS.get(config.kind, "")
    if urlsplit(config.base_url).hostname != urlsplit(default).hostname:
        return ()
    return DEFAULT_ENV_VARS.get(config.kind, ())


def needs_key(config: ProviderConfig) -> bool:
    """Whether calls to this provider cannot work without a key: a vendor's own host does (its
    calls are refused without one); a model on this machine never does; any other server may
    not, and says so itself (a 401) if it does."""
    from lab.core.providers.base import DEFAULT_BASE_URLS

    if config.is_local:
        return False
    default = urlsplit(DEFAULT_BASE_URLS.get(config.kind, "")).hostname
    return urlsplit(config.base_url).hostname == default


def key_hint(config: ProviderConfig) -> str:
    """How a user supplies the key, for error messages."""
    names = " or ".join(env_var_names(config))
    if not names:
        return f"`lab keys set {config.name}` or an env var named in the provider's api_key_env"
    return f"`lab keys set {config.name}` or env var {names}"


def _from_keyring(provider_name: str) -> str | None:
    try:
        return _backend().get_password(SERVICE, provider_name)
    except KeyringUnavailable:
        return None
    except Exception as exc:  # D-Bus down, locked collection, ... : fall back to env quietly
        log.debug("keyring lookup for %s failed: %s", provider_name, type(exc).__name__)
        return None


def find_key(config: ProviderConfig) -> tuple[str | None, KeySource | None]:
    """The key for a provider and where it came from ("keyring", "env" or None)."""
    key = _from_keyring(config.name)
    if key:
        return key, "keyring"
    for name in env_var_names(config):
        value = os.environ.get(name, "").strip()
        if value:
            return value, "env"
    return None, None


def get_key(config: ProviderConfig) -> str | None:
    return find_key(config)[0]


def set_key(provider_name: str, key: str) -> None:
    key = key.strip()
    if not key:
        raise ValueError(f"the key for {provider_name!r} is empty")
    backend = _backend()
    try:
        backend.set_password(SERVICE, provider_name, key)
    except Exception as exc:  # KeyringError, or secretstorage / D-Bus errors from below it
        # Only the type is kept: some backends put the value they failed to store in the message.
        raise _unavailable(f"saving failed: {type(exc).__name__}") from None


def delete_key(provider_name: str) -> bool:
    """Remove a stored key. Returns False if there was none."""
    backend = _backend()
    try:
        if backend.get_password(SERVICE, provider_name) is None:
            return False
        backend.delete_password(SERVICE, provider_name)
        return True
    except _password_delete_error():
        return False
    except Exception as exc:
        raise _unavailable(f"deleting failed: {type(exc).__name__}") from None


def _password_delete_error() -> type[Exception]:
    import keyring.errors

    return keyring.errors.PasswordDeleteError


@dataclass(frozen=True)
class KeyStatus:
    """Whether a provider has a key and where it is. Deliberately has no field for the key."""

    provider: str
    source: KeySource | None
    env_vars: tuple[str, ...]

    @property
    def has_key(self) -> bool:
        return self.source is not None


def list_keys(configs: Iterable[ProviderConfig]) -> list[KeyStatus]:
    return [KeyStatus(c.name, find_key(c)[1], env_var_names(c)) for c in configs]


def keyring_available() -> bool:
    try:
        _backend()
        return True
    except KeyringUnavailable:
        return False


_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every occurrence of each secret (and any bearer token) with "***"."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _BEARER.sub(r"\1***", text)
