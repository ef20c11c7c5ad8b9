"""`lab log`: logged calls, newest first, with full-text search."""

from __future__ import annotations

import argparse
import json

from lab.cli import terminal
from lab.core.workspace.location import open_default_workspace


def cmd_log(args: argparse.Namespace) -> int:
    with open_default_workspace(args.db, with_sample=False, create=False) as store:
        rows = store.page_calls(limit=args.limit, search=args.search)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        print("\n".join(terminal.log_lines(rows)))
    return 0
