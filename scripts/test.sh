#!/usr/bin/env bash
# Set everything up, then run the whole test suite (and the import-layer contracts).
# Extra arguments go to pytest, e.g. -k store or -x.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
export QT_QPA_PLATFORM=offscreen
# No test may touch the user's real workspace, settings or keyring.
export LAB_HOME="$(mktemp -d)"
trap 'rm -rf "$LAB_HOME"' EXIT
echo "== import contracts"
.venv/bin/lint-imports
echo "== tests"
set +e
.venv/bin/python -m pytest "$@"
code=$?
set -e
if [ $code -eq 5 ]; then
  echo "pytest collected no tests; that is a failure here" >&2
  exit 1
fi
exit $code
