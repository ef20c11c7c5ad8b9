#!/usr/bin/env bash
# Build every artefact of Prompt Lab into dist/ (sets everything up first, like run.sh and test.sh):
#  - the sdist and the wheel (python -m build: the wheel is built from the sdist, so both work);
#  - the PyInstaller bundle, a folder dist/prompt-lab/ with the `prompt-lab` and `lab` executables
#    (packaging/pyinstaller/prompt-lab.spec), and the same folder as a .tar.gz;
# then smoke-tests the bundle (on a throwaway workspace) and prints what it built, with sizes.
# The bundle is for the platform it is built on (see packaging/README.md for macOS and Windows).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh build

PY=.venv/bin/python
version=$($PY -c 'import lab; print(lab.__version__)')
platform=$($PY -c 'import platform, sys
names = {"linux": "linux", "darwin": "macos", "win32": "windows"}
print(names.get(sys.platform, sys.platform) + "-" + platform.machine().lower())')
bundle=prompt-lab
archive=prompt-lab-$version-$platform.tar.gz

rm -rf dist build/pyinstaller
mkdir -p dist build

echo "== sdist and wheel"
# --no-isolation: the build backend from .venv (setuptools, in the package extra), no download
$PY -m build --no-isolation --outdir dist . > build/sdist-wheel.log 2>&1 || {
  tail -30 build/sdist-wheel.log >&2; echo "build: the sdist or the wheel failed (build/sdist-wheel.log)" >&2; exit 1; }

echo "== bundle (PyInstaller, a minute or two)"
start=$(date +%s)
$PY -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist \
  --workpath build/pyinstaller packaging/pyinstaller/prompt-lab.spec
echo "   built in $(( $(date +%s) - start )) s"
tar -C dist -czf "dist/$archive" "$bundle"

echo "== smoke test of the bundle"
exe=dist/$bundle/lab
[ -x "$exe" ] || exe=dist/$bundle/lab.exe
# offscreen where there is no screen; the smoke test never touches your workspace
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ "$(uname)" = Linux ]; then
  QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen} "$exe" gui --smoke-test
else
  "$exe" gui --smoke-test
fi

echo "== built (Prompt Lab $version, $platform)"
for file in dist/*.whl dist/*.tar.gz; do
  printf '  %-8s %s\n' "$(du -sh "$file" | cut -f1)" "$file"
done
printf '  %-8s %s\n' "$(du -sh "dist/$bundle" | cut -f1)" "dist/$bundle/  (run dist/$bundle/prompt-lab, or dist/$bundle/lab --help)"
