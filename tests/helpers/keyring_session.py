"""A real Secret Service keyring for tests: a private D-Bus session bus with gnome-keyring in it.

The fixture starts its own `dbus-daemon` and `gnome-keyring-daemon --unlock` (password on stdin)
with their files under a temporary directory, so no test ever touches the user's keyring. It
points DBUS_SESSION_BUS_ADDRESS at the private bus, installs keyring's SecretService backend, and
stops both daemons afterwards. Missing binaries are a failure, not a skip: the keyring tests are
how we know keys are really stored by the operating system.

Use it from a test module with `from tests.helpers.keyring_session import secret_service_keyring`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

REQUIRED = {"dbus-daemon": "dbus", "gnome-keyring-daemon": "gnome-keyring"}


def _wait_for_secret_service(timeout: float = 10.0) -> None:
    import secretstorage

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with secretstorage.dbus_init() as connection:
                if secretstorage.check_service_availability(connection):
                    return
        except Exception as exc:  # bus not ready yet
            last = exc
        time.sleep(0.05)
    pytest.fail(f"gnome-keyring did not appear on the private D-Bus within {timeout:g} s ({last})")


@pytest.fixture(scope="session")
def secret_service_keyring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    missing = [name for name in REQUIRED if shutil.which(name) is None]
    if missing:
        packages = " ".join(REQUIRED[m] for m in missing)
        pytest.fail(f"{', '.join(missing)} not found: install the Debian packages ({packages}), e.g. "
                    f"`apt-get install -y {packages}`; the keyring tests need the real Secret Service")
    try:
        import keyring
        import secretstorage  # noqa: F401
        from keyring.backends import SecretService
    except ImportError as exc:
        pytest.fail(f"{exc.name} is not installed: `pip install secretstorage keyring`")

    root: Path = tmp_path_factory.mktemp("keyring")
    runtime = root / "run"
    runtime.mkdir(mode=0o700)
    child_env = {**os.environ, "HOME": str(root), "XDG_RUNTIME_DIR": str(runtime),
                 "XDG_DATA_HOME": str(root / "data"), "XDG_CONFIG_HOME": str(root / "config")}
    bus = subprocess.run(
        ["dbus-daemon", "--session", "--fork", f"--address=unix:path={root}/bus",
         "--print-address=1", "--print-pid=1"],
        capture_output=True, text=True, timeout=10, env=child_env,
    )
    if bus.returncode != 0:
        pytest.fail(f"dbus-daemon did not start: {bus.stderr.strip()}")
    address, bus_pid = bus.stdout.split()[:2]
    child_env["DBUS_SESSION_BUS_ADDRESS"] = address
    daemon = subprocess.Popen(
        ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_env,
    )
    previous_address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    previous_backend = keyring.get_keyring()
    try:
        assert daemon.stdin is not None
        daemon.stdin.write(b"lab-test-password")  # unlocks (and creates) the login keyring
        daemon.stdin.close()
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
        _wait_for_secret_service()
        backend = SecretService.Keyring()
        keyring.set_keyring(backend)
        yield backend
    finally:
        keyring.set_keyring(previous_backend)
        if previous_address is None:
            os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SESSION_BUS_ADDRESS"] = previous_address
        daemon.terminate()
        try:
            daemon.wait(timeout=5)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        try:
            os.kill(int(bus_pid), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass
