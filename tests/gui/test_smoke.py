"""`prompt-lab --smoke-test` driven in this process (lab/gui/smoke.py): it passes on the real
window, and any way of failing ends it with exit 1 and one line."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

import lab.gui.smoke as smoke_module
from lab.gui.main_window import MainWindow
from lab.gui.smoke import run_smoke_test


@pytest.fixture
def smoke(qapp, lab_home, capsys):
    """Run the smoke test; (exit code, stdout, stderr). LAB_HOME must come out untouched."""

    def go(timeout_s: float = 60.0) -> tuple[int, str, str]:
        code = run_smoke_test(timeout_s)
        out, err = capsys.readouterr()
        return code, out, err

    yield go
    gc.unfreeze()  # create_window froze everything alive for the app's lifetime; not a test's
    assert list(lab_home.iterdir()) == []


def test_passes_on_the_sample_and_reports_in_one_line(smoke):
    code, out, err = smoke()
    assert code == 0, err
    (line,) = out.splitlines()
    assert " smoke test passed in " in line
    assert "window painted (offscreen); sample project loaded (2 variants, 20 test cases); " \
           "python checks run in a worker process" in line


def test_a_message_box_at_start_up_fails_it(smoke, monkeypatch):
    real = smoke_module.create_window

    def window_with_an_error(*args, **kwargs):
        window = real(*args, **kwargs)
        QTimer.singleShot(0, lambda: QMessageBox.critical(window, "Cannot open the workspace",
                                                          "database disk image is malformed"))
        return window

    monkeypatch.setattr(smoke_module, "create_window", window_with_an_error)
    code, out, err = smoke()
    assert code == 1 and out == ""
    assert err.splitlines() == ["prompt-lab: smoke test failed: a message box appeared: Cannot "
                                "open the workspace: database disk image is malformed"]


def test_an_exception_in_a_slot_fails_it(smoke, monkeypatch):
    def broken(self, snap):
        raise RuntimeError("pane exploded")

    monkeypatch.setattr(MainWindow, "_show_workspace", broken)
    code, out, err = smoke()
    assert code == 1
    assert err.splitlines() == ["prompt-lab: smoke test failed: unexpected error: RuntimeError: "
                                "pane exploded"]


def test_an_empty_project_fails_it(smoke, monkeypatch):
    monkeypatch.setattr(smoke_module, "check_project",
                        lambda *a: (_ for _ in ()).throw(smoke_module.SmokeFailure("no variants")))
    code, _out, err = smoke()
    assert code == 1 and err.strip() == "prompt-lab: smoke test failed: no variants"


def test_running_out_of_time_fails_it_naming_what_was_pending(smoke):
    code, _out, err = smoke(timeout_s=0.001)
    assert code == 1
    (line,) = err.splitlines()
    assert line.startswith("prompt-lab: smoke test failed: timed out after 0.001 s waiting for: ")
    assert "python checks run in a worker process" in line


def test_a_window_that_cannot_be_made_fails_it(smoke, monkeypatch):
    def cannot(*args, **kwargs):
        raise OSError("no fonts")

    monkeypatch.setattr(smoke_module, "create_window", cannot)
    code, _out, err = smoke()
    assert code == 1 and err.strip() == "prompt-lab: smoke test failed: could not start: " \
                                        "OSError: no fonts"


def test_qt_unable_to_start_is_one_line_too(lab_home):
    # Qt ends the process on this fatal error; the report comes first, from its message handler.
    env = {**os.environ, "QT_QPA_PLATFORM": "no-such-platform"}
    result = subprocess.run([sys.executable, "-m", "lab", "gui", "--smoke-test"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        'prompt-lab: smoke test failed: Qt could not start: Could not find the Qt platform plugin '
        '"no-such-platform" in ""; This application failed to start because no Qt platform '
        'plugin could be initialized']
    assert list(lab_home.iterdir()) == []
