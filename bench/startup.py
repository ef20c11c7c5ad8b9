"""Launch to first paint: the lab's window against a bare PySide6 window, side by side.

Each round starts both as fresh processes, alternating, and each prints the seconds from its
launch (the time taken just before the process is started) to the first paint of its main
window; the medians and the median of the per-round ratios are printed. Targets (issue #16):
the lab's first paint at most 0.6 s and at most 3x the bare window. Also printed: when the
sample project is shown in the window (the workspace opens after the first paint) and when the
start-up work after it is done (lab.gui.app.settle_in). Measure it the way a user
starts the app: an app-only install (`./scripts/run.sh` makes one in .venv; the test extra adds
pandas, which sqlite-utils imports), on a real or virtual screen:

    xvfb-run -a .venv/bin/python bench/startup.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

BARE = """
import os, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setCentralWidget(QLabel("a bare window"))
window.resize(1200, 800)
class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            print(f"first paint {time.time() - float(os.environ['LAB_STARTUP_PROBE']):.3f}", flush=True)
            QTimer.singleShot(0, app.quit)
        return False
probe = FirstPaint()
window.installEventFilter(probe)
window.show()
app.exec()
"""


def milestones(command: list[str], home: str) -> dict[str, float]:
    env = {**os.environ, "LAB_HOME": home, "LAB_STARTUP_PROBE": repr(time.time())}
    # A user's install has its bytecode compiled (pip compiles it; a checkout writes it on the
    # first start): measuring with PYTHONDONTWRITEBYTECODE set would time the compiler.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    found = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
             for line in out.stdout.splitlines() if line[:1].isalpha() and " " in line}
    if "first paint" not in found:
        raise SystemExit(f"{command[:3]} printed no first paint:\n{out.stdout}\n{out.stderr[-2000:]}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="lab-startup-")
    lab = [sys.executable, "-m", "lab", "gui"]
    bare = [sys.executable, "-c", BARE]
    milestones(lab, home)  # the first start creates the workspace and writes the bytecode
    lab_runs, bare_times = [], []
    for _ in range(args.rounds):
        bare_times.append(milestones(bare, home)["first paint"])
        lab_runs.append(milestones(lab, home))
    lab_times = [run["first paint"] for run in lab_runs]
    ratios = [a / b for a, b in zip(lab_times, bare_times)]
    print(f"launch -> first paint, {args.rounds} rounds (platform: "
          f"{os.environ.get('QT_QPA_PLATFORM') or 'display ' + os.environ.get('DISPLAY', '?')})")
    print(f"  bare PySide6 window  median {statistics.median(bare_times):.3f} s  "
          f"({', '.join(f'{t:.2f}' for t in bare_times)})")
    print(f"  Prompt Lab window    median {statistics.median(lab_times):.3f} s  "
          f"({', '.join(f'{t:.2f}' for t in lab_times)})")
    print(f"  ratio lab / bare: median {statistics.median(ratios):.2f} "
          f"(targets: lab <= 0.6 s and ratio <= 3)")
    for what, meaning in (("shown", "the sample project shown in the window"),
                          ("settled", "network and keyring stacks loaded, glyphs found")):
        times = [run[what] for run in lab_runs if what in run]
        if times:
            print(f"  launch -> {meaning}: median {statistics.median(times):.3f} s")


if __name__ == "__main__":
    main()
