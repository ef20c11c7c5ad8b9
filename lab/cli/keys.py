"""`lab keys set|list|delete`: API keys in the system keyring, never on disk or in the workspace."""

from __future__ import annotations

import argparse
import json
import sys

from lab.cli.errors import UserError
from lab.core.experiment import file as experiment_file
from lab.core.providers import keys
from lab.core.providers.base import ProviderConfig
from lab.core.run.plan import PlanError, provider_configs
from lab.core.workspace.location import default_workspace_path, open_default_workspace
from lab.core.workspace.providers import configured_providers


def _read_key(provider: str) -> str:
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"Key for {provider} (input hidden): ")
    return sys.stdin.readline()


def _providers(args: argparse.Namespace) -> list[ProviderConfig]:
    """The providers a key can be for: built-ins, the workspace's, and an experiment file's own.

    Reading them never creates a workspace: with no workspace yet, the built-ins are the list.
    """
    inline: list[ProviderConfig] = []
    if getattr(args, "experiment", None):
        try:
            spec = experiment_file.load(args.experiment)
            inline = list(provider_configs(spec, []).values())
        except (experiment_file.ExperimentFileError, PlanError) as exc:
            raise UserError(str(exc).splitlines()[0]) from None
    if args.db is None and not default_workspace_path(None).exists():
        return configured_providers(None, inline)
    with open_default_workspace(args.db, with_sample=False, create=False) as store:
        return configured_providers(store, inline)


def cmd_keys_set(args: argparse.Namespace) -> int:
    known = [c.name for c in _providers(args)]
    key = _read_key(args.provider).strip()
    if not key:
        raise UserError(f"no key given on standard input for '{args.provider}'; nothing stored")
    try:
        keys.set_key(args.provider, key)
    except keys.KeyringUnavailable as exc:
        raise UserError(str(exc)) from None
    print(f"Stored the key for {args.provider} in the system keyring.")
    if args.provider not in known:
        # A provider may be defined in an experiment file the command was not shown; the key is
        # still the one `lab run` looks up for that name, so store it and say what we know.
        print(f"lab: warning: no provider named '{args.provider}' is configured here (known: "
              f"{', '.join(known)}); the key will be used by any provider of that name, e.g. "
              "one defined in an experiment file (--experiment FILE checks it).", file=sys.stderr)
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    configs = _providers(args)
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
