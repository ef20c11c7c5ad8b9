"""The sdist and the wheel a user installs: built from this checkout with no build-backend
warnings, the wheel carrying what the app needs at run time and nothing of the tests; then
installed into a clean virtual environment and run from there."""

from __future__ import annotations

import json
import tarfile
import zipfile
from email.parser import Parser

import pytest

import lab
from tests.packaging.conftest import Dists, Venv, must, run

# The first test to run here also builds the sdist and the wheel and installs it into a new
# virtual environment (session fixtures, 1-2 minutes on this project's machines, more when they
# are busy): well past the suite's 120 s per test.
pytestmark = pytest.mark.timeout(1800)

RUN_TIME_FILES = (
    "lab/resources/sample/support-replies.toml", "lab/resources/prices.toml",
    "lab/resources/snippets.toml", "lab/resources/styles/common.qss",
    "lab/resources/styles/light.qss", "lab/resources/styles/dark.qss",
    "lab/resources/icons/prompt-lab.svg",
    *(f"lab/resources/icons/prompt-lab-{size}.png" for size in (16, 24, 32, 48, 64, 128, 256, 512)),
    "lab/cli/__init__.py", "lab/core/run/runner.py", "lab/core/run/smoke.py", "lab/gui/app.py",
    "lab/gui/smoke.py", "lab/py.typed",
)


def test_the_sdist_and_wheel_build_quietly(dists: Dists):
    for noise in ("BuildBackendWarning", "SetuptoolsDeprecationWarning", "is absent from the",
                  "Traceback"):
        assert noise not in dists.output, dists.output[max(0, dists.output.index(noise) - 500):][:1000]


def test_the_wheel_carries_the_app_and_nothing_of_the_tests(dists: Dists):
    names = set(zipfile.ZipFile(dists.wheel).namelist())
    for needed in RUN_TIME_FILES:
        assert needed in names, needed
    assert not [n for n in names if n.startswith(("tests/", "packaging/", "docs/", "scripts/"))]
    assert {n.split("/")[0] for n in names} == {"lab", f"prompt_lab-{lab.__version__}.dist-info"}


def test_the_version_comes_from_lab_and_both_commands_are_declared(dists: Dists):
    archive = zipfile.ZipFile(dists.wheel)
    info = f"prompt_lab-{lab.__version__}.dist-info"
    metadata = Parser().parsestr(archive.read(f"{info}/METADATA").decode())
    assert metadata["Version"] == lab.__version__
    assert metadata["License-Expression"] == "MIT"
    assert "MIT License" in archive.read(f"{info}/licenses/LICENSE").decode()
    assert dists.wheel.name == f"prompt_lab-{lab.__version__}-py3-none-any.whl"
    entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert "lab = lab.cli:main" in entry_points
    assert "[gui_scripts]\nprompt-lab = lab.cli:gui_main" in entry_points


def test_the_sdist_holds_the_sources_the_wheel_is_built_from(dists: Dists):
    # python -m build makes the wheel from the unpacked sdist: that it built at all shows the
    # sdist is complete; here, that the data folder really is in it under its own name.
    names = tarfile.open(dists.sdist).getnames()
    top = f"prompt_lab-{lab.__version__}"
    for needed in ("pyproject.toml", "README.md", "LICENSE", "resources/sample/support-replies.toml",
                   "resources/styles/common.qss", "lab/gui/smoke.py"):
        assert f"{top}/{needed}" in names, needed


def test_the_installed_wheel_is_what_runs(wheel_venv: Venv):
    where = must(run([wheel_venv.exe("python"), "-c", "import lab; print(lab.__file__)"]))
    assert where.stdout.strip().startswith(str(wheel_venv.path))


def test_installed_commands_print_the_version_and_help(wheel_venv: Venv):
    for command in (["lab"], ["prompt-lab"], ["python", "-m", "lab"]):
        result = must(run([wheel_venv.exe(command[0]), *command[1:], "--version"]))
        assert result.stdout.strip() == f"Prompt Lab {lab.__version__}", command
    text = must(run([wheel_venv.exe("lab"), "--help"])).stdout
    for command in ("gui", "workspace", "keys", "run", "log", "export"):
        assert command in text
    assert "--smoke-test" in must(run([wheel_venv.exe("prompt-lab"), "--help"])).stdout


def test_installed_lab_workspace_finds_the_sample(wheel_venv: Venv, lab_home):
    info = json.loads(must(run([wheel_venv.exe("lab"), "workspace", "--json"])).stdout)
    assert info["path"] == str(lab_home / "workspace.db")
    assert [(p["name"], p["variants"], p["cases"]) for p in info["projects"]] == [
        ("Support replies", 2, 20), ("Policy answers", 2, 12)]


def test_installed_smoke_test_passes_without_touching_the_workspace(wheel_venv: Venv, lab_home):
    result = run([wheel_venv.exe("prompt-lab"), "--smoke-test"], timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"Prompt Lab {lab.__version__}: smoke test passed")
    assert "sample project loaded (2 variants, 20 test cases)" in line
    assert "python checks run in a worker process" in line
    # the vectors extra was not asked for: reported, not a failure
    assert "vector search not installed" in line
    assert list(lab_home.iterdir()) == []
