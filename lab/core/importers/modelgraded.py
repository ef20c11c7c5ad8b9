"""openai/evals model-graded specs (`registry/modelgraded/*.yaml`: a prompt, choice strings and
their scores) as the lab's LLM judge.

The spec's prompt becomes the rubric: `{completion}` is the output the judge is shown anyway,
`{input}` is the test case's `{{input}}`, other `{fields}` come from `modelgraded_spec_args` or
the sample's columns. The judge is asked for the score of the choice it picks; scores outside 0-1
are rescaled onto the lab's 0-1 scale. Evals reports the mean score and counts choices, with no
pass mark; the lab passes at the middle of the scale (reported).
"""

from __future__ import annotations

import re
from typing import Any

from lab.core.importers.report import ImportReport
from lab.core.model import Check

_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def modelgraded_check(data: Any, name: str, args: dict[str, Any], where: str,
                      report: ImportReport) -> Check | None:
    spec = data.get(name, data) if isinstance(data, dict) else None
    original = {"class": "ModelBasedClassify", "args": args, "spec": spec}
    if not isinstance(spec, dict) or not isinstance(spec.get("prompt"), str):
        report.skip(where, f"model-graded spec '{name}'", "the spec has no prompt", original)
        return None
    choices = spec.get("choice_strings")
    if choices == "from_strings" or isinstance(choices, str):
        choices = list(choices) if choices != "from_strings" else []
    scores = spec.get("choice_scores")
    if scores == "from_strings":
        scores = {c: float(c) for c in choices or [] if c.replace(".", "", 1).isdigit()}
    if not isinstance(scores, dict) or not scores:
        report.skip(where, f"model-graded spec '{name}'", "the spec has no choice_scores, so "
                    "Evals only counts the choices; the lab's judge needs a score to pass or "
                    "fail", original)
        return None
    low, high = min(scores.values()), max(scores.values())
    span = (high - low) or 1.0
    scaled = {str(c): (float(s) - low) / span if not 0 <= low <= high <= 1 else float(s)
              for c, s in scores.items()}
    extra = args.get("modelgraded_spec_args") or {}

    def field(m: re.Match[str]) -> str:
        key = m.group(1)
        if key == "completion":
            return "(the output, shown below)"
        if key in extra and isinstance(extra[key], str):
            return extra[key]
        return "{{" + key + "}}"

    prompt = _FIELD.sub(field, spec["prompt"])
    listed = ", ".join(f'"{c}" = {s:g}' for c, s in scaled.items())
    rubric = (f"{prompt}\n\nPick one of the choices above; its score is: {listed}. Give the "
              "score of the choice you picked.")
    check = Check("judge", {"rubric": rubric, "scale": "0-1", "pass_threshold": 0.5}, name)
    notes = ["Evals reports the mean choice score with no pass mark; the lab's judge passes at "
             "0.5 of the 0-1 scale"]
    if scaled != {str(c): float(s) for c, s in scores.items()}:
        notes.append(f"scores rescaled from {low:g}-{high:g} to 0-1")
    if str(args.get("eval_type", "")).startswith("cot") or "cot" in str(args.get("eval_type", "")):
        notes.append("the lab's judge gives a short reason, not a full chain of thought first")
    report.approximate(where, f"model-graded spec '{name}'", f"check '{name}' (judge, 0-1)",
                       "; ".join(notes), original)
    return check
