"""Planning an export: select, shape, deduplicate, split and validate, before writing anything.

`plan_export` is the one entry point the `lab export` command and the export dialog call. It
reads the selection from the workspace (so new judgements count), turns each output into a
`TrainingExample` with the chosen prompt handling, removes duplicates, splits train/validation
by input, and validates every record as the target's rules require. The plan holds the
examples (sharing the repeated prompt text between them), a preview of the first records
exactly as they will be written, and the report; `write.write_export` then streams the files.

Records are built from the examples on demand, once to validate and once to write, so a plan
for 100,000 examples never holds 100,000 records at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from lab.core.export.datasets import chain_steps, load_dataset, preference_pairs, select_calls
from lab.core.export.prompt_handling import (
    Counter,
    PromptHandling,
    Shaper,
    TrainingExample,
)
from lab.core.export.quality import DedupMode, deduplicate, split, token_stats
from lab.core.export.registry import get_format
from lab.core.export.selection import Selection, SkippedCall
from lab.core.export.target import Kind, Target, dumps
from lab.core.export.validation import Problem, Report, warning
from lab.core.model import Dataset

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store


SPLITS = ("train", "validation")


class ExportError(Exception):
    """An export that cannot go ahead; the message says why and what to do."""


class EmptySelection(ExportError):
    """Nothing to export: the selection holds no outputs (or no pairs, for preference data)."""


class UnsupportedData(ExportError):
    """The format cannot hold this kind of data (e.g. preference pairs as Bedrock SFT)."""


class ValidationFailed(ExportError):
    """The validation report has errors and the export was not forced."""

    def __init__(self, report: Report):
        self.report = report
        super().__init__(f"The export breaks the target's rules ({report.errors} error(s)); "
                         "nothing was written. Fix the problems, or force the export.\n"
                         + report.text())


@dataclass
class ExportOptions:
    """Everything about an export except the selection and the format."""

    kind: Kind | None = None  # "sft" or "preference"; None: the format's first
    prompt: PromptHandling = field(default_factory=PromptHandling)
    dedup: DedupMode = "whitespace"
    train_fraction: float = 0.9  # 1.0: no validation file
    seed: int = 0
    from_ratings: bool = False  # preference pairs from ratings as well as pairwise judgements
    base_model: str | None = None  # the model to tune, for its per-example token limit
    preview: int = 5
    dataset_name: str = ""
    description: str = ""
    licence: str = ""
    force: bool = False  # write even when the report has errors
    count_tokens: Counter | None = None  # an exact tokenizer; default: the offline estimate
    progress_every: int = 1000


@dataclass
class ExportPlan:
    """What `write_export` will write, and what is wrong with it."""

    target: Target
    kind: Kind
    options: ExportOptions
    selection: Selection
    dataset_name: str
    examples: list[TrainingExample]
    files: dict[str, str]  # split -> file name
    report: Report
    preview: list[dict[str, Any]]
    selected: int  # outputs the selection held (pairs, for preference data)
    duplicates: dict[int, int]  # removed output id -> the kept output it repeats
    skipped: list[SkippedCall]
    created_at: str

    def split_examples(self, split_name: str) -> list[TrainingExample]:
        return [e for e in self.examples if e.split == split_name]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(SPLITS, 0)
        for e in self.examples:
            counts[e.split] += 1
        return counts

    def records(self, split_name: str) -> Iterator[tuple[TrainingExample, dict[str, Any]]]:
        """The split's records in file order, built one at a time."""
        record, kind = self.target.record, self.kind
        for example in self.examples:
            if example.split == split_name:
                yield example, record(example, kind)

    def line_of(self, index: int) -> int:
        """The file line (CSV: row) of the index-th record of a split."""
        return index + 2 if self.target.layout == "json-array" else index + 1

    def preview_lines(self) -> list[str]:
        """The preview as the text of the file's lines (CSV: the records as JSON)."""
        return [dumps(record) for record in self.preview]

    def token_summary(self) -> dict[str, Any]:
        saved = [e.removed_tokens for e in self.examples]
        return {
            "tokens_per_example": token_stats([e.tokens for e in self.examples]),
            "prompt_tokens_per_example": token_stats([e.prompt_tokens for e in self.examples]),
            "prompt_tokens_removed_per_example": round(sum(saved) / len(saved), 1) if saved else 0,
            "prompt_tokens_removed_total": sum(saved),
            "estimated": self.options.count_tokens is None,
            "training": self.target.training_estimate([e.tokens for e in self.examples
                                                       if e.split == "train"],
                                                      self.options.base_model),
        }

    def summary(self) -> dict[str, Any]:
        """Plain data for `lab export --json` and the dialog."""
        return {
            "format": self.target.name, "kind": self.kind, "dataset": self.dataset_name,
            "selection": self.selection.describe(), "selected": self.selected,
            "examples": len(self.examples), "counts": self.counts(),
            "duplicates_removed": len(self.duplicates), "skipped": len(self.skipped),
            "prompt": self.options.prompt.describe(self.target.masks_examples),
            "files": self.files, "tokens": self.token_summary(),
            "report": self.report.to_dict(),
        }


What = Selection | Dataset | str | int | dict


def _resolve(store: Store, what: What) -> tuple[Selection, Dataset | None]:
    if isinstance(what, Selection):
        return what, None
    if isinstance(what, dict):
        return Selection.from_dict(what), None
    dataset = what if isinstance(what, Dataset) else load_dataset(store, what)
    return Selection.from_dict(dataset.selection), dataset


def plan_export(store: Store, what: What, format_name: str,
                options: ExportOptions | None = None) -> ExportPlan:
    """Select, shape, deduplicate, split and validate; nothing is written.

    `what` is a Selection, a saved Dataset, or a dataset's name or id. Raises UnknownFormat,
    UnsupportedData, EmptySelection, or WorkspaceError for a dataset that does not exist.
    """
    options = options or ExportOptions()
    target = get_format(format_name)
    kind = options.kind or target.kinds[0]
    if kind not in target.kinds:
        raise UnsupportedData(f"{target.name} cannot hold {kind} data; it takes "
                              f"{' or '.join(target.kinds)}. Formats for {kind} data: see "
                              "`lab export --help`.")
    selection, dataset = _resolve(store, what)
    if dataset is not None:  # the saved dataset's card fields, unless the caller set them
        options = replace(options, licence=options.licence or dataset.licence,
                          description=options.description or dataset.description)
    shaper = Shaper(options.prompt, target.masks_examples, options.count_tokens)
    skipped: list[SkippedCall] = []
    if kind == "preference" and selection.step:
        raise UnsupportedData(
            f"Preference pairs are made from judgements of chains' final outputs, so a chain "
            f"step (“{selection.step}”) can be exported as sft data only; leave out the step "
            "or choose an sft format.")
    if kind == "preference":
        pairs = preference_pairs(store, selection, options.from_ratings, skipped)
        if not pairs:
            raise EmptySelection(
                f"No preference pairs in the selection ({selection.describe()}): no selected "
                "output won a blind pairwise comparison against another output for the same "
                "input. Compare outputs pairwise first"
                + ("." if options.from_ratings else ", or build pairs from ratings too."))
        examples = [shaper.shape(p.chosen, p.rejected, p.same_prompt) for p in pairs]
    else:
        calls = select_calls(store, selection, skipped)
        if not calls and selection.step and selection.step not in chain_steps(store):
            known = ", ".join(f"“{name}”" for name in chain_steps(store)) or "none logged yet"
            raise EmptySelection(f"No chain has a step named “{selection.step}”. Steps in this "
                                 f"workspace: {known}.")
        if not calls:
            raise EmptySelection(
                f"The selection holds no successful outputs ({selection.describe()}). Rate or "
                "tag some outputs, or loosen the selection.")
        examples = [shaper.shape(c) for c in calls]
    selected = len(examples)
    examples, duplicates = deduplicate(examples, options.dedup)
    split(examples, options.train_fraction, options.seed)
    plan = ExportPlan(
        target=target, kind=kind, options=options, selection=selection,
        dataset_name=options.dataset_name or (dataset.name if dataset else "lab-export"),
        examples=examples, files={}, report=Report(), preview=[], selected=selected,
        duplicates=duplicates, skipped=skipped,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    counts = plan.counts()
    plan.files = {s: f"{s}{target.suffix}" for s in SPLITS if counts[s]}
    _validate(plan)
    return plan


def _validate(plan: ExportPlan) -> None:
    target, report, options = plan.target, plan.report, plan.options
    limit = target.limit_for(options.base_model)
    for split_name, file_name in plan.files.items():
        for index, (example, record) in enumerate(plan.records(split_name)):
            if len(plan.preview) < options.preview:
                plan.preview.append(record)
            problems = [*target.check(record, plan.kind)]
            if limit is not None and example.tokens > limit:
                problems.append(_over_limit(target, example.tokens, limit))
            if not example.same_prompt:
                problems.append(warning(
                    "pairs.different-prompts", "The two outputs of this pair were made with "
                    "different prompts; the pair uses the chosen output's prompt.",
                    "Drop or replace the system prompt so both sides share one prompt."))
            for problem in problems:  # located only when there is something to locate
                report.add(replace(problem, file=file_name, line=plan.line_of(index),
                                   call_id=example.call_id))
    counts = plan.counts()
    report.extend(target.dataset_problems(counts["train"], counts["validation"], plan.kind))
    examples_as = options.prompt.examples_for(target.masks_examples)
    if examples_as == "turns" and not target.masks_examples and any(e.shots for e in plan.examples):
        report.add(warning("prompt.examples-trained", f"Few-shot examples are kept as turns, but "
                           f"{target.service} cannot mask them: {target.turns_note}.",
                           "Fold the examples into the system prompt or drop them."))
    if options.train_fraction < 1 and counts["validation"] == 0:
        report.add(warning("split.no-validation", "No example went to validation: there are too"
                           " few distinct inputs for the split asked for.", "Export with more "
                           "outputs, or use no validation split (train fraction 1)."))
    for skip in plan.skipped:
        report.add(replace(warning("selection.skipped", skip.reason, "It is not in the export."),
                           call_id=skip.call_id, file="selection"))


def _over_limit(target: Target, tokens: int, limit: int) -> Problem:
    return Problem(target.over_limit, f"{target.name}.token-limit",
                   f"About {tokens:,} tokens, over the limit of {limit:,}: "
                   f"{target.over_limit_note}.",
                   "Shorten or drop the system prompt and examples, or leave this output out "
                   "(the count is an estimate unless an exact tokenizer was given).")
