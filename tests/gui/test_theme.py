"""Light and dark follow the system's colour scheme."""

from __future__ import annotations

from PySide6.QtGui import QPalette

from lab.gui import theme


def test_dark_system_scheme_gives_a_dark_window(qapp, monkeypatch):
    monkeypatch.setattr(theme, "is_dark", lambda: True)
    theme.apply_theme(qapp)
    window = qapp.palette().color(QPalette.ColorRole.Window)
    text = qapp.palette().color(QPalette.ColorRole.WindowText)
    assert window.lightness() < 80 and text.lightness() > 180
    assert "#2c3a5c" in qapp.styleSheet()  # the dark badge colour

    monkeypatch.setattr(theme, "is_dark", lambda: False)
    theme.apply_theme(qapp)
    assert qapp.palette().color(QPalette.ColorRole.Window).lightness() > 200
    assert "#e6eefc" in qapp.styleSheet()
