"""The store's history of a project: the prompt versions each variant was run with (when, in
which runs, under what name), the project's runs with what they cost and how well each
variant passed its checks, and one logged call in full for a detail view (its checks, the
passages it was given, a chain's steps).

Part of the store (mixed into `Store`, so callers write `store.project_runs(1)`); like the rest
of the workspace package it knows table names. Runs started by `lab run FILE` count as the
project's when the file maps to it (`project_for_file`), like runs from the window.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from lab.core.model import Example, PromptVersion
from lab.core.workspace.errors import WorkspaceError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from sqlite_utils import Database

_CHUNK = 500


class RunHistory:
    """Store methods for prompt versions and the runs of a project. Mixed into `Store`."""

    db: Database

    if TYPE_CHECKING:
        def transaction(self) -> AbstractContextManager[None]: ...  # provided by Store
        def chunks_for_call(self, call_id: int) -> list[dict[str, Any]]: ...  # Documents

    # ----------------------------------------------------------------- prompt versions

    def variant_prompt_versions(self, project_id: int, variant_id: int | None,
                                variant_name: str) -> list[dict[str, Any]]:
        """Every prompt the variant was run with, newest first: id, name, the prompt
        (`version`, a PromptVersion), first and last use, calls, and the runs that used it.
        The variant is matched by id, or by name in the project's runs (a variant renamed
        since keeps its history through its id)."""
        rows = self.db.execute(
            "SELECT pv.id, pv.name, pv.system, pv.user_template, pv.examples_json,"
            " min(c.created_at), max(c.created_at), count(c.id),"
            " group_concat(DISTINCT c.run_id)"
            " FROM prompt_versions pv JOIN calls c ON c.prompt_version_id = pv.id"
            " WHERE c.judged_call_id IS NULL AND (c.variant_id = ? OR (c.variant_name = ?"
            " AND c.experiment_id IN (SELECT id FROM experiments WHERE project_id = ?)))"
            " GROUP BY pv.id ORDER BY min(c.created_at) DESC, pv.id DESC",
            [variant_id if variant_id is not None else -1, variant_name, project_id],
        ).fetchall()
        versions = []
        for (vid, name, system, template, examples, first, last, calls, runs) in rows:
            versions.append({
                "id": vid, "name": name, "first_used": first, "last_used": last,
                "calls": calls,
                "runs": sorted({int(r) for r in (runs or "").split(",") if r}, reverse=True),
                "version": PromptVersion(system, template,
                                         [Example(**e) for e in json.loads(examples)]),
            })
        return versions

    def name_prompt_version(self, version_id: int, name: str) -> None:
        with self.transaction():
            found = self.db.execute("UPDATE prompt_versions SET name = ? WHERE id = ?",
                                    [name.strip(), version_id]).rowcount
        if not found:
            raise WorkspaceError(f"No prompt version {version_id}.")

    # ----------------------------------------------------------------- runs

    def project_runs(self, project_id: int, *, limit: int = 50,
                     before_id: int | None = None) -> list[dict[str, Any]]:
        """A page of the project's runs, newest first: when, status, source, variants, test
        cases, samples, calls and cost, and each variant's pass rate (`pass_rates`: variant ->
        (outputs passing every check, outputs checked))."""
        where, params = ["e.project_id = ?"], [project_id]
        if before_id is not None:
            where.append("r.id < ?")
            params.append(before_id)
        rows = list(self.db.query(
            "SELECT r.id, r.status, r.samples, r.planned_calls, r.started_at, r.finished_at,"
            " r.budget_usd, e.name AS experiment, e.source, e.config_json,"
            " (SELECT count(*) FROM calls c WHERE c.run_id = r.id) AS calls,"
            " (SELECT sum(c.cost_usd) FROM calls c WHERE c.run_id = r.id) AS cost_usd,"
            " (SELECT sum(c.status = 'error') FROM calls c WHERE c.run_id = r.id) AS errors"
            " FROM runs r JOIN experiments e ON e.id = r.experiment_id"
            f" WHERE {' AND '.join(where)} ORDER BY r.id DESC LIMIT ?", [*params, limit]))
        rates = self.run_pass_rates(r["id"] for r in rows)
        for row in rows:
            config = json.loads(row.pop("config_json") or "{}")
            row["variants"] = [v.get("name", "") for v in config.get("variants", [])]
            row["cases"] = len((config.get("cases") or {}).get("rows", []))
            row["pass_rates"] = rates.get(row["id"], {})
        return rows

    def run_pass_rates(self, run_ids: Iterable[int]) -> dict[int, dict[str, tuple[int, int]]]:
        """Per run and variant: (outputs that passed every check, outputs with checks), over
        the newest call of every cell."""
        ids = list(run_ids)
        found: dict[int, dict[str, list[int]]] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for run_id, variant, passed in self.db.execute(
                "SELECT c.run_id, c.variant_name, min(cr.passed) FROM calls c"
                " JOIN check_results cr ON cr.call_id = c.id"
                " WHERE c.id IN (SELECT max(id) FROM calls WHERE run_id IN"
                f" ({marks}) AND judged_call_id IS NULL"
                " GROUP BY run_id, variant_name, case_index, sample_index)"
                " AND c.status = 'ok' GROUP BY c.id", chunk,
            ):
                tally = found.setdefault(run_id, {}).setdefault(variant, [0, 0])
                tally[0] += int(passed)
                tally[1] += 1
        return {run: {v: (t[0], t[1]) for v, t in by.items()} for run, by in found.items()}

    def run_ids_of_call(self, call_id: int) -> tuple[int | None, int | None]:
        """(run id, project id) of a logged call, for "open its run"."""
        row = self.db.execute(
            "SELECT c.run_id, e.project_id FROM calls c LEFT JOIN experiments e"
            " ON e.id = c.experiment_id WHERE c.id = ?", [call_id]).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def call_detail(self, call_id: int) -> dict[str, Any] | None:
        """One logged call with its check results (`checks`, `check_results`), for a detail
        view: the same shape as a row of `calls_for_run`."""
        rows = list(self.db.query("SELECT * FROM calls WHERE id = ?", [call_id]))
        if not rows:
            return None
        call = rows[0]
        results = list(self.db.query(
            "SELECT call_id, check_name, passed, score, reason, judge_call_id FROM check_results"
            " WHERE call_id = ? ORDER BY id", [call_id]))
        call["check_results"] = results
        call["checks"] = {r["check_name"]: bool(r["passed"]) for r in results}
        return call

    def chain_steps(self, call_id: int) -> list[dict[str, Any]]:
        """The step calls of a chain's call, in the order they were sent: each step's name,
        model, status, request, output, error, tokens, latency and cost."""
        return list(self.db.query(
            "SELECT id, step, provider, model, status, request_json, response_text,"
            " error_type, error_message, input_tokens, output_tokens, latency_ms, cost_usd,"
            " cached_from_call_id FROM calls WHERE chain_call_id = ? ORDER BY id", [call_id]))

    def call_parts(self, call_id: int) -> dict[str, list[dict[str, Any]]]:
        """What a call's detail shows beside the call itself: the passages it was given
        (`chunks`, as `chunks_for_call`) and, for a chain, its steps (`steps`)."""
        return {"chunks": self.chunks_for_call(call_id), "steps": self.chain_steps(call_id)}
