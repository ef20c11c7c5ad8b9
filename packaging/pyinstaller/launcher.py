"""The entry point of the PyInstaller bundle, shared by its two executables.

`prompt-lab` (the desktop launcher, windowed on Windows and macOS) and `lab` (the command line,
a console program) are the same program under two names: which one runs is decided by the name
of the executable, so both share one folder and one copy of every library. Python checks run in
spawned worker processes, which start this executable again: `freeze_support()` comes first, so
such a start becomes the worker and never opens a window.
"""

import multiprocessing
import sys
from pathlib import Path


def main() -> int:
    multiprocessing.freeze_support()
    from lab.cli import gui_main, main as lab_main

    if Path(sys.executable).stem.lower() == "prompt-lab":
        return gui_main()
    return lab_main()


if __name__ == "__main__":
    raise SystemExit(main())
