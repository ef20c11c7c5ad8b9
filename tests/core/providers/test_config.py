"""Provider settings as the user stores them: round trip, defaults, and clear refusals."""

from __future__ import annotations

import json

import pytest
from lab.core.providers import ProviderConfig, Timeouts


def test_round_trip_through_storage_keeps_every_setting() -> None:
    config = ProviderConfig("local", "openai", base_url="http://127.0.0.1:8000/v1/", api_key_env="LOCAL_KEY",
                            concurrency=8, default_params={"temperature": 0}, timeouts=Timeouts(5, 30, 120),
                            max_retries=2, extra_headers={"X-Title": "lab"})
    stored = json.loads(json.dumps(config.to_dict()))
    assert ProviderConfig.from_dict(stored) == config
    assert config.base_url == "http://127.0.0.1:8000/v1"  # trailing slash dropped once


def test_defaults_per_kind_and_what_counts_as_local() -> None:
    assert ProviderConfig("a", "anthropic").base_url == "https://api.anthropic.com"
    assert ProviderConfig("g", "gemini").base_url.endswith("/v1beta")
    assert ProviderConfig("o", "ollama").is_local
    assert ProviderConfig("v", "openai", base_url="http://localhost:1234/v1").is_local
    assert not ProviderConfig("openai", "openai").is_local
    assert ProviderConfig("lan", "openai", base_url="http://10.0.0.5:8000/v1", local=True).is_local


def test_bad_settings_are_refused_with_the_field_named() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        ProviderConfig("x", "cohere")
    with pytest.raises(ValueError, match="unknown setting.*api_key"):
        ProviderConfig.from_dict({"name": "x", "kind": "openai", "api_key": "sk-oops"})
    with pytest.raises(ValueError, match="unknown timeout.*first_byte"):
        ProviderConfig.from_dict({"name": "x", "kind": "openai", "timeouts": {"first_byte": 3}})
    with pytest.raises(ValueError, match="concurrency"):
        ProviderConfig("x", "openai", concurrency=0)
