#!/usr/bin/env bash
# Set everything up, then open Prompt Lab on its default workspace (the sample project on first start).
# Extra arguments go to `lab gui`, e.g. --db my-workspace.db
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh app
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  echo "No display found; run it on a virtual screen: xvfb-run -a ./scripts/run.sh"
  exit 2
fi
exec .venv/bin/lab gui "$@"
