"""An import written to disk: the experiment file and its import report beside it, where both
the `lab import` command and the window's File ▸ Import put them."""

from __future__ import annotations

from pathlib import Path

from lab.core.experiment import file as experiment_file
from lab.core.importers.report import ImportResult

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


def write_import(result: ImportResult, out: Path) -> Path:
    """Write the experiment file `out` and its report; the report's path. The text is read back
    first, so what is written is an experiment the lab opens. Raises OSError when it cannot be
    written."""
    text = result.toml()
    experiment_file.loads(text, str(out), base_dir=out.parent)
    report = report_path(out)
    out.write_text(text, encoding="utf-8")
    report.write_text(result.report.to_markdown(str(out)), encoding="utf-8")
    return report
