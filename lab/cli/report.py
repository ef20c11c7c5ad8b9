"""`lab report`: what a run (or every run of an experiment) means, as tables, JSON or an HTML file."""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
from pathlib import Path

from lab.cli.errors import UserError

MATPLOTLIB_MISSING = ("--html draws its charts with matplotlib, which is not installed. Install "
                      "it with: pip install 'prompt-lab[report]' (or: pip install matplotlib)")


def cmd_report(args: argparse.Namespace) -> int:
    if args.html and importlib.util.find_spec("matplotlib") is None:
        raise UserError(MATPLOTLIB_MISSING)
    from lab.core.analysis.analyse import AnalysisOptions, analyse
    from lab.core.analysis.scope import Scope, ScopeError
    from lab.core.providers.pricing import (
        PriceTable,
        PriceTableError,
        default_prices_path,
    )
    from lab.core.workspace.location import lab_home, open_default_workspace

    user_prices = lab_home() / "prices.toml"
    try:
        prices = PriceTable.load(user_prices)
    except PriceTableError as exc:
        raise UserError(str(exc)) from None
    options = AnalysisOptions(calls_per_month=args.calls_per_month, good_by=args.good,
                              prices=prices, price_paths=(default_prices_path(), user_prices))
    with open_default_workspace(args.db, with_sample=False, create=False) as store:
        try:
            analysis = analyse(store, Scope(run_id=args.run, experiment=args.experiment), options)
        except ScopeError as exc:
            raise UserError(str(exc)) from None
    if args.html:
        from lab.core.analysis.html_report import html_report

        path = Path(args.html)
        try:
            path.write_text(html_report(analysis), encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write the HTML report {path}: {exc.strerror}") from None
        print(f"Wrote the HTML report to {path}", file=sys.stderr)
    if args.json:
        print(json.dumps(analysis.to_dict(), indent=2, ensure_ascii=False))
        return 0
    from lab.cli.report_view import report_lines

    tty = sys.stdout.isatty()
    width = shutil.get_terminal_size().columns if tty else None
    print("\n".join(report_lines(analysis, color=tty, width=width)))
    return 0
