"""A run's results per variant, read back from the log: what `lab run` prints at the end.

The figures come from `analysis.summary.variant_summary` over the newest call of every cell (a failed call
that a resume later redid counts once, as its redo). Run totals (calls, cost) count every call of
the run: judge calls, cache answers and failed attempts included, because that is what was spent.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from lab.core.analysis.summary import VariantSummary, variant_summary
from lab.core.checks.config import check_names
from lab.core.model import Check
from lab.core.run.call_records import NOT_SENT

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store



@dataclass
class RunReport:
    run_id: int
    experiment: str
    status: str
    cells: int  # the whole matrix
    cells_done: int  # cells whose newest call succeeded
    calls: int  # every call of the run (judge calls and earlier attempts included)
    cached_calls: int
    judge_calls: int
    cost_usd: float | None  # None: no call had a known price
    variants: list[VariantSummary] = field(default_factory=list)
    errors_by_type: dict[str, dict[str, int]] = field(default_factory=dict)  # variant -> type -> n
    error_examples: dict[str, str] = field(default_factory=dict)  # type -> the first message
    check_names: list[str] = field(default_factory=list)
    not_sent: int = 0  # cells whose call was never sent (its provider had stopped: no key, no credit)

    def to_dict(self) -> dict[str, Any]:
        """One JSON-ready document (what `lab run --json` prints)."""
        data = asdict(self)
        data["variants"] = []
        for summary in self.variants:
            figures = asdict(summary)
            figures["errors_by_type"] = self.errors_by_type.get(summary.variant, {})
            data["variants"].append(figures)
        data.pop("errors_by_type")
        return data


def run_report(store: Store, run_id: int) -> RunReport:
    run = store.get_run(run_id)
    if run is None:
        raise ValueError(f"no run {run_id}")
    calls = store.calls_for_run(run_id)
    totals = store.run_totals(run_id)
    errors: dict[str, Counter[str]] = {}
    names: list[str] = []
    examples: dict[str, str] = {}
    # The experiment's order, not the order calls happened to finish in.
    variants = run["experiment_config"].get("variants", [])
    order = {v.get("name"): i for i, v in enumerate(variants)}
    not_sent = 0
    for call in calls:
        if call["status"] != "ok":
            kind = call["error_type"] or call["status"]
            errors.setdefault(call["variant_name"], Counter())[kind] += 1
            message = call["error_message"] or ""
            if message.startswith(NOT_SENT):
                not_sent += 1
            # Quoted once per kind, as the provider's answer (not as the calls it kept from going out).
            if kind not in examples or examples[kind].startswith(NOT_SENT):
                examples[kind] = message
        names += [n for n in call["checks"] if n not in names]
    examples = {k: m.removeprefix(NOT_SENT) for k, m in examples.items()}
    return RunReport(
        run_id=run_id,
        experiment=run["experiment_name"],
        status=run["status"],
        cells=run["planned_calls"],
        cells_done=sum(1 for c in calls if c["status"] == "ok"),
        calls=totals["calls"],
        cached_calls=totals["cached_calls"],
        judge_calls=totals["judge_calls"],
        cost_usd=totals["cost_usd"],
        variants=sorted(variant_summary(calls, apart=_retrieval_checks(run)),
                        key=lambda v: order.get(v.variant, len(order))),
        errors_by_type={k: dict(v) for k, v in errors.items()},
        error_examples=examples,
        check_names=names,
        not_sent=not_sent,
    )


def _retrieval_checks(run: dict) -> list[str]:
    """The names of the run's retrieval-hit checks: retrieval quality, measured apart from the
    answer's."""
    checks = [Check(c.get("type", ""), name=c.get("name", ""))
              for c in run["experiment_config"].get("checks", []) if isinstance(c, dict)]
    return [name for check, name in zip(checks, check_names(checks))
            if check.type == "retrieval-hit"]
