"""Finding the lab's python-check worker processes from a test (Linux /proc)."""

from __future__ import annotations

import os
from pathlib import Path

WORKER_MARK = b"spawn_main"  # in the command line of every multiprocessing spawn worker


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # gone meanwhile, or not ours to read
        return b""


def _alive(proc: Path) -> bool:
    stat = _read(proc / "stat")
    if not stat:
        return False
    state = stat.rsplit(b")", 1)[-1].split()[0]
    return state not in (b"Z", b"X")  # a zombie has ended; only its parent has not noticed


def child_workers(parent: int | None = None) -> set[int]:
    """Live spawn workers whose parent is `parent` (default: this process)."""
    parent = os.getpid() if parent is None else parent
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        stat = _read(proc / "stat")
        if not stat:
            continue
        ppid = int(stat.rsplit(b")", 1)[-1].split()[1])
        if ppid == parent and WORKER_MARK in _read(proc / "cmdline") and _alive(proc):
            found.add(int(proc.name))
    return found


def workers_with_env(marker: str) -> set[int]:
    """Live spawn workers, anyone's children, whose environment holds `marker` (e.g. a test's own
    LAB_HOME=... line): the workers a subprocess started, even after it exited."""
    needle = marker.encode()
    return {
        int(proc.name) for proc in Path("/proc").iterdir()
        if proc.name.isdigit() and WORKER_MARK in _read(proc / "cmdline")
        and needle in _read(proc / "environ").split(b"\0") and _alive(proc)
    }


def cpu_seconds(pid: int) -> float:
    stat = _read(Path(f"/proc/{pid}/stat"))
    if not stat:
        return 0.0
    fields = stat.rsplit(b")", 1)[-1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
