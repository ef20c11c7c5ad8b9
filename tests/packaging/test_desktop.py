"""Linux desktop integration (packaging/linux): the .desktop entry and the AppStream metadata pass
their validators and agree with the app (id, name, version, icons, screenshots), and
install-desktop.sh installs them for one user and takes them out again. The validators come from
the Debian packages desktop-file-utils and appstream (scripts/setup.sh installs them)."""

from __future__ import annotations

import configparser
import datetime
import os
import shutil
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import lab
from tests.packaging.conftest import ROOT, clean_env, must, run

LINUX = ROOT / "packaging" / "linux"
DESKTOP = LINUX / f"{lab.APP_ID}.desktop"
METAINFO = LINUX / f"{lab.APP_ID}.metainfo.xml"
INSTALL = LINUX / "install-desktop.sh"
ICONS = ROOT / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
# The placeholder address of the repository (see packaging/README.md); images under it must be
# files of this checkout.
RAW = "https://raw.githubusercontent.com/promptlab/prompt-lab/main/"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: scripts/setup.sh test installs it "
                    "(apt-get install desktop-file-utils appstream)")
    return path


def desktop_entry(path: Path = DESKTOP) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def test_the_desktop_entry_is_valid_without_a_warning():
    result = run([tool("desktop-file-validate"), DESKTOP])
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result


def test_the_metainfo_is_valid_without_a_warning():
    result = run([tool("appstreamcli"), "validate", "--no-net", "--pedantic", METAINFO])
    assert result.returncode == 0, result.stdout + result.stderr
    findings = [line for line in result.stdout.splitlines() if line[:2] in {"E:", "W:", "I:", "P:"}]
    # Known and accepted: the reverse-DNS id has capitals (pedantic: they are the convention of
    # GitHub-hosted ids), and appstream 0.16 (Debian 12) does not know the <developer> tag that
    # AppStream 1.0 introduced in place of <developer_name>.
    accepted = {"cid-contains-uppercase-letter", "unknown-tag developer"}
    assert [f for f in findings if not any(a in f for a in accepted)] == [], result.stdout


def test_the_desktop_entry_matches_the_app():
    entry = desktop_entry()
    assert entry["Name"] == lab.APP_NAME
    assert entry["Icon"] == lab.APP_ID  # the app sets its desktop file name to APP_ID too
    assert entry["Exec"] == entry["TryExec"] == "prompt-lab"
    assert "Development" in entry["Categories"].split(";")
    assert entry["Terminal"] == "false"


def test_the_metainfo_matches_the_app_and_the_repository():
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == lab.APP_ID
    assert root.findtext("name") == lab.APP_NAME
    assert root.find("launchable").text == DESKTOP.name
    assert root.find("launchable").get("type") == "desktop-id"
    assert [c.text for c in root.iter("category")] == ["Development"]
    assert root.find("content_rating").get("type") == "oars-1.1"
    assert {b.text for b in root.iter("binary")} == {"prompt-lab", "lab"}
    # The newest release is this version: bumping lab.__version__ needs a <release> here.
    newest = root.find("releases/release")
    assert newest.get("version") == lab.__version__
    datetime.date.fromisoformat(newest.get("date"))
    images = [image.text for image in root.iter("image")]
    assert images and all(url.startswith(RAW) for url in images)
    for url in images:
        assert (ROOT / url.removeprefix(RAW)).is_file(), url
    assert len(list(root.iter("screenshot"))) == len(list((ROOT / "docs/screenshots").glob("*.png")))


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", header[16:24])


def test_every_icon_size_is_there_and_is_that_size():
    for size in SIZES:
        assert png_size(ICONS / f"prompt-lab-{size}.png") == (size, size)
    assert (ICONS / "prompt-lab.svg").read_text().lstrip().startswith(("<svg", "<?xml"))


def test_the_windows_and_macos_icons_hold_every_size():
    from PIL import Image

    with Image.open(ROOT / "packaging" / "icons" / "prompt-lab.ico") as ico:
        assert {w for w, _h in ico.info["sizes"]} == {16, 24, 32, 48, 64, 128, 256}
    with Image.open(ROOT / "packaging" / "icons" / "prompt-lab.icns") as icns:
        assert {w * scale for w, _h, scale in icns.info["sizes"]} >= {32, 64, 128, 256, 512, 1024}


def installed_files(data: Path) -> set[str]:
    return {str(p.relative_to(data)) for p in data.rglob("*") if p.is_file()}


def expected_files() -> set[str]:
    icons = {f"icons/hicolor/{s}x{s}/apps/{lab.APP_ID}.png" for s in SIZES}
    return {f"applications/{lab.APP_ID}.desktop", f"metainfo/{lab.APP_ID}.metainfo.xml",
            f"icons/hicolor/scalable/apps/{lab.APP_ID}.svg", *icons}


def test_install_desktop_installs_for_the_user_and_uninstalls(tmp_path):
    data = tmp_path / "data"
    launcher = tmp_path / "opt" / "prompt-lab"
    env = clean_env(XDG_DATA_HOME=str(data))
    result = must(run(["sh", INSTALL, "--exec", launcher], env=env))
    assert str(data) in result.stdout
    assert installed_files(data) == expected_files()
    entry_path = data / "applications" / f"{lab.APP_ID}.desktop"
    entry = desktop_entry(entry_path)
    assert entry["Exec"] == entry["TryExec"] == str(launcher)
    validated = run([tool("desktop-file-validate"), entry_path])
    assert validated.returncode == 0 and not (validated.stdout + validated.stderr).strip()
    for size in SIZES:
        assert png_size(data / f"icons/hicolor/{size}x{size}/apps/{lab.APP_ID}.png") == (size, size)
    assert (data / f"metainfo/{lab.APP_ID}.metainfo.xml").read_bytes() == METAINFO.read_bytes()

    # Again is fine (an update), then out again: nothing of it is left.
    must(run(["sh", INSTALL, "--exec", launcher], env=env))
    must(run(["sh", INSTALL, "--uninstall"], env=env))
    assert installed_files(data) == set()


def test_install_desktop_uses_prompt_lab_from_path_or_says_what_to_do(tmp_path):
    data = tmp_path / "data"
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("sed", "cp", "mv", "mkdir", "rm", "grep", "dirname", "printf", "cat"):
        if shutil.which(name):
            os.symlink(shutil.which(name), tools / name)
    env = clean_env(XDG_DATA_HOME=str(data), PATH=str(tools))
    missing = run([shutil.which("sh"), INSTALL], env=env)
    assert missing.returncode == 1
    (line,) = missing.stderr.strip().splitlines()
    assert "prompt-lab is not on PATH" in line and "--exec" in line
    assert not data.exists() or installed_files(data) == set()

    (tools / "prompt-lab").write_text("#!/bin/sh\n")
    (tools / "prompt-lab").chmod(0o755)
    must(run([shutil.which("sh"), INSTALL], env=env))
    assert desktop_entry(data / "applications" / f"{lab.APP_ID}.desktop")["Exec"] == "prompt-lab"


def test_install_desktop_refuses_a_launcher_path_the_entry_cannot_hold(tmp_path):
    data = tmp_path / "data"
    env = clean_env(XDG_DATA_HOME=str(data))
    for path in ("/opt/Prompt Lab/prompt-lab", "/opt/a$b/prompt-lab", "/opt/it's/prompt-lab"):
        result = run(["sh", INSTALL, "--exec", path], env=env)
        assert result.returncode == 1, path
        assert "no spaces, quotes or shell characters" in result.stderr
    assert not data.exists()
    assert run(["sh", INSTALL, "--bogus"], env=env).returncode == 2
