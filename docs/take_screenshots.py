"""Take screenshots of the main window for the README and docs.

Run on a real (virtual) screen so what is captured is what a user sees:
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/take_screenshots.py
Uses a fresh workspace in a temporary folder (the sample project), never your own.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "screenshots"


def main() -> int:
    home = tempfile.mkdtemp(prefix="lab-screens-")
    os.environ["LAB_HOME"] = home
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from lab.gui.app import create_window, make_application

    app = make_application(sys.argv[:1])
    window = create_window()
    window.resize(1440, 900)
    window.show()
    OUT.mkdir(exist_ok=True)
    dialogs = []

    def providers() -> None:
        dialogs.append(window.show_providers())

    shots: list[tuple[str, callable]] = [
        ("main-window", lambda: None),
        ("history", lambda: window.history_dock.raise_()),
        ("providers", providers),
    ]

    def target():
        return dialogs[-1] if dialogs and dialogs[-1].isVisible() else window

    def take(index: int = 0) -> None:
        if index == len(shots):
            for dialog in dialogs:
                dialog.close()
            window.close()
            app.quit()
            return
        name, prepare = shots[index]
        prepare()
        QTimer.singleShot(600, lambda: (target().grab().save(str(OUT / f"{name}.png")),
                                        print(f"saved {OUT / (name + '.png')}"),
                                        take(index + 1)))

    QTimer.singleShot(1200, take)
    app.exec()
    window.store.close()
    QApplication.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
