"""Starting the app (lab/gui/app.py): what the window needs before its first paint, and the
start-up work that follows it (the workspace opened, the network and keyring stacks loaded)."""

from __future__ import annotations

import subprocess
import sys

from lab.gui.app import StartUp, create_window

# What the first paint must not wait for (bench/startup.py measures the time; this keeps the
# reason in place): the network, keyring and SQLite stacks, JSON Schema, the run machinery,
# the dialogs and the Analysis view (QtCharts, the statistics; built when first shown) are all
# loaded later, where they are used.
NOT_BEFORE_FIRST_PAINT = ("httpx", "keyring", "sqlite_utils", "jsonschema", "rich",
                          "lab.core.providers.client", "lab.core.run.runner",
                          "lab.core.run.setup", "lab.core.workspace.store", "lab.gui.dialogs.export",
                          "lab.core.export.registry", "PySide6.QtCharts",
                          "lab.core.analysis.analyse", "lab.gui.panes.analysis",
                          "lab.gui.controllers.analysis")


def test_the_window_module_loads_none_of_the_heavy_stacks():
    code = ("import sys\nimport lab.gui.app\n"
            f"print(sorted(m for m in {NOT_BEFORE_FIRST_PAINT!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_workspace_opens_after_the_first_paint_then_the_session_settles_in(qtbot, lab_home):
    window = create_window()
    qtbot.addWidget(window)
    try:
        assert isinstance(window._start_up, StartUp)
        assert not window.session.store.opened.done(), "held until the window has painted"
        assert not (lab_home / "workspace.db").exists()
        # the panes behind the Test cases tab are built after the first paint, not before
        assert not window.is_built and not hasattr(window, "checks_pane")
        with qtbot.waitSignal(window.settled, timeout=30_000):
            window.show()
        assert window.session.store.opened.done()
        assert window.session.project is not None and window.session.project.variants
        assert window.is_built and window.checks_dock.widget() is window.checks_pane
        assert window.history_dock.widget() is window.history_pane
        assert window.documents_dock.widget() is window.documents_pane
        # and they show the project: its checks are listed, the run's calls in History
        assert window.checks_pane.model.rowCount() == len(window.session.project.checks) > 0
    finally:
        window.close()
        window.session.store.close()


def test_a_window_closed_before_its_first_paint_closes_cleanly(qtbot, lab_home):
    window = create_window()
    qtbot.addWidget(window)
    window.close()
    window.session.store.close()
    assert not window.is_built
    assert not (lab_home / "workspace.db").exists()  # nothing was opened


def test_showing_the_analysis_before_the_first_paint_builds_the_rest_first(qtbot, lab_home):
    window = create_window()
    qtbot.addWidget(window)
    try:
        window.analysis_dock.show()  # as a layout restored with the Analysis open
        assert not window.is_built  # the dock shows with the window
        with qtbot.waitSignal(window.settled, timeout=30_000):
            window.show()
            assert window.is_built and window.analysis is not None
        assert window.session.project is not None
    finally:
        window.close()
        window.session.store.close()
