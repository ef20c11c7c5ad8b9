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
from lab.core.experiment import file as experiment_file
from lab.core.importers import ImportFileError, ImportResult, import_openai_evals, import_promptfoo

REPORT_SUFFIX = ".import-report.md"


def default_out(source: Path) -> Path:
    """Beside the source: `promptfooconfig.yaml` -> `promptfooconfig.toml`, a folder `support/`
    (or its `eval.json`) -> `support.toml`."""
    if source.is_dir():
        return source.parent / f"{source.name}.toml"
    if source.suffix.lower() == ".json":
        return source.parent.parent / f"{source.parent.name}.toml"
    return source.with_suffix(".toml")


def report_path(out: Path) -> Path:
    return out.with_name(out.stem + REPORT_SUFFIX)


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
    text = result.toml()
    experiment_file.loads(text, str(out), base_dir=out.parent)  # what is written reads back
    report = report_path(out)
    try:
        out.write_text(text, encoding="utf-8")
        report.write_text(result.report.to_markdown(str(out)), encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror}") from None
    print("\n".join(result.report.lines()))
    print(f"Wrote {out} and {report}. Check it with: lab check {out}")
    return 0 if result.report.complete else EXIT_PARTIAL_IMPORT
