"""Starting the app: QApplication, theme, icon, settings, the store thread and the main window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from lab import APP_ID, APP_NAME, __version__
from lab.core.resources import resource_path
from lab.core.store_thread import StoreThread
from lab.core.workspace import lab_home, open_default_workspace
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


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName("Prompt Lab")
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    follow_system_theme(app)
    return app


def create_window(db: str | None = None) -> MainWindow:
    settings = QSettings(str(settings_file()), QSettings.Format.IniFormat)
    store = StoreThread(lambda: open_default_workspace(db))
    return MainWindow(store, settings)


def run_app(db: str | None = None) -> int:
    app = make_application()
    window = create_window(db)
    window.show()
    code = app.exec()
    window.store.close()
    return code
