"""`lab workspace`: where the workspace is, its schema version and its projects."""

from __future__ import annotations

import argparse
import json

from lab.core.workspace.location import default_workspace_path, open_default_workspace


def cmd_workspace(args: argparse.Namespace) -> int:
    with open_default_workspace(args.db, create=args.db is None) as store:
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
