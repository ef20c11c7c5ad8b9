"""Fine-tuning dataset export: from judged outputs to a validated, split, documented dataset.

The entry points the `lab export` command and the GUI call:

* `plan_export(store, dataset_or_selection, format_name, ExportOptions(...)) -> ExportPlan`:
  select, shape the prompt, deduplicate, split and validate; nothing is written. The plan has
  `preview` (the first records as they will be written), `report` (errors and warnings, each
  with file and line) and `summary()`.
* `write_export(plan, out_dir, progress=..., cancel=...) -> ExportResult`: stream the files,
  the dataset card and any extra files into `out_dir`, atomically.
* `describe_formats()`: format name -> one-line description.
* `check_file(path, format_name)`: the same rules applied to a file already on disk.

Modules: `selection` (what a dataset is), `datasets` (saved datasets and their SQL), `conversation`
(reading back what a call sent), `pairs` (preference pairs), `prompt_handling` (keep, drop or
shorten the prompt), `quality` (dedup, split, token statistics), `validation` (the report),
`target` (what a format provides), one module per format, `registry`, `plan`, `write`, `card`.

May import: `model`, `workspace`, `experiment`, `runtime`; never `run`.
"""

from __future__ import annotations

from typing import Any

# Imported on first use, so that opening the window or `lab --help` does not load the export
# machinery (twelve formats and their validators) before anyone exports.
_EXPORTS = {
    "plan_export": "plan", "ExportPlan": "plan", "ExportOptions": "plan",
    "ExportError": "plan", "EmptySelection": "plan", "UnsupportedData": "plan",
    "ValidationFailed": "plan", "write_export": "write", "ExportResult": "write",
    "ExportCancelled": "write", "PromptHandling": "prompt_handling", "Selection": "selection",
    "describe_formats": "registry", "format_names": "registry", "UnknownFormat": "registry",
    "Report": "validation", "Problem": "validation", "check_file": "check_file",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)


__all__ = sorted(_EXPORTS)
