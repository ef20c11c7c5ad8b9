"""The wheel a user installs: built from this checkout with no build-backend warnings, carrying
what the app needs at run time and nothing of the tests."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_builds_quietly_with_the_apps_files_and_no_tests(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v",
         "--wheel-dir", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    for noise in ("BuildBackendWarning", "SetuptoolsDeprecationWarning", "is absent from the"):
        assert noise not in output, output[output.index(noise) - 500:output.index(noise) + 500]
    (wheel,) = tmp_path.glob("prompt_lab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("lab/resources/sample/support-replies.toml", "lab/resources/prices.toml",
                   "lab/resources/styles/common.qss", "lab/resources/icons/prompt-lab.svg",
                   "lab/resources/snippets.toml", "lab/cli/__init__.py",
                   "lab/core/run/runner.py", "lab/gui/app.py"):
        assert needed in names, needed
    assert not [n for n in names if n.startswith("tests/")]
