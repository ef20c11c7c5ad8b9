"""The PyInstaller bundle (packaging/pyinstaller/prompt-lab.spec): one folder with `prompt-lab`
and `lab`, only the Qt the app uses, and everything else it needs at run time: its resources,
the keyring backends, python-check worker processes, sqlite-vec. Run from the built folder."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys

import pytest

import lab
from tests.helpers.keyring_session import secret_service_keyring  # noqa: F401  (fixture)
from tests.packaging.conftest import Bundle, clean_env, du, must, run

# The first test to run here also builds the bundle (a session fixture, 1-2 minutes on this
# project's machines, more when they are busy): well past the suite's 120 s per test.
pytestmark = pytest.mark.timeout(1800)

# What the folder holds now is about 145 MB on Linux (of it ICU's data alone is 31 MB); the
# budget catches an optional import dragging a large library in.
SIZE_BUDGET_MB = 180
KEY = "sk-bundle-test-2c4e6a8b0d"


def test_one_folder_with_both_programs_and_only_the_qt_it_uses(bundle: Bundle):
    assert bundle.exe("prompt-lab").is_file() and bundle.exe("lab").is_file()
    size_mb = du(bundle.path) / 1024**2
    assert size_mb < SIZE_BUDGET_MB, f"the bundle grew to {size_mb:.0f} MB"
    names = [p.name for p in bundle.path.rglob("*")]
    for unwanted in ("Qt6WebEngine", "Qt6Qml", "Qt6Quick", "Qt6Pdf", "Qt6Multimedia", "Qt63D",
                     "Qt6Network", "libgtk-3", "libqgtk3", "virtualkeyboard", "qtbase_de.qm",
                     "torch", "numpy"):
        assert not [n for n in names if unwanted.lower() in n.lower()], unwanted
    for wanted in ("Qt6Core", "Qt6Gui", "Qt6Widgets", "Qt6Charts", "libqxcb", "libqwayland",
                   "libqoffscreen", "libqxdgdesktopportal"):
        assert [n for n in names if wanted in n], wanted
    dangling = [p for p in bundle.path.rglob("*") if p.is_symlink() and not p.exists()]
    assert not dangling
    resources = bundle.path / "_internal" / "lab" / "resources"
    for shipped in ("sample/support-replies.toml", "prices.toml", "snippets.toml",
                    "styles/common.qss", "icons/prompt-lab-256.png"):
        assert (resources / shipped).is_file(), shipped


def test_both_programs_answer(bundle: Bundle, lab_home):
    for name in ("lab", "prompt-lab"):
        result = must(run([bundle.exe(name), "--version"]))
        assert result.stdout.strip() == f"Prompt Lab {lab.__version__}", name
    text = must(run([bundle.exe("lab"), "--help"])).stdout
    for command in ("gui", "workspace", "keys", "run", "log", "export"):
        assert command in text
    assert "usage: prompt-lab" in must(run([bundle.exe("prompt-lab"), "--help"])).stdout
    info = json.loads(must(run([bundle.exe("lab"), "workspace", "--json"])).stdout)
    assert info["path"] == str(lab_home / "workspace.db")
    assert info["projects"][0]["name"] == "Support replies"


def test_the_smoke_test_passes_from_the_bundle(bundle: Bundle, lab_home):
    result = run([bundle.exe("prompt-lab"), "--smoke-test"], timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    (line,) = result.stdout.splitlines()
    assert "sample project loaded (2 variants, 20 test cases)" in line
    # the worker is this executable started again: freeze_support() made it a worker
    assert "python checks run in a worker process" in line
    if importlib.util.find_spec("sqlite_vec"):  # the build environment had the vectors extra
        assert "vector search available" in line
    # `lab gui --smoke-test` too, and with no screen at all it runs offscreen by itself
    env = clean_env(DISPLAY="", WAYLAND_DISPLAY="")
    del env["QT_QPA_PLATFORM"]
    result = run([bundle.exe("lab"), "gui", "--smoke-test"], timeout=180, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "window painted (offscreen)" in result.stdout
    assert list(lab_home.iterdir()) == []


@pytest.mark.keyring
def test_keys_reach_the_secret_service_from_the_bundle(bundle: Bundle, secret_service_keyring,  # noqa: F811
                                                      tmp_path):
    # No PYTHON_KEYRING_BACKEND: the bundled keyring must find its backends by itself.
    env = clean_env(XDG_CONFIG_HOME=str(tmp_path / "config"))
    env.pop("PYTHON_KEYRING_BACKEND", None)
    result = run([bundle.exe("lab"), "keys", "set", "openai"], stdin=KEY + "\n", env=env)
    assert result.returncode == 0, result.stderr
    assert secret_service_keyring.get_password("prompt-lab", "openai") == KEY
    listed = json.loads(must(run([bundle.exe("lab"), "keys", "list", "--json"], env=env)).stdout)
    assert {p["provider"]: p["source"] for p in listed["providers"]}["openai"] == "keyring"
    must(run([bundle.exe("lab"), "keys", "delete", "openai"], env=env))
    assert secret_service_keyring.get_password("prompt-lab", "openai") is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux desktop integration")
def test_the_unpacked_bundle_adds_itself_to_the_desktop_menus(bundle: Bundle, tmp_path):
    data = tmp_path / "data"
    env = clean_env(XDG_DATA_HOME=str(data))
    must(run(["sh", bundle.path / "install-desktop.sh"], env=env))
    entry = data / "applications" / f"{lab.APP_ID}.desktop"
    text = entry.read_text()
    # the bundle's own launcher, by its full path: the bundle need not be on PATH
    assert f"\nExec={bundle.exe('prompt-lab')}\n" in text
    assert f"\nTryExec={bundle.exe('prompt-lab')}\n" in text
    validated = run(["desktop-file-validate", entry])
    assert validated.returncode == 0 and not validated.stdout + validated.stderr, validated
    assert (data / "icons" / "hicolor" / "256x256" / "apps" / f"{lab.APP_ID}.png").is_file()
    assert (data / "metainfo" / f"{lab.APP_ID}.metainfo.xml").is_file()
    must(run(["sh", bundle.path / "install-desktop.sh", "--uninstall"], env=env))
    assert not [p for p in data.rglob("*") if p.is_file()]
    shutil.rmtree(data)
