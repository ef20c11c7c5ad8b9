"""The `lab` command: the GUI launcher and a thin command line over lab.core.

With no arguments it opens the app. `parser` declares every command and option (argparse only);
each command lives in a module of its own (`app`, `workspace`, `keys`, `run`, `check`, `log`,
`export`, `importing`, `report`; `run` and `check` share `preflight`), imported only once its
command was chosen, so `lab --help` and a mistyped option answer at once, without loading the
workspace or network stacks (or rich). `terminal` draws progress and tables with rich,
`report_view` the report. User errors end with one clear line on stderr and a non-zero exit
status, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import import_module

from lab.cli.errors import EXIT_CANCELLED, EXIT_USER_ERROR, UserError
from lab.cli.parser import build_gui_parser, build_lab_gui_parser, build_parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] == "gui":
        return _dispatch(build_lab_gui_parser().parse_args(args[1:]), "lab")
    return _dispatch(build_parser().parse_args(args), "lab")


def gui_main(argv: Sequence[str] | None = None) -> int:
    """The `prompt-lab` launcher: `lab gui` under its own name (with --version and --help)."""
    return _dispatch(build_gui_parser().parse_args(argv), "prompt-lab")


def _dispatch(args: argparse.Namespace, command: str) -> int:
    module_name, _, function = getattr(args, "handler", "app:cmd_gui").partition(":")
    handler = getattr(import_module(f"lab.cli.{module_name}"), function)
    from lab.core.workspace.errors import WorkspaceError

    try:
        return handler(args)
    except (UserError, WorkspaceError) as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return EXIT_CANCELLED
    except BrokenPipeError:
        # `lab log | head`: the reader left; say nothing more (Python's documented remedy)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0

