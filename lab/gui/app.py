"""Starting the app: QApplication, theme, icon, settings, the store thread and the main window."""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from lab import APP_ID, APP_NAME, __version__
from lab.core.runtime.resources import resource_path
from lab.core.workspace.location import lab_home, open_default_workspace
from lab.core.workspace.thread import StoreThread
from lab.gui.main_window import MainWindow
from lab.gui.tasks import when_done
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
    settings = QSettings(str(settings_file()), QSettings.Format.IniFormat)
    store = StoreThread(lambda: open_default_workspace(db), held=True)
    window = MainWindow(store, settings, build_all=False)
    window._start_up = StartUp(window, store)  # kept alive with the window
    return window


class StartUp(QObject):
    """What follows the window's first paint, in order. The window builds what the first paint
    did not show (the panes behind tabs, the controllers). The workspace opens (held until then:
    opened on the store thread while the GUI thread builds the window, both would go slower, as
    they share the GIL). Once its project is shown, the session settles in: the network and
    keyring stacks are loaded on the network thread (so they never load mid-run, when their
    imports would stall the GUI thread), the symbol glyphs are found, and what lives as long as
    the app is moved out of the collector's reach (full collections during a run then stay
    short: they stall every thread while they scan). `window.settled` says when it is done."""

    SETTLE_LATEST_MS = 3000  # settle in even if the workspace takes longer to show

    def __init__(self, window: MainWindow, store: StoreThread):
        super().__init__(window)
        self._window = window
        self._settling = False
        AfterFirstPaint(window, self._painted)
        window.when_built(self._built)
        self._store = store

    def _built(self) -> None:
        workspace = self._window.workspace
        workspace.opened.connect(lambda _snap: QTimer.singleShot(0, self._settle))
        workspace.failed.connect(lambda _exc: QTimer.singleShot(0, self._settle))

    def _painted(self) -> None:
        self._window.finish_building()  # at once if something needed it before
        self._store.release()
        QTimer.singleShot(self.SETTLE_LATEST_MS, self._settle)

    def _settle(self) -> None:
        if self._settling:
            return
        self._settling = True
        warm_glyphs()
        when_done(self._window.network.run_blocking(_preload),
                  lambda _none: self._settled(), lambda _exc: self._settled())

    def _settled(self) -> None:
        gc.collect()
        gc.freeze()
        self._window.settled.emit()


def _preload() -> None:
    """What the session will load anyway, loaded off the GUI thread: the network and keyring
    stacks, and the statistics behind the results grid's "3 samples · 2 agree" markers."""
    from lab.core.runtime.preload import preload_network_and_keyring

    preload_network_and_keyring()
    import lab.core.analysis.consistency  # noqa: F401


class AfterFirstPaint(QObject):
    """Calls `then` once, from the event loop, when the window has painted for the first time
    — or after `latest_ms` if it has not (a window started minimized paints only when restored,
    and its workspace must open all the same)."""

    def __init__(self, window: QObject, then: Callable[[], None], latest_ms: int = 2000):
        super().__init__(window)
        self._then: Callable[[], None] | None = then
        window.installEventFilter(self)
        QTimer.singleShot(latest_ms, self._call)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self._call)
        return False

    def _call(self) -> None:
        then, self._then = self._then, None
        if then is not None:
            then()


def report_first_paint(app: QApplication, window: MainWindow, launched_at: float) -> None:
    """For bench/startup.py: print the seconds from launch to the window's first paint, then to
    the sample project shown in it and to the start-up work after it done, then quit
    (LAB_STARTUP_PROBE holds the launch time, as time.time())."""
    waiting = {"shown", "settled"}

    def reached(what: str) -> None:
        print(f"{what} {time.time() - launched_at:.3f}", flush=True)
        waiting.discard(what)
        if not waiting:
            QTimer.singleShot(0, app.quit)

    class FirstPaint(QObject):  # timed as bench/startup.py times the bare window: as it begins
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint:
                watched.removeEventFilter(self)
                print(f"first paint {time.time() - launched_at:.3f}", flush=True)
            return False

    window._first_paint_probe = FirstPaint(window)  # kept alive with the window
    window.installEventFilter(window._first_paint_probe)
    window.settled.connect(lambda: reached("settled"))
    # Connected after the window's own slot: it runs once the project is in the panes.
    window.when_built(lambda: window.workspace.opened.connect(
        lambda _snap: QTimer.singleShot(0, lambda: reached("shown"))))


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
