"""Starting the app (lab/gui/app.py): what the window needs before its first paint, and the
start-up work that follows it (the workspace opened, the network and keyring stacks loaded)."""

from __future__ import annotations

import subprocess
import sys

from lab.gui.app import StartUp, create_window

# What the first paint must not wait for (bench/startup.py measures the time; this keeps the
# reason in place): the network, keyring and SQLite stacks, JSON Schema, the run machinery and
# the dialogs are all loaded later, where they are used.
NOT_BEFORE_FIRST_PAINT = ("httpx", "keyring", "sqlite_utils", "jsonschema", "rich",
                          "lab.core.providers.client", "lab.core.run.runner",
                          "lab.core.run.setup", "lab.core.workspace.store", "lab.gui.dialogs.export",
                          "lab.core.export.registry")


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
        with qtbot.waitSignal(window.settled, timeout=30_000):
            window.show()
        assert window.session.store.opened.done()
        assert window.session.project is not None and window.session.project.variants
    finally:
        window.close()
        window.session.store.close()
