"""Opening a workspace the lab cannot read: the problem is reported and nothing is shown."""

from __future__ import annotations

import sqlite3

from PySide6.QtWidgets import QMessageBox

from lab.core.workspace.store import open_workspace


def test_a_newer_workspace_is_reported_and_nothing_is_shown(make_window, qtbot, tmp_path, monkeypatch):
    path = tmp_path / "future.db"
    open_workspace(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.commit()
    conn.close()
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _p, title, text: shown.append((title, text)))
    window = make_window(db=str(path), wait=False)
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert shown[0][0] == "Cannot open the workspace"
    assert "newer version of Prompt Lab" in shown[0][1]
    assert window.run_status.workspace_label.text() == "No workspace open"
    assert window.variants_pane.model.rowCount() == 0
