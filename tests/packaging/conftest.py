"""The artefacts a user installs, each built once per test session from this checkout into a
temporary folder, and run from there, never from the source tree:

- `dists`: the sdist and the wheel, as `python -m build` makes them (the wheel from the sdist);
- `wheel_venv`: a new virtual environment with only the wheel installed, its dependencies
  resolved by pip from the package index as a user's install would (60-90 s here on a warm pip
  cache, and about 25 s more to remove it; it proves the wheel's metadata asks for everything
  the app imports);
- `bundle`: the PyInstaller folder built from packaging/pyinstaller/prompt-lab.spec (70-120 s on
  this project's 2-core machines, so it is built once and shared).

Programs run with `clean_env()`: no PYTHONPATH (the checkout must not stand in for what was
installed), Qt offscreen, and the test's own LAB_HOME; and from the test's own temporary folder,
since `python -c` and `python -m` look in the current directory first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "pyinstaller" / "prompt-lab.spec"
BIN = "Scripts" if sys.platform == "win32" else "bin"


@pytest.fixture(autouse=True)
def away_from_the_checkout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.update(extra)
    return env


def run(args: list[str | Path], *, timeout: float = 120, stdin: str = "",
        env: dict[str, str] | None = None, cwd: Path | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, input=stdin,
                          timeout=timeout, env=env or clean_env(), cwd=cwd)


def must(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (result.args, result.stdout[-3000:], result.stderr[-3000:])
    return result


@dataclass
class Dists:
    wheel: Path
    sdist: Path
    output: str  # what the build printed
    seconds: float


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    out = tmp_path_factory.mktemp("dist")
    start = time.monotonic()
    # --no-isolation: the test environment's setuptools builds it, offline
    result = must(run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT],
                      timeout=600, cwd=out))
    (wheel,) = out.glob("prompt_lab-*.whl")
    (sdist,) = out.glob("prompt_lab-*.tar.gz")
    return Dists(wheel, sdist, result.stdout + result.stderr, time.monotonic() - start)


@dataclass
class Venv:
    path: Path

    def exe(self, name: str) -> Path:
        return self.path / BIN / name


@pytest.fixture(scope="session")
def wheel_venv(dists: Dists, tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("wheel-venv") / "venv"
    must(run([sys.executable, "-m", "venv", path], timeout=300))
    venv = Venv(path)
    must(run([venv.exe("python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
              dists.wheel], timeout=1200))
    yield venv
    shutil.rmtree(path, ignore_errors=True)  # several hundred MB of Qt


@dataclass
class Bundle:
    path: Path  # dist/prompt-lab
    seconds: float

    def exe(self, name: str) -> Path:
        return self.path / (f"{name}.exe" if sys.platform == "win32" else name)


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("pyinstaller")
    start = time.monotonic()
    must(run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
              "--distpath", work / "dist", "--workpath", work / "build", SPEC],
             timeout=1500, cwd=work))
    yield Bundle(work / "dist" / "prompt-lab", time.monotonic() - start)
    shutil.rmtree(work, ignore_errors=True)


def du(path: Path) -> int:
    """Bytes on disk under path (symbolic links count as themselves)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())
