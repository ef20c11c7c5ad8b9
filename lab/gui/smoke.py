"""`prompt-lab --smoke-test` (also `lab gui --smoke-test`): the real window on a throwaway
workspace; exit 0 once it painted and showed the sample project and a python check ran in a
worker process, else exit 1 with one line saying what failed. The steps, the throwaway home and
the report are lab.core.run.smoke; this module drives them with Qt.

Any failure counts: Qt unable to start (no usable platform plugin: Qt's fatal message ends the
process, so the report is printed from the message handler first), an exception while starting,
an exception in any slot (PySide reports those through sys.excepthook), a dialog popping up
(start-up errors are shown in message boxes), or the time running out. A watchdog thread ends
the process if even the event loop stops answering.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from PySide6.QtCore import QEvent, QObject, QtMsgType, QTimer, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from lab.core.run.smoke import (
    DEFAULT_TIMEOUT_S,
    LOADED,
    PAINTED,
    WORKER,
    SmokeFailure,
    SmokeTest,
    check_project,
    check_worker,
    one_line,
    throwaway_home,
    vector_search,
)
from lab.gui.app import create_window, make_application
from lab.gui.main_window import MainWindow

POLL_MS = 100
WATCHDOG_GRACE_S = 15.0  # past the timeout, for a clean exit to happen before the hard one


class _FirstPaint(QObject):
    """Notes the first paint of any widget of the window (installed on the application)."""

    def __init__(self, window: QWidget, on_paint) -> None:
        super().__init__()
        self._window = window
        self._on_paint = on_paint

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.Paint and isinstance(watched, QWidget)
                and watched.window() is self._window):
            self._on_paint()
        return False


def _dialog_text(widget: QWidget) -> str:
    if isinstance(widget, QMessageBox):
        return f"a message box appeared: {widget.windowTitle()}: {widget.text()}"
    return f"a dialog appeared: {widget.windowTitle() or type(widget).__name__}"


def _watchdog(smoke: SmokeTest, home: str) -> threading.Timer:
    def expire() -> None:
        smoke.timed_out()
        print(smoke.result_line(), file=sys.stderr, flush=True)
        import shutil

        shutil.rmtree(home, ignore_errors=True)
        os._exit(1)

    timer = threading.Timer(smoke.timeout_s + WATCHDOG_GRACE_S, expire)
    timer.daemon = True
    return timer


def _qt_messages(smoke: SmokeTest, home: str, previous):
    """A Qt message handler: a fatal message (Qt aborts right after) is reported in one line,
    with the platform plugin warnings that explain it; everything goes on to `previous`."""
    plugin_warnings: list[str] = []

    def handle(mode: QtMsgType, context, message: str) -> None:
        text = " ".join(message.split()).rstrip(".")
        if (context.category or "").startswith("qt.qpa") and mode != QtMsgType.QtDebugMsg:
            if text not in plugin_warnings:
                plugin_warnings.append(text)
            return  # told in the report's one line if Qt cannot start; noise otherwise
        if mode == QtMsgType.QtFatalMsg:
            first = text.split(". ")[0]
            smoke.fail("Qt could not start: " + "; ".join([*plugin_warnings, first]))
            print(smoke.result_line(), file=sys.stderr, flush=True)
            import shutil

            shutil.rmtree(home, ignore_errors=True)
            os._exit(1)
        if previous is not None:
            previous(mode, context, message)
        elif mode != QtMsgType.QtDebugMsg:
            print(message, file=sys.stderr)

    return handle


def run_smoke_test(timeout_s: float = DEFAULT_TIMEOUT_S) -> int:
    smoke = SmokeTest(timeout_s)
    if not os.environ.get("QT_QPA_PLATFORM") and sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # no screen: test everything but the screen
    with throwaway_home() as home:
        watchdog = _watchdog(smoke, str(home))
        watchdog.start()
        previous_hook = sys.excepthook
        previous_handler = qInstallMessageHandler(None)
        qInstallMessageHandler(_qt_messages(smoke, str(home), previous_handler))
        try:
            _run(smoke)
        except Exception as exc:  # noqa: BLE001 - any way of failing is the report
            smoke.fail(f"could not start: {one_line(exc)}")
        finally:
            qInstallMessageHandler(previous_handler)
            sys.excepthook = previous_hook
            watchdog.cancel()
    line = smoke.result_line()
    print(line, file=sys.stderr if smoke.exit_code else sys.stdout, flush=True)
    return smoke.exit_code


def _run(smoke: SmokeTest) -> None:
    app = make_application()

    def fail(why: str) -> None:
        smoke.fail(why)
        app.exit(1)  # every event loop, a message box's too

    def slot_error(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
        fail(f"unexpected error: {one_line(exc)}")

    sys.excepthook = slot_error
    window: MainWindow = create_window()
    painter = _FirstPaint(window, lambda: passed(PAINTED, QApplication.platformName()))

    def passed(step: str, detail: str = "") -> None:
        smoke.step_passed(step, detail)
        if step == PAINTED:
            app.removeEventFilter(painter)
        if smoke.pending == [WORKER]:
            QTimer.singleShot(0, run_worker)

    def run_worker() -> None:
        if WORKER in smoke.passed or smoke.failure is not None:
            return
        try:
            smoke.step_passed(WORKER, check_worker())
            smoke.notes.append(vector_search())
        except SmokeFailure as exc:
            fail(str(exc))
            return
        app.exit(0)

    def loaded(_snapshot: dict[str, Any]) -> None:
        try:
            detail = check_project(window.session.project,
                                   window.variants_pane.model.rowCount(),
                                   window.cases_pane.model.rowCount())
        except SmokeFailure as exc:
            fail(str(exc))
            return
        passed(LOADED, detail)

    def watch_dialogs() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is not None:
            fail(_dialog_text(dialog))

    app.installEventFilter(painter)

    def built() -> None:  # after the first paint (lab.gui.app.StartUp)
        window.workspace.opened.connect(loaded)
        window.workspace.failed.connect(
            lambda exc: fail(f"the workspace could not be opened: {one_line(exc)}"))

    window.when_built(built)
    poll = QTimer(window)
    poll.timeout.connect(watch_dialogs)
    poll.start(POLL_MS)
    def time_is_up() -> None:
        if not smoke.finished:
            smoke.timed_out()
            app.exit(1)

    QTimer.singleShot(int(smoke.remaining_s * 1000), time_is_up)
    window.show()
    try:
        if not smoke.finished:
            app.exec()
    finally:
        poll.stop()
        app.removeEventFilter(painter)
        # Ended early (a failure, the time): the workspace may still be loading. Let it finish
        # and deliver with the window no longer listening, so nothing lands on a closed store.
        if window.is_built:
            window.workspace.blockSignals(True)
        window.close()
        window.session.store.close()
        app.processEvents()

