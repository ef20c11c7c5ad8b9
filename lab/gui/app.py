"""Starting the app: QApplication, theme, icon, settings, the store thread and the main window."""

from __future__ import annotations

import gc
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from lab import APP_ID, APP_NAME, __version__
from lab.core.runtime.preload import preload_network_and_keyring
from lab.core.runtime.resources import resource_path
from lab.core.workspace.location import lab_home, open_default_workspace
from lab.core.workspace.thread import StoreThread
from lab.gui.main_window import MainWindow
from lab.gui.theme import follow_system_theme

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def app_icon() -> QIcon:
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(str(resource_path(f"icons/prompt-lab-{size}.png")))
    return icon


def settings_file() -> Path:
    """Window layout and preferences, beside the default workspace (never any secret)."""
    return lab_home() / "settings.ini"


# PySide releases the GIL around every Qt call and must win it back from the run's worker
# threads; with Python's default 5 ms switch interval each hand-off can cost the GUI thread up
# to 5 ms, and a repaint makes hundreds of them. 1 ms keeps the window responsive during runs
# (bench/gui_responsiveness.py) at a negligible cost to throughput.
GUI_SWITCH_INTERVAL_S = 0.001


def make_application(argv: list[str] | None = None) -> QApplication:
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName("Prompt Lab")
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    follow_system_theme(app)
    return app


# Symbols the window draws in cells and captions. The first time a glyph missing from the main
# font is drawn, Qt searches the fallback fonts, which takes tens of milliseconds per font; done
# once at start-up, a results grid filling in never pays for it.
SYMBOLS = "✓✗★👍👎…→←↑↓≈≤≥·×⚠▲▼−✕"


def warm_glyphs() -> None:
    from PySide6.QtGui import QFont, QImage, QPainter

    image = QImage(64, 16, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    for font in (QApplication.font(), QFont(QApplication.font().family(), weight=QFont.Weight.DemiBold)):
        painter.setFont(font)
        for symbol in SYMBOLS:
            painter.drawText(0, 12, symbol)
    painter.end()


def create_window(db: str | None = None) -> MainWindow:
    preload_network_and_keyring()
    warm_glyphs()
    settings = QSettings(str(settings_file()), QSettings.Format.IniFormat)
    store = StoreThread(lambda: open_default_workspace(db))
    window = MainWindow(store, settings)
    # Everything loaded so far lives as long as the app: moving it out of the collector's reach
    # keeps full collections during a run short (they stall every thread while they scan).
    gc.collect()
    gc.freeze()
    return window


def report_first_paint(app: QApplication, window: MainWindow, launched_at: float) -> None:
    """For bench/startup.py: print the seconds from launch to the window's first paint, then
    quit (LAB_STARTUP_PROBE holds the launch time, as time.time())."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint:
                watched.removeEventFilter(self)
                print(f"first paint {time.time() - launched_at:.3f}", flush=True)
                QTimer.singleShot(0, app.quit)
            return False

    window._first_paint_probe = FirstPaint(window)  # kept alive with the window
    window.installEventFilter(window._first_paint_probe)


def run_app(db: str | None = None) -> int:
    app = make_application()
    window = create_window(db)
    probe = os.environ.get("LAB_STARTUP_PROBE")
    if probe:
        report_first_paint(app, window, float(probe))
    window.show()
    code = app.exec()
    window.session.store.close()
    return code
