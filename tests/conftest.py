"""Shared test setup: Qt runs offscreen, and no test touches the user's real workspace or settings."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

# Shared fixtures: the checked fake provider server.
pytest_plugins = ["tests.helpers.fake_provider"]


@pytest.fixture(autouse=True)
def lab_home(tmp_path, monkeypatch):
    """Each test gets its own LAB_HOME: a fresh default workspace and settings file."""
    home = tmp_path / "lab-home"
    home.mkdir()
    monkeypatch.setenv("LAB_HOME", str(home))
    return home


@pytest.fixture
def server(fake_server_checked):
    """The fake provider server on loopback; every request it gets is checked against the
    provider's own API schema (tests.helpers.fake_provider)."""
    return fake_server_checked


@pytest.fixture
def db(tmp_path) -> Path:
    """The test's own workspace file (created when first opened)."""
    return tmp_path / "workspace.db"
