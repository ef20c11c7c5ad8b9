"""GUI fixtures: the real main window on a real workspace file, closed cleanly after each test."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from lab.core.providers import discovery
from lab.core.workspace.location import open_default_workspace
from lab.core.workspace.thread import StoreThread
from lab.gui.app import make_application, settings_file
from lab.gui.main_window import MainWindow
from tests.gui.sample_runs import KEY_ENV
from tests.helpers.fake_provider import API_KEY, FakeProviderServer


@pytest.fixture(scope="session")
def qapp_args():
    return ["prompt-lab-tests"]


@pytest.fixture(autouse=True)
def no_local_servers(monkeypatch):
    """First start looks for model servers on this machine's usual ports; tests look nowhere
    unless they say where (tests/gui/controllers/test_readiness.py)."""
    monkeypatch.setattr(discovery, "USUAL_SERVERS", ())


@pytest.fixture
def make_window(qtbot, qapp, lab_home):
    """Open a main window on a workspace (default: the sample in LAB_HOME) and wait until loaded."""
    windows: list[MainWindow] = []
    make_application()

    def open_window(db=None, wait=True) -> MainWindow:
        settings = QSettings(str(settings_file()), QSettings.Format.IniFormat)
        window = MainWindow(StoreThread(lambda: open_default_workspace(db)), settings)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        if wait:
            qtbot.waitUntil(lambda: window.session.project is not None, timeout=10_000)
        return window

    yield open_window
    for window in windows:
        window.close()
        window.session.store.close()


@pytest.fixture
def fake_server(monkeypatch):
    """The fake provider server, its key where the sample's provider looks for it
    (see sample_runs.point_sample_at)."""
    server = FakeProviderServer().start()
    monkeypatch.setenv(KEY_ENV, API_KEY)
    yield server
    server.stop()
    assert not server.validation_failures
