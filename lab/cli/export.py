"""`lab export`: judged outputs written as a fine-tuning dataset, validated, split, with a card."""

from __future__ import annotations

import argparse
import json
import sys

from lab.cli.errors import UserError
from lab.core import export as ex
from lab.core.workspace.location import open_default_workspace


def cmd_export(args: argparse.Namespace) -> int:
    selection = ex.Selection(
        min_score=args.min_score, thumbs_up=args.thumbs_up, tags=args.tag,
        exclude_tags=args.exclude_tag, checks_passed=args.checks_passed,
        experiments=args.experiment, runs=args.run, variants=args.variant, models=args.model,
        search=args.search, step=args.step)
    try:
        options = ex.ExportOptions(
            kind=args.kind, from_ratings=args.from_ratings, dedup=args.dedup,
            prompt=ex.PromptHandling(system=args.system, short_system=args.short_system,
                                     examples=args.examples),
            train_fraction=args.split, seed=args.seed, base_model=args.base_model,
            dataset_name=args.name, description=args.description, licence=args.licence,
            force=args.force)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    with open_default_workspace(args.db, with_sample=False, create=False) as store:
        what = args.dataset if args.dataset else selection
        try:
            plan = ex.plan_export(store, what, args.format, options)
            result = ex.write_export(plan, args.out, progress=_export_progress(args.json))
        except ex.ValidationFailed as exc:
            if args.json:
                print(json.dumps({"written": False, "report": exc.report.to_dict()}, indent=2))
            else:
                print(exc.report.text(), file=sys.stderr)
            raise UserError(f"the export breaks {args.format}'s rules ({exc.report.errors} "
                            "error(s)); nothing was written. Fix them, or use --force.") from None
        except (ex.ExportError, ValueError) as exc:
            raise UserError(str(exc).splitlines()[0]) from None
    if args.json:
        print(json.dumps({"written": True, **result.summary,
                          "files": {k: str(v) for k, v in result.files.items()}},
                         indent=2, default=str))
        return 0
    counts = ", ".join(f"{n} {split}" for split, n in result.counts.items() if n)
    print(f"Wrote {counts} examples in {args.format} format to {result.out_dir}")
    for name, path in result.files.items():
        print(f"  {path}")
    report = result.report.text().strip()
    if report:
        print(report)
    return 0


def _export_progress(quiet: bool):
    if quiet or not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        print(f"\rwriting {done}/{total}", end="" if done < total else "\n", file=sys.stderr)

    return show
