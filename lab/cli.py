"""The `lab` command: the GUI launcher and a thin command line over lab.core.

With no arguments it opens the app. Subcommands are added here as the engine grows; each one is a
small function that parses arguments, calls the core, and prints. User errors end with one clear
line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence

from lab import APP_NAME, __version__
from lab.core import keys
from lab.core.provider_settings import configured_providers
from lab.core.store import WorkspaceError
from lab.core.workspace import default_workspace_path, open_default_workspace

EXIT_USER_ERROR = 2


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


def _add_db(parser: argparse.ArgumentParser, top: bool = False) -> None:
    # On subcommands the default is SUPPRESS, so `lab --db X workspace` keeps X.
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=None if top else argparse.SUPPRESS,
        help="workspace file (default: $LAB_HOME/workspace.db or the platform's data folder)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lab",
        description=f"{APP_NAME}: edit prompts, A/B test them against your models, log every "
        "call, export fine-tuning data. Run with no command to open the app.",
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    _add_db(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = sub.add_parser("gui", help="open the app (the default)", description="Open the app.")
    _add_db(gui)
    gui.set_defaults(handler=cmd_gui)

    info = sub.add_parser(
        "workspace",
        help="show where the workspace is and what it holds",
        description="Show the workspace file, its schema version and its projects.",
    )
    _add_db(info)
    info.add_argument("--json", action="store_true", help="print one JSON document")
    info.set_defaults(handler=cmd_workspace)

    keys_cmd = sub.add_parser(
        "keys",
        help="store API keys in the system keyring",
        description="API keys live in the operating system's keyring (or in environment "
        "variables), never in the workspace, settings or logs.",
    )
    keys_sub = keys_cmd.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    key_set = keys_sub.add_parser(
        "set", help="store a key, read from standard input",
        description="Store the key for PROVIDER in the keyring. The key is read from standard "
        "input (type or paste it, then Enter), so it never appears in the shell history.",
    )
    key_set.add_argument("provider", metavar="PROVIDER", help="provider name, e.g. openai")
    _add_db(key_set)
    key_set.set_defaults(handler=cmd_keys_set)
    key_list = keys_sub.add_parser(
        "list", help="show which providers have a key (never the key)",
        description="Show each provider and where its key comes from: keyring, environment, "
        "or missing.",
    )
    _add_db(key_list)
    key_list.add_argument("--json", action="store_true", help="print one JSON document")
    key_list.set_defaults(handler=cmd_keys_list)
    key_delete = keys_sub.add_parser(
        "delete", help="remove a stored key", description="Remove PROVIDER's key from the keyring.")
    key_delete.add_argument("provider", metavar="PROVIDER")
    _add_db(key_delete)
    key_delete.set_defaults(handler=cmd_keys_delete)
    return parser


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM"):
        return True  # the user chose a platform (offscreen, xcb, wayland, ...) explicitly
    if sys.platform in {"win32", "darwin"}:
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def cmd_gui(args: argparse.Namespace) -> int:
    if not _has_display():
        raise UserError(
            "No display found (DISPLAY and WAYLAND_DISPLAY are unset). "
            "Run it on a virtual screen: xvfb-run -a lab gui"
        )
    from lab.gui.app import run_app

    return run_app(db=args.db)


def cmd_workspace(args: argparse.Namespace) -> int:
    with open_default_workspace(args.db) as store:
        info = {
            "path": str(default_workspace_path(args.db)),
            "schema_version": store.schema_version(),
            "calls": store.count_calls(),
            "projects": [
                {k: p[k] for k in ("id", "name", "variants", "cases")}
                for p in store.list_projects()
            ],
        }
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"Workspace  {info['path']}")
    print(f"Schema     version {info['schema_version']}")
    print(f"Calls      {info['calls']}")
    for p in info["projects"]:
        print(f"Project    {p['name']} ({p['variants']} variants, {p['cases']} test cases)")
    return 0


def _read_key(provider: str) -> str:
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"Key for {provider} (input hidden): ")
    return sys.stdin.readline()


def _provider_names(db: str | None) -> list[str]:
    with open_default_workspace(db, with_sample=False) as store:
        return [c.name for c in configured_providers(store)]


def cmd_keys_set(args: argparse.Namespace) -> int:
    known = _provider_names(args.db)
    if args.provider not in known:
        raise UserError(
            f"no provider named '{args.provider}'; known providers: {', '.join(known)}"
        )
    key = _read_key(args.provider).strip()
    if not key:
        raise UserError(f"no key given on standard input for '{args.provider}'; nothing stored")
    try:
        keys.set_key(args.provider, key)
    except keys.KeyringUnavailable as exc:
        raise UserError(str(exc)) from None
    print(f"Stored the key for {args.provider} in the system keyring.")
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    with open_default_workspace(args.db, with_sample=False) as store:
        configs = configured_providers(store)
    keyring_ok = keys.keyring_available()
    statuses = keys.list_keys(configs)
    if args.json:
        print(json.dumps({
            "keyring": keyring_ok,
            "providers": [{"provider": s.provider, "source": s.source, "local": c.is_local,
                           "env_vars": list(s.env_vars)} for c, s in zip(configs, statuses)],
        }, indent=2))
        return 0
    for config, status in zip(configs, statuses):
        where = {"keyring": "key in the keyring", "env": "key from the environment"}.get(
            status.source or "", "no key needed (runs locally)" if config.is_local else "no key")
        hint = f"  (or set {' / '.join(status.env_vars)})" if not status.has_key and status.env_vars else ""
        print(f"{status.provider:<12} {where}{hint}")
    if not keyring_ok:
        print("No system keyring is available: keys can only come from environment variables.")
    return 0


def cmd_keys_delete(args: argparse.Namespace) -> int:
    try:
        removed = keys.delete_key(args.provider)
    except keys.KeyringUnavailable as exc:
        raise UserError(str(exc)) from None
    if not removed:
        raise UserError(f"no key stored for '{args.provider}' in the keyring")
    print(f"Deleted the key for {args.provider} from the system keyring.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = getattr(args, "handler", cmd_gui)
    try:
        return handler(args)
    except (UserError, WorkspaceError) as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("lab: interrupted", file=sys.stderr)
        return 130


def gui_main() -> int:
    """The `prompt-lab` launcher: the same as `lab gui`."""
    return main(["gui", *sys.argv[1:]])


if __name__ == "__main__":
    raise SystemExit(main())
