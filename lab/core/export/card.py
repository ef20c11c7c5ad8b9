"""The dataset card: a README.md beside the exported files saying what they are and where from.

A person picking the folder up months later (or a colleague on the Hub) should learn from it
alone: the format and files, how many examples and how they were split, how long they are in
tokens, what the prompt handling removed, which selection, experiments, prompt versions and
models they came from, when, under what licence, and what the validation report said.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from lab.core.export.plan import ExportPlan

GUIDANCE = ("at least 10 examples are accepted, 50–100 make a first useful tune, and hundreds "
            "to thousands give reliable results")


def _verdict(train: int) -> str:
    if train < 10:
        return "below the minimum most services accept"
    if train < 50:
        return "enough to start a job, too few to expect much"
    if train < 100:
        return "enough for a first useful tune"
    if train < 500:
        return "a solid first dataset; more will make results more reliable"
    return "in the range where results become reliable"


def _saving(per_example: float, total: int) -> str:
    if total > 0:
        return (f"The prompt handling removed {per_example} prompt tokens per example on average "
                f"({total:,} in all) against the calls as they were sent: a model tuned on this "
                "data no longer needs them in every call.")
    if total < 0:
        return (f"The prompt handling added {-per_example} prompt tokens per example on average "
                "(few-shot examples written out as text).")
    return ("The examples carry the prompt as it was sent, so a model tuned on them will still "
            "expect it in every call.")


def _first_line(text: str, width: int = 70) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(plan: ExportPlan, sizes: dict[str, int], tokens: dict[str, Any] | None = None) -> str:
    """The README.md text; `sizes` maps each written file name to its size in bytes, `tokens`
    is the plan's token summary when the caller has it already."""
    options, counts, tokens = plan.options, plan.counts(), tokens or plan.token_summary()
    kind = "preference pairs (chosen/rejected)" if plan.kind == "preference" else \
        "supervised examples (SFT)"
    lines = [
        f"# {plan.dataset_name}", "",
        *([options.description, ""] if options.description else []),
        f"Fine-tuning data exported by Prompt Lab: {kind} in the `{plan.target.name}` format "
        f"({plan.target.description}).", "",
        "| | |", "|---|---|",
        f"| Format | `{plan.target.name}` |",
        f"| Created | {plan.created_at} |",
        f"| Licence | {_cell(options.licence) or 'not stated: fill this in before sharing'} |",
        f"| Prompt | {_cell(options.prompt.describe(plan.target.masks_examples))} |", "",
        "## Files", "", "| File | Examples | Bytes |", "|---|---|---|",
    ]
    for split_name, file_name in plan.files.items():
        lines.append(f"| `{file_name}` | {counts[split_name]} | {sizes.get(file_name, 0):,} |")
    for name, size in sizes.items():
        if name not in plan.files.values():
            lines.append(f"| `{name}` | | {size:,} |")
    unit = "pairs" if plan.kind == "preference" else "outputs"
    lines += [
        "", "## Counts", "",
        f"- Selected: {plan.selected} {unit}.",
        f"- Duplicates removed ({options.dedup} comparison): {len(plan.duplicates)}.",
        f"- Left out because they could not be exported: {len(plan.skipped)}.",
        f"- Training: {counts['train']}; validation: {counts['validation']} (seed {options.seed}, "
        f"train fraction {options.train_fraction}, grouped by input so no input is in both).",
        f"- Against the usual guidance ({GUIDANCE}): {counts['train']} training examples is "
        f"{_verdict(counts['train'])}.",
        "", f"## Tokens per example ({'estimated offline' if tokens['estimated'] else 'exact'})",
        "", "| | min | mean | median | p90 | max | total |", "|---|---|---|---|---|---|---|",
    ]
    for label, key in (("whole example", "tokens_per_example"),
                       ("prompt", "prompt_tokens_per_example")):
        s = tokens[key]
        lines.append(f"| {label} | {s['min']} | {s['mean']} | {s['median']} | {s['p90']} | "
                     f"{s['max']} | {s['total']:,} |")
    lines += ["", _saving(tokens['prompt_tokens_removed_per_example'],
                          tokens['prompt_tokens_removed_total'])]
    if tokens["training"]:
        lines += ["", tokens["training"]]
    lines += [
        "", "## Selection", "", plan.selection.describe(), "", "```json",
        json.dumps(plan.selection.to_dict(), indent=2, ensure_ascii=False), "```",
        *_sources(plan),
        "", "## Validation", "", "```", plan.report.text(), "```", "",
    ]
    return "\n".join(lines)


def _sources(plan: ExportPlan) -> list[str]:
    # Examples share their source's names and prompt: count the distinct combinations in one
    # pass (Counter counts in C), then add them up by experiment, prompt version and model.
    combinations = Counter(
        (s.experiment, s.prompt_version_id, s.system_template, s.provider, s.model)
        for s in [example.source for example in plan.examples] if s is not None)
    experiments: Counter[str] = Counter()
    versions: Counter[int | None] = Counter()
    models: Counter[str] = Counter()
    system_of: dict[int | None, str] = {}
    for (experiment, version, system, provider, model), n in combinations.items():
        experiments[experiment or "(none)"] += n
        versions[version] += n
        system_of.setdefault(version, system)
        models[f"{provider}/{model}" if provider else model] += n
    lines = ["", "## Sources", "", "Experiments:", ""]
    lines += [f"- {_cell(name)}: {n}" for name, n in experiments.most_common()]
    lines += ["", "Prompt versions (id: first line of the system prompt):", ""]
    for vid, n in versions.most_common():
        first = _cell(_first_line(system_of.get(vid, "")))
        lines.append(f"- {vid if vid is not None else '(none)'}: {n} example(s), “{first}”")
    lines += ["", "Models:", ""]
    lines += [f"- {_cell(name)}: {n}" for name, n in models.most_common()]
    return lines
