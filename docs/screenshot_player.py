"""Plays the screenshot scripts' steps on the running app: each step an action, a wait, and
a picture of the topmost window (a dialog when one is open, else the main window); at the end
every window is closed and the app quits. Used by take_screenshots.py and
take_retrieval_screenshots.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

Step = tuple[str | None, Callable[[], object], int]  # (picture name or None, action, delay ms)


def play(app: QApplication, window: QWidget, steps: list[Step], out: Path) -> None:
    """Run `steps` in order after the event loop starts; returns when the app quits."""

    def target() -> QWidget:
        live = [w for w in QApplication.topLevelWidgets() if w.isVisible() and w is not window]
        return live[-1] if live else window

    def step(index: int = 0) -> None:
        if index == len(steps):
            for widget in QApplication.topLevelWidgets():
                if widget is not window:
                    widget.close()
            window.close()
            app.quit()
            return
        name, action, delay = steps[index]
        action()

        def shoot() -> None:
            if name:
                target().grab().save(str(out / f"{name}.png"))
                print(f"saved {out / (name + '.png')}")
            step(index + 1)

        QTimer.singleShot(delay, shoot)

    QTimer.singleShot(300, step)
    app.exec()
