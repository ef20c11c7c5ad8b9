"""Running the real `lab` command in a subprocess, as a script or CI job would, and reading the
workspace it wrote with plain SQLite."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers.experiments import KEY_ENV
from tests.helpers.fake_provider import API_KEY

ROOT = Path(__file__).resolve().parents[2]
LAB = [sys.executable, "-m", "lab"]


def lab(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LAB, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, KEY_ENV: API_KEY}, stdin=subprocess.DEVNULL)


def start_lab(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*LAB, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True,
                            env={**os.environ, KEY_ENV: API_KEY})


def write(tmp_path: Path, text: str, name: str = "tone.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def rows(db: Path, sql: str, *params) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def ok_calls(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        return rows(db, "SELECT count(*) FROM calls WHERE status = 'ok'")[0][0]
    except sqlite3.OperationalError:  # the schema is still being created
        return 0
