"""Shared test setup: Qt runs offscreen, and no test touches the user's real workspace or settings."""

from __future__ import annotations

import os

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
