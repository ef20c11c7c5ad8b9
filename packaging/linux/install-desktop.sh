#!/usr/bin/env sh
# Add Prompt Lab to this user's desktop menus (its .desktop entry, AppStream metadata and icons in
# every size), or take it out again. Nothing outside $XDG_DATA_HOME (default ~/.local/share) is
# touched, and no root is needed.
#
#   install-desktop.sh              install: the menu entry starts `prompt-lab`
#   install-desktop.sh --exec PATH  install, starting PATH instead
#   install-desktop.sh --uninstall  remove what an install added
#
# Which prompt-lab the entry starts: --exec if given; else, run from an unpacked bundle, the
# bundle's own prompt-lab (by its absolute path: the bundle need not be on PATH); else
# `prompt-lab` found on PATH (a pipx or pip install).
set -eu

APP_ID=io.github.promptlab.PromptLab
SIZES="16 24 32 48 64 128 256 512"
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}

usage() {
  echo "usage: install-desktop.sh [--exec PATH | --uninstall]" >&2
  exit 2
}

MODE=install
EXEC=
while [ $# -gt 0 ]; do
  case "$1" in
    --uninstall) MODE=uninstall ;;
    --exec) [ $# -ge 2 ] || usage; EXEC=$2; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
  esac
  shift
done

# Where the files to install are: in an unpacked bundle, share/ beside this script; in a
# checkout, this folder and resources/icons.
if [ -f "$HERE/share/$APP_ID.desktop" ]; then
  FILES=$HERE/share
  ICONS=$HERE/share/icons
  BUNDLED=$HERE/prompt-lab
else
  FILES=$HERE
  ICONS=$HERE/../../resources/icons
  BUNDLED=
fi

APPLICATIONS=$DATA/applications
METAINFO=$DATA/metainfo
HICOLOR=$DATA/icons/hicolor

refresh_caches() {
  # Menus notice new entries by themselves; the caches only speed them up, where they exist.
  if command -v update-desktop-database >/dev/null 2>&1 && [ -f "$APPLICATIONS/mimeinfo.cache" ]; then
    update-desktop-database -q "$APPLICATIONS" || true
  fi
  if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$HICOLOR/icon-theme.cache" ]; then
    gtk-update-icon-cache -q -t -f "$HICOLOR" || true
  fi
}

if [ "$MODE" = uninstall ]; then
  rm -f "$APPLICATIONS/$APP_ID.desktop" "$METAINFO/$APP_ID.metainfo.xml" \
        "$HICOLOR/scalable/apps/$APP_ID.svg"
  for size in $SIZES; do
    rm -f "$HICOLOR/${size}x${size}/apps/$APP_ID.png"
  done
  refresh_caches
  echo "Removed Prompt Lab from the desktop menus ($DATA)."
  exit 0
fi

if [ -z "$EXEC" ]; then
  if [ -n "$BUNDLED" ] && [ -x "$BUNDLED" ]; then
    EXEC=$BUNDLED
  elif command -v prompt-lab >/dev/null 2>&1; then
    EXEC=prompt-lab
  else
    echo "install-desktop.sh: prompt-lab is not on PATH; install Prompt Lab first (pipx install" \
         "prompt-lab-*.whl), or give the launcher with --exec PATH" >&2
    exit 1
  fi
fi
# Exec= needs quoting rules for these; a plain path is all the entry needs.
if printf '%s' "$EXEC" | grep -q '[][[:space:]"'"'"'\\$`%|&;<>(){}*?#~=]'; then
  echo "install-desktop.sh: the launcher's path may hold no spaces, quotes or shell characters:" \
       "$EXEC (move it, or link it from a plain path and give that with --exec)" >&2
  exit 1
fi

mkdir -p "$APPLICATIONS" "$METAINFO" "$HICOLOR/scalable/apps"
# The entry as shipped, starting this launcher.
sed -e "s|^Exec=.*|Exec=$EXEC|" -e "s|^TryExec=.*|TryExec=$EXEC|" \
  "$FILES/$APP_ID.desktop" > "$APPLICATIONS/$APP_ID.desktop.new"
mv "$APPLICATIONS/$APP_ID.desktop.new" "$APPLICATIONS/$APP_ID.desktop"
cp "$FILES/$APP_ID.metainfo.xml" "$METAINFO/$APP_ID.metainfo.xml"
cp "$ICONS/prompt-lab.svg" "$HICOLOR/scalable/apps/$APP_ID.svg"
for size in $SIZES; do
  mkdir -p "$HICOLOR/${size}x${size}/apps"
  cp "$ICONS/prompt-lab-$size.png" "$HICOLOR/${size}x${size}/apps/$APP_ID.png"
done
refresh_caches
echo "Added Prompt Lab to the desktop menus ($DATA), starting $EXEC."
