"""`lab keys` against the real Secret Service (gnome-keyring in a private D-Bus session)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.helpers.keyring_session import secret_service_keyring  # noqa: F401  (fixture)

KEY = "sk-cli-test-6f1d2c9e8b7a"


def lab(*args: str, stdin: str = "", env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "lab", *args], input=stdin, capture_output=True, text=True,
        timeout=60, env={**os.environ, **(env or {})},
    )


def test_set_list_delete_with_the_real_keyring(secret_service_keyring):  # noqa: F811
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring"}
    result = lab("keys", "set", "anthropic", stdin=KEY + "\n", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Stored the key for anthropic in the system keyring."
    # It really is in the Secret Service, where any keyring client can see it.
    assert secret_service_keyring.get_password("prompt-lab", "anthropic") == KEY

    listed = lab("keys", "list", "--json", env=env)
    providers = {p["provider"]: p for p in json.loads(listed.stdout)["providers"]}
    assert providers["anthropic"]["source"] == "keyring"
    assert providers["openai"]["source"] is None
    assert providers["ollama"]["local"] is True
    text = lab("keys", "list", env=env).stdout
    assert "anthropic    key in the keyring" in text
    assert "ollama       no key needed (runs locally)" in text

    assert lab("keys", "delete", "anthropic", env=env).returncode == 0
    assert secret_service_keyring.get_password("prompt-lab", "anthropic") is None
    again = lab("keys", "delete", "anthropic", env=env)
    assert again.returncode == 2
    assert again.stderr.strip() == "lab: no key stored for 'anthropic' in the keyring"

    for output in (result, listed, again):
        assert KEY not in output.stdout + output.stderr


def test_environment_variable_is_reported_without_the_key():
    result = lab("keys", "list", env={"OPENAI_API_KEY": KEY})
    assert "openai       key from the environment" in result.stdout
    assert KEY not in result.stdout + result.stderr


def test_no_keyring_backend_says_how_to_use_an_environment_variable():
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = lab("keys", "set", "openai", stdin=KEY + "\n", env=env)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("lab: No usable system keyring")
    assert "environment variable" in line and "OPENAI_API_KEY" in line
    assert KEY not in result.stderr


def test_empty_key_is_refused():
    result = lab("keys", "set", "openai", stdin="\n")
    assert result.returncode == 2
    assert "no key given on standard input" in result.stderr


EXPERIMENT = """
name = "keys"
[providers.f]
kind = "openai"
base_url = "https://llm.example.test/v1"
[[variants]]
name = "A"
model = "f/some-model"
[cases]
user = "{{q}}"
rows = [{ q = "hi" }]
"""


def test_a_provider_defined_in_an_experiment_file_gets_a_key(secret_service_keyring, tmp_path):  # noqa: F811
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring"}
    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT)
    stored = lab("keys", "set", "f", "--experiment", str(exp), stdin=KEY + "\n", env=env)
    assert stored.returncode == 0, stored.stderr
    assert stored.stderr == ""  # known through the file: no warning
    assert secret_service_keyring.get_password("prompt-lab", "f") == KEY
    listed = json.loads(lab("keys", "list", "--json", "--experiment", str(exp), env=env).stdout)
    assert {p["provider"]: p["source"] for p in listed["providers"]}["f"] == "keyring"

    # A name nothing here defines is stored too (the file may be elsewhere), with a warning that
    # shows the names it does know, so a typo is seen at once.
    typo = lab("keys", "set", "opneai", stdin=KEY + "\n", env=env)
    assert typo.returncode == 0, typo.stderr
    assert "no provider named 'opneai' is configured here" in typo.stderr
    assert "openai, anthropic, gemini, ollama" in typo.stderr
    assert KEY not in stored.stdout + stored.stderr + typo.stdout + typo.stderr


def test_keys_list_reads_no_workspace_into_existence(lab_home, tmp_path):
    assert lab("keys", "list").returncode == 0
    assert not (lab_home / "workspace.db").exists()
    missing = lab("keys", "list", "--db", str(tmp_path / "nope.db"))
    assert missing.returncode == 2
    assert "There is no workspace at" in missing.stderr
    assert not (tmp_path / "nope.db").exists()
