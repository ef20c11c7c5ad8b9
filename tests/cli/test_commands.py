"""The `lab` command as a script would use it: real entry points in a subprocess."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from lab.core.workspace.store import open_workspace

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
    for name in ("a.db", "b.db"):
        open_workspace(tmp_path / name).close()
    for args, name in ((["--db", str(tmp_path / "a.db"), "workspace", "--json"], "a.db"),
                       (["workspace", "--json", "--db", str(tmp_path / "b.db")], "b.db")):
        result = run(*args)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["path"] == str(tmp_path / name)


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    return line


def test_every_command_refuses_a_folder_as_its_workspace(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    experiment = Path(__file__).parents[2] / "resources" / "sample" / "support-replies.toml"
    commands = [["workspace"], ["log"], ["keys", "list"], ["run", str(experiment), "--yes"],
                ["export", "--format", "csv", "--out", str(tmp_path / "out")]]
    for command in commands:
        line = _one_line_error(run(*command, "--db", str(folder)))
        assert line == (f"lab: {folder} is a folder, not a workspace file; give a file path such "
                        f"as {folder / 'workspace.db'}."), command


def test_reading_commands_never_create_a_workspace(tmp_path):
    missing = tmp_path / "typo.db"
    for command in (["log"], ["workspace"], ["keys", "list"],
                    ["export", "--format", "csv", "--out", str(tmp_path / "out")]):
        line = _one_line_error(run(*command, "--db", str(missing)))
        assert line.startswith(f"lab: There is no workspace at {missing}."), command
    assert not missing.exists()


def test_a_workspace_in_a_missing_folder_is_refused_not_made(tmp_path):
    experiment = Path(__file__).parents[2] / "resources" / "sample" / "support-replies.toml"
    path = tmp_path / "no" / "such" / "folder" / "w.db"
    line = _one_line_error(run("run", str(experiment), "--yes", "--db", str(path)))
    assert line == (f"lab: The folder {path.parent} does not exist; create it first or give "
                    "another path for the workspace.")
    assert not (tmp_path / "no").exists()


def test_a_file_that_is_not_a_workspace_is_named(tmp_path):
    junk = tmp_path / "notes.db"
    junk.write_text("these are my notes, not a database\n" * 100)
    line = _one_line_error(run("log", "--db", str(junk)))
    assert line.startswith(f"lab: {junk} is not a Prompt Lab workspace or is damaged")


def test_help_and_usage_errors_load_no_workspace_or_network_code():
    probe = ("import sys\nfrom lab.cli import main\n"
             "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
             "('sqlite_utils', 'httpx', 'keyring', 'PySide6', 'rich', 'matplotlib')"
             " or m.startswith('lab.core.workspace'))\n"
             "print('LOADED', heavy, file=sys.stderr)\n")
    for args in (["--help"], ["run", "--help"], ["run"], ["export", "--bogus"],
                 ["report", "--help"], ["report", "--good", "vibes"]):
        result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True,
                                text=True, timeout=60)
        assert "LOADED []" in result.stderr, (args, result.stderr)


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
    open_workspace(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.commit()
    conn.close()
    result = run("--db", str(path), "workspace")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "newer version of Prompt Lab" in result.stderr


def test_report_html_without_matplotlib_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    import importlib.util

    from lab.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    assert main(["report", "--db", str(tmp_path / "w.db"), "--html", "r.html"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("lab: --html draws its charts with matplotlib, which is not installed. Install "
                   "it with: pip install 'prompt-lab[report]' (or: pip install matplotlib)")
    assert not (tmp_path / "w.db").exists() and not (tmp_path / "r.html").exists()
