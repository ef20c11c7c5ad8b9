"""What an analysis covers: one run, every run of an experiment, or every run of a project.

`resolve` turns the user's choice into the runs, the variants as they were defined (read from
the experiment stored with the newest run, so techniques and prompts are the ones that ran),
the test cases' labels and the judge checks' scales, and loads the calls that count into the
store's scope table (`AnalysisRows.load_analysis_scope`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lab.core.experiment import file as experiment_file
from lab.core.experiment.params import PARAM_KEYS
from lab.core.model import Example, Variant

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store



class ScopeError(ValueError):
    """Nothing to analyse: no such run or experiment, or no runs yet; the message says what."""


@dataclass(frozen=True)
class Scope:
    """One run, every run of an experiment (by name) or of a project; none: the newest run."""

    run_id: int | None = None
    experiment: str | None = None
    project_id: int | None = None


@dataclass
class ResolvedScope:
    scope: Scope
    runs: list[dict[str, Any]]
    label: str  # "run 3 of tone", "experiment tone (4 runs)"
    variants: list[Variant]  # as defined in the newest run, in its order
    variant_tables: dict[str, dict[str, Any]]  # the raw definitions (fields a newer lab adds)
    judge_scales: dict[str, str]  # judge check name -> "1-5" or "0-1"
    calls: int = 0
    case_labels: dict[Any, str] = field(default_factory=dict)
    check_names: list[str] = field(default_factory=list)  # the scope table's bit order

    @property
    def run_ids(self) -> list[int]:
        return [r["id"] for r in self.runs]

    @property
    def by_case_values(self) -> bool:
        return len(self.runs) > 1

    def selection(self, variant: str | None = None) -> dict[str, Any]:
        """The export selection of this scope's outputs (of one variant)."""
        rules: dict[str, Any] = {"runs": self.run_ids}
        if variant is not None:
            rules["variants"] = [variant]
        return rules


def _lenient_variants(config: dict[str, Any]) -> list[Variant]:
    """Variants from a stored config the strict reader refuses (a newer or older shape)."""
    variants = []
    for table in config.get("variants") or []:
        if not isinstance(table, dict):
            continue
        params = dict(table.get("params") or {})
        params.update({k: table[k] for k in PARAM_KEYS if k in table})
        examples = [Example(str(e.get("user", "")), str(e.get("assistant", "")),
                            enabled=bool(e.get("enabled", True)))
                    for e in table.get("examples") or [] if isinstance(e, dict)]
        variants.append(Variant(str(table.get("name", "")), str(table.get("model", "")),
                                system=str(table.get("system", "")), examples=examples,
                                params=params))
    return variants


def _variants(config: dict[str, Any]) -> list[Variant]:
    try:
        return list(experiment_file.from_data(config, "stored experiment").project.variants)
    except (experiment_file.ExperimentFileError, KeyError, TypeError, ValueError):
        return _lenient_variants(config)


def _label_of(values_json: str, fallback: str) -> str:
    try:
        values = json.loads(values_json or "{}")
    except json.JSONDecodeError:
        return fallback
    text = " ".join(str(values.get("label") or next(iter(values.values()), "") or "").split())
    return (text[:60] + "…" if len(text) > 60 else text) or fallback


def _check_names(configs: Any) -> list[str]:
    """The check names experiment configs define, in order (a check's name, else its type)."""
    names = [str(c.get("name") or c.get("type") or "") for config in configs
             for c in config.get("checks") or [] if isinstance(c, dict)]
    return list(dict.fromkeys(n for n in names if n))


def resolve(store: Store, scope: Scope | None = None) -> ResolvedScope:
    """The runs in scope and what they ran; raises ScopeError when there are none."""
    scope = scope or Scope()
    runs = store.analysis_runs(run_id=scope.run_id, experiment=scope.experiment,
                               project_id=scope.project_id)
    if not runs:
        if scope.run_id is not None:
            raise ScopeError(f"There is no run {scope.run_id} in {store.path}; `lab log` shows "
                             "the run of every call.")
        if scope.experiment is not None:
            known = ", ".join(store.experiment_names()) or "none yet"
            raise ScopeError(f"No run of an experiment named {scope.experiment!r} in "
                             f"{store.path}. Experiments: {known}.")
        raise ScopeError(f"{store.path} has no runs yet: run an experiment first "
                         "(`lab run EXPERIMENT.toml`).")
    newest = runs[-1]
    config = newest["config"]
    variants = _variants(config)
    tables = {str(t.get("name")): t for t in config.get("variants") or [] if isinstance(t, dict)}
    scales = {str(c.get("name") or c.get("type")): str(c.get("scale", "1-5"))
              for c in config.get("checks") or []
              if isinstance(c, dict) and c.get("type") == "judge"}
    if len(runs) == 1:
        label = f"run {newest['id']} of {newest['experiment_name']}"
    elif scope.experiment is not None:
        label = f"experiment {scope.experiment} ({len(runs)} runs)"
    else:
        label = f"project {scope.project_id} ({len(runs)} runs)"
    resolved = ResolvedScope(scope, runs, label, variants, tables, scales)
    resolved.calls, resolved.check_names = store.load_analysis_scope(
        resolved.run_ids, resolved.by_case_values,
        _check_names(r["config"] for r in runs))
    rows = (config.get("cases") or {}).get("rows") or []
    for key, values in store.scope_case_values().items():
        fallback = f"case {key + 1}" if isinstance(key, int) else "case"
        if isinstance(key, int) and 0 <= key < len(rows) and isinstance(rows[key], dict) \
                and rows[key].get("label"):
            resolved.case_labels[key] = str(rows[key]["label"])
        else:
            resolved.case_labels[key] = _label_of(values, fallback)
    return resolved
