"""The `lab` command as a script would use it: real entry points in a subprocess."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

LAB = [sys.executable, "-m", "lab"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LAB, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_help_lists_the_commands():
    result = run("--help")
    assert result.returncode == 0
    assert "gui" in result.stdout and "workspace" in result.stdout


def test_installed_lab_script_exists_and_answers():
    lab = Path(sys.executable).with_name("lab")
    result = subprocess.run([str(lab), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("Prompt Lab ")


def test_workspace_json_shows_the_sample(lab_home):
    result = run("workspace", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["path"] == str(lab_home / "workspace.db")
    assert info["projects"][0]["name"] == "Support replies"


def test_db_option_before_or_after_the_command(tmp_path):
    for args in (["--db", str(tmp_path / "a.db"), "workspace"],
                 ["workspace", "--db", str(tmp_path / "b.db")]):
        assert run(*args).returncode == 0
    assert (tmp_path / "a.db").exists() and (tmp_path / "b.db").exists()


def test_gui_without_a_display_says_so_in_one_line():
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([*LAB, "gui"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "lab: No display found (DISPLAY and WAYLAND_DISPLAY are unset). "
        "Run it on a virtual screen: xvfb-run -a lab gui"
    ]


def test_newer_workspace_is_one_clear_line_not_a_traceback(tmp_path):
    path = tmp_path / "future.db"
    assert run("--db", str(path), "workspace").returncode == 0
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.commit()
    conn.close()
    result = run("--db", str(path), "workspace")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "newer version of Prompt Lab" in result.stderr
