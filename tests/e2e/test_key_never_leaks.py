"""A key used for real calls never reaches a file the lab writes or anything it prints.

Runs `lab run` (with one call refused with a 401, so error paths are covered too), `lab log`,
`lab keys list` and the GUI's settings, then searches every byte under LAB_HOME, the workspace
(with its WAL) and every output for the key.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.experiments import KEY_ENV, experiment_text
from tests.helpers.fake_provider import API_KEY, FakeProviderServer, http_error, reply

LAB = [sys.executable, "-m", "lab"]


def every_file(*roots: Path) -> list[Path]:
    found = []
    for root in roots:
        found += [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else [root]
    return found


def test_the_key_is_in_no_file_and_no_output(tmp_path, lab_home):
    server = FakeProviderServer().start()
    try:
        server.script(reply("Fine."), http_error(401, message="Incorrect API key provided: "
                                                        f"{API_KEY[:8]}…"), *[reply("Ok.")] * 10)
        experiment = tmp_path / "exp.toml"
        experiment.write_text(experiment_text(server, cases=3))
        db = lab_home / "workspace.db"
        env = {**os.environ, KEY_ENV: API_KEY, "LAB_HOME": str(lab_home)}
        outputs = []
        # The refused call is on purpose: --allow-errors keeps its run's exit status 0.
        for args in (["run", str(experiment), "--db", str(db), "--yes", "--allow-errors"],
                     ["run", str(experiment), "--db", str(db), "--yes", "--json", "--no-cache"],
                     ["log", "--db", str(db), "--json"],
                     ["log", "--db", str(db)],
                     ["keys", "list", "--db", str(db)]):
            result = subprocess.run([*LAB, *args], capture_output=True, text=True, env=env,
                                    timeout=120, stdin=subprocess.DEVNULL)
            outputs.append(result.stdout + result.stderr)
            assert result.returncode == 0, result.stderr
        requests = server.chat_requests()
        # Calls were really made with the key (after the 401 the rest of that run is not sent).
        assert len(requests) >= 6 and all(r.key_present for r in requests)
    finally:
        server.stop()

    # The GUI writes its settings file too.
    from PySide6.QtCore import QSettings

    from lab.gui.app import settings_file

    settings = QSettings(str(settings_file()), QSettings.Format.IniFormat)
    settings.setValue("window/geometry", b"x")
    settings.sync()

    files = every_file(lab_home, tmp_path)
    assert db in files and settings_file() in files
    secret = API_KEY.encode()
    leaks = [str(p) for p in files if secret in p.read_bytes()]
    assert leaks == []
    assert not [o for o in outputs if API_KEY in o]
    # An error was recorded for the refused call, and says what to do, without the key.
    import sqlite3

    conn = sqlite3.connect(db)
    errors = [r[0] for r in conn.execute("SELECT error_message FROM calls WHERE status = 'error'")]
    conn.close()
    assert errors and all("key" in e.lower() for e in errors)
