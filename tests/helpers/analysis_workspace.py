"""Crafted workspaces for the analysis: a run logged the way the runner logs one (an experiment
with its config, calls saved with `save_run_records` and their check results), then rated and
tagged through the store's judgement API. Each variant's outputs are given case by case, so a
test states the right answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.core.model import Call, PromptVersion, Rating, Usage
from lab.core.workspace.runs import CallRecord, LoggedCheck
from lab.core.workspace.store import open_workspace


@dataclass
class Output:
    text: str
    passed: bool | None = True  # the "ok" check; None: no check result
    judge: float | None = None  # an LLM judge's 1-5 score ("quality" check)
    rating: int | None = None
    thumbs: int | None = None
    tags: Sequence[str] = ()


@dataclass
class Crafted:
    path: Path
    run_id: int = 0
    ids: dict[tuple[str, int, int], int] = field(default_factory=dict)  # (variant, case, sample)


def variant_table(name: str, *, system: str = "You help.", examples: int = 0,
                  json_format: bool = False) -> dict[str, Any]:
    table: dict[str, Any] = {"name": name, "model": "openai/gpt-4o-mini", "system": system}
    if examples:
        table["examples"] = [{"user": f"Example {i}?", "assistant": f"Answer {i}."}
                             for i in range(examples)]
    if json_format:
        table["response_format"] = {"type": "json_object"}
    return table


def build(path: Path, variants: Sequence[dict[str, Any]], cases: int, samples: int,
          output: Callable[[str, int, int], Output], judge: bool = False) -> Crafted:
    """``output(variant, case, sample)`` says what each cell logged."""
    crafted = Crafted(path)
    checks = [{"type": "contains", "name": "ok", "value": "x"}]
    if judge:
        checks.append({"type": "judge", "name": "quality", "rubric": "good?", "model": "openai/x"})
    config = {"name": "crafted", "variants": list(variants), "samples": samples,
              "cases": {"user": "{{q}}", "rows": [{"q": f"question {c}"} for c in range(cases)]},
              "checks": checks}
    with open_workspace(path) as store:
        experiment = store.create_experiment("crafted", config)
        crafted.run_id = run = store.create_run(experiment, samples=samples,
                                                planned_calls=len(variants) * cases * samples)
        records, ratings = [], []
        for table in variants:
            name = table["name"]
            version = store.prompt_version_id(PromptVersion(table.get("system", ""), "{{q}}"))
            for case in range(cases):
                for sample in range(samples):
                    out = output(name, case, sample)
                    call = Call("openai", "gpt-4o-mini", {}, status="ok", response_text=out.text,
                                usage=Usage(400, 50), latency_ms=100.0 + case, ttft_ms=20.0,
                                cost_usd=0.0001, variant_name=name, run_id=run,
                                experiment_id=experiment, prompt_version_id=version,
                                case_vars={"q": f"question {case}"}, sample_index=sample)
                    logged = [] if out.passed is None else [LoggedCheck("ok", out.passed, None, "")]
                    if out.judge is not None:
                        judge_call = Call("openai", "x", {}, status="ok", response_text="{}")
                        store.save_run_records([CallRecord(judge_call)])
                        logged.append(LoggedCheck("quality", out.judge >= 4, out.judge, "",
                                                  judge_call=judge_call))
                    records.append(CallRecord(call, case_index=case, checks=logged))
                    ratings.append((name, case, sample, out))
        store.save_run_records(records)
        for record, (name, case, sample, out) in zip(records, ratings):
            crafted.ids[name, case, sample] = record.call.id
            if out.rating is not None or out.thumbs is not None or out.tags:
                store.set_rating(Rating(record.call.id, thumbs=out.thumbs, score=out.rating,
                                        tags=list(out.tags)))
    return crafted
