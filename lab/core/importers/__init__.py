"""Importers: experiments written for other tools, converted into the lab's `ExperimentSpec` with
a report of what was converted, what was approximated and what was left out (and why, with the
original text). Nothing is ever dropped silently.

`promptfoo` (promptfoo's YAML config) with `promptfoo_prompts`, `promptfoo_providers`,
`promptfoo_tests`, `assertions` (assertions as checks) and `case_checks` (one test's assertions
as experiment checks); `evals_registry` (the open-source openai/evals registry: an eval YAML and
its samples.jsonl) with `evals_samples` and `modelgraded`; `evals_platform` (the hosted OpenAI
Evals platform's export: items, item schema, runs) with `evals_graders` (testing criteria as
checks). Shared: `report` (the report and `ImportResult`), `sources` (reading YAML, JSON, JSONL
and CSV with the file and line in every error), `templates` (Nunjucks and Evals `{{ }}` to the
lab's `{{variable}}`), `messages` (chat message lists to system prompt, examples and user
message), `expressions` (Python expressions for the lab's `python` check), `cases` (test-case
rows), `variants` (prompts × models as named variants).

Callers (the `lab import` command, the window's File ▸ Import) use `import_promptfoo(path)` and
`import_openai_evals(path)`, each returning an `ImportResult(spec, report)`; a file that cannot
be read at all raises `ImportFileError` naming the file and the place.

May import: `model`, `experiment`, `checks`, `providers` (provider kinds and default addresses),
`runtime`. Never `run` or `workspace`: importing sends nothing and writes no workspace.
"""

from __future__ import annotations

from lab.core.importers.report import ImportFileError, ImportReport, ImportResult


def import_promptfoo(path) -> ImportResult:
    """A promptfoo config (promptfooconfig.yaml) as an experiment, with the import report."""
    from lab.core.importers.promptfoo import import_promptfoo as run

    return run(path)


def import_openai_evals(path, model: str | None = None) -> ImportResult:
    """An openai/evals registry eval (a .yaml) or a hosted Evals export (a folder, or its
    eval.json) as an experiment, with the import report. `model` (provider/model) is the
    variant's model where the source names none (default openai/gpt-4o-mini)."""
    from pathlib import Path

    if Path(path).suffix.lower() in (".yaml", ".yml"):
        from lab.core.importers.evals_registry import import_registry_eval as run
    else:
        from lab.core.importers.evals_platform import import_platform_eval as run
    return run(path, model)


__all__ = ["ImportFileError", "ImportReport", "ImportResult", "import_openai_evals",
           "import_promptfoo"]
