"""The window's layout is remembered between sessions, and Reset Layout brings every pane back."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from lab.gui.app import settings_file


def test_window_layout_is_remembered(make_window, qtbot, lab_home):
    window = make_window()
    # The offscreen screen is 800x800, so vary the height (the width is at its minimum).
    window.resize(960, 733)
    window.history_dock.hide()
    window.close()
    settings = QSettings(str(settings_file()), QSettings.Format.IniFormat)
    assert settings.value("window/geometry") is not None
    again = make_window()
    assert again.size().height() == 733
    assert not again.history_dock.isVisible()
    again.commands.reset_layout_action.trigger()
    assert again.history_dock.isVisibleTo(again)
