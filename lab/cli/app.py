"""`lab gui` (and `lab` alone, and `prompt-lab`): open the window, or say in one line why not;
with --smoke-test, check that the installation works instead (lab.gui.smoke)."""

from __future__ import annotations

import argparse
import os
import sys

from lab.cli.errors import UserError


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM"):
        return True  # the user chose a platform (offscreen, xcb, wayland, ...) explicitly
    if sys.platform in {"win32", "darwin"}:
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def cmd_gui(args: argparse.Namespace) -> int:
    if getattr(args, "smoke_test", False):
        if getattr(args, "db", None):
            raise UserError("--smoke-test always uses a throwaway workspace; leave out --db")
        from lab.gui.smoke import run_smoke_test  # without a screen it runs offscreen

        return run_smoke_test(timeout_s=args.timeout)
    if not _has_display():
        raise UserError(
            "No display found (DISPLAY and WAYLAND_DISPLAY are unset). "
            "Run it on a virtual screen: xvfb-run -a lab gui"
        )
    from lab.gui.app import run_app

    return run_app(db=args.db)
