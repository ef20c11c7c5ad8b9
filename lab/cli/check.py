"""`lab check EXPERIMENT.toml`: the run's pre-flight alone. It reads the file, plans the run
against the workspace's providers and cache, asks each provider for its models and prints the
estimate; no chat call is sent.

Exit 0 when `lab run` would start, 2 with one line per problem otherwise. A provider that cannot
be reached is a warning, not a problem: the file may be right and the server simply not running
here (a CI job that lints experiment files often has no network); `lab run` stops on it unless
`--yes`.
"""

from __future__ import annotations

import argparse
import json
import sys

from lab.cli import terminal
from lab.cli.errors import EXIT_USER_ERROR, UserError
from lab.cli.preflight import ask_models, load_experiment, prepare
from lab.core.run.batch_plan import BatchOptions, with_batches
from lab.core.run.plan import PlanError
from lab.core.run.setup import RunOptions
from lab.core.run.template_problems import check_project
from lab.core.workspace.location import open_default_workspace


def cmd_check(args: argparse.Namespace) -> int:
    args.resume = None
    problems: list[str] = []
    warnings: list[str] = []
    estimate = None
    try:
        spec, prices = load_experiment(args.experiment)
    except UserError as exc:
        problems.append(str(exc))
    else:
        warnings += [f"{spec.origin}: {p.message}" for p in check_project(spec.project)
                     if p.severity == "warning"]
        with open_default_workspace(args.db, with_sample=False) as store:
            try:
                options = RunOptions(no_cache=args.no_cache, batch=getattr(args, "batch", False))
                prepared = prepare(store, spec, args, options, prices)
                if options.batch:
                    prepared = with_batches(store, prepared, prices,
                                            options=BatchOptions.from_env())
            except PlanError as exc:
                problems += exc.problems
                prepared = None
        if prepared is not None:
            models = ask_models(prepared.plan)
            problems += models.problems
            warnings += [line.removesuffix(" Nothing was sent.") for line in models.unreachable]
            estimate = prepared.estimate
    if args.json:
        print(json.dumps({"experiment": str(args.experiment), "ok": not problems,
                          "problems": problems, "warnings": warnings,
                          "estimate": estimate.to_dict() if estimate else None}, indent=2))
    else:
        for line in warnings:
            print(f"lab: warning: {line}", file=sys.stderr)
        for line in problems:
            print(f"lab: {line}", file=sys.stderr)
        if estimate is not None and not problems:
            print("\n".join(terminal.estimate_lines(estimate, None)))
            print(f"{args.experiment}: ready to run; nothing was sent.")
    return EXIT_USER_ERROR if problems else 0
