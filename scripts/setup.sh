#!/usr/bin/env bash
# Set up everything Prompt Lab needs on this machine; safe to run again (it only does what is missing).
#  - as root on Debian/Ubuntu: the system libraries Qt needs, Xvfb, and gnome-keyring + D-Bus
#    (the real Secret Service keyring the tests use);
#  - a virtual environment in .venv with the lab installed ("app"), plus its build tools
#    ("build": sdist, wheel, PyInstaller bundle), plus its test tools ("test": all of it, and the
#    validators of the Linux desktop files).
# Usage: bash scripts/setup.sh app|build|test   (run.sh, build.sh and test.sh call it).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  # Qt's offscreen and X11 (xcb) platforms
  libegl1 libgl1 libfontconfig1 libglib2.0-0 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-render-util0 libxcb-image0
  libxcb-randr0 libxcb-xinerama0 fonts-dejavu-core
  # a virtual screen for running the app without a display, and for screenshots
  xvfb xauth
  # the real Secret Service keyring for the key tests
  gnome-keyring dbus
)
# PyInstaller strips the bundle's libraries with binutils' strip
BUILD_DEBIAN_PACKAGES=(binutils)
# the validators of the .desktop entry and the AppStream metadata (tests/packaging)
TEST_DEBIAN_PACKAGES=(binutils desktop-file-utils appstream)

MODE=${1:-test}
case "$MODE" in
  app) ;;
  build) DEBIAN_PACKAGES+=("${BUILD_DEBIAN_PACKAGES[@]}") ;;
  test) DEBIAN_PACKAGES+=("${TEST_DEBIAN_PACKAGES[@]}") ;;
  *) echo "setup: usage: setup.sh app|build|test" >&2; exit 2 ;;
esac
PYTHON=${PYTHON:-python3}

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1; then
    missing+=(python3-venv)
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
elif [ "$(id -u)" != 0 ]; then
  echo "setup: not root, so no system packages are installed; if Qt fails to start, install" \
       "the Qt runtime libraries, xvfb and gnome-keyring with your package manager." >&2
fi

if ! "$PYTHON" -c 'import sys; raise SystemExit(sys.version_info < (3, 11))'; then
  echo "setup: Prompt Lab needs Python 3.11 or newer; $("$PYTHON" --version 2>&1) was found." \
       "Set PYTHON=/path/to/python3.11 and run again." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating the virtual environment in .venv"
  "$PYTHON" -m venv .venv
fi

# Reinstall only when pyproject.toml changed since the last successful install of this mode.
stamp=.venv/.prompt-lab-installed-$MODE
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  # The editable install maps lab.resources to resources/, so setuptools installs it with an
  # import finder and says so in a boxed page of "information only" text; nothing to act on.
  export PYTHONWARNINGS="ignore:Editable installation"
  if [ "$MODE" = app ]; then
    echo "setup: installing Prompt Lab into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
  elif [ "$MODE" = build ]; then
    echo "setup: installing Prompt Lab and its build tools into .venv"
    # vectors too: the bundle carries everything the app can use
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[vectors,package]"
  else
    echo "setup: installing Prompt Lab and its test tools into .venv"
    # trl (a test tool) needs torch. Installed first and pinned: on this project's machines the
    # pin resolves to a CPU build kept on disk; anything newer would pull several GB of CUDA.
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
  fi
  echo "$want" > "$stamp"
fi
