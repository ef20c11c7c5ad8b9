"""`lab import promptfoo CONFIG.yaml` and `lab import openai-evals PATH`: convert another tool's
experiment into an experiment file, and write the import report beside it.

Exit 0 when everything converted (approximations included: the report says how each differs),
6 when some parts were left out (each is in the report with the reason and the original text),
2 when the source cannot be read (one line naming the file and the place).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lab.cli.errors import EXIT_PARTIAL_IMPORT, UserError
from lab.core.importers import ImportFileError, ImportResult, import_openai_evals, import_promptfoo
from lab.core.importers.written import default_out, write_import

def cmd_import(args: argparse.Namespace) -> int:
    source = Path(args.path)
    out = Path(args.out) if args.out else default_out(source)
    if out.suffix.lower() != ".toml":
        raise UserError(f"--out {out}: an experiment file ends in .toml.")
    if out.exists() and not args.force:
        raise UserError(f"{out} already exists; pass --force to replace it, or --out another "
                        "file.")
    if not out.parent.is_dir():
        raise UserError(f"--out {out}: the folder {out.parent} does not exist.")
    try:
        if args.source == "promptfoo":
            result: ImportResult = import_promptfoo(source)
        else:
            result = import_openai_evals(source, model=args.model)
    except ImportFileError as exc:
        raise UserError(str(exc)) from None
    try:
        report = write_import(result, out)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror}") from None
    print("\n".join(result.report.lines()))
    print(f"Wrote {out} and {report}. Check it with: lab check {out}")
    return 0 if result.report.complete else EXIT_PARTIAL_IMPORT
