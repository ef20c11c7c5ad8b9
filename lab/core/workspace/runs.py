"""The store's run log: calls written by the runner, their check results, and reading a run back.

Part of the store (mixed into `Store`, so callers write `store.calls_for_run(3)`): experiments,
runs and the calls they log. Like the rest of the workspace package it knows table names.

A run is a matrix of cells (variant, test-case row, sample). A cell may hold several calls: a
call that failed and the one a resume made later. The newest call of a cell is the one that
counts. Judge calls carry `judged_call_id` and are never cells.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lab.core.model import Call, RetrievedChunk
from lab.core.workspace.batches import BatchLink, link_call
from lab.core.workspace.rows import call_row, dumps, now_iso

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from sqlite_utils import Database

CellKey = tuple[str, int, int]  # (variant name, case index, sample index)

# SQLite allows 999 (older builds) bound parameters per statement; stay well below.
_CHUNK = 500


@dataclass
class LoggedCheck:
    """One check result to keep against a call; `judge_call` is the judge's own logged call."""

    name: str
    passed: bool
    score: float | None
    reason: str
    judge_call: Call | None = None


@dataclass
class CallRecord:
    """A finished call with its place in the run and the check results it got with it."""

    call: Call
    case_index: int | None = None
    judged: Call | None = None  # for a judge call: the call it graded (already saved)
    cached_from_call_id: int | None = None
    checks: list[LoggedCheck] = field(default_factory=list)
    chunks: list[RetrievedChunk] = field(default_factory=list)  # the passages it was given
    steps: list[Call] = field(default_factory=list)  # a chain's step calls, in order
    batch: BatchLink | None = None  # the batch request it answers (a batch run's result)


@dataclass
class CheckRecord:
    """Check results that arrive after their call was saved (an LLM judge's verdict)."""

    call: Call
    checks: list[LoggedCheck]


class RunLog:
    """Store methods for runs. Mixed into `Store`; uses its `db` and `transaction`."""

    db: Database

    if TYPE_CHECKING:
        def transaction(self) -> AbstractContextManager[None]: ...  # provided by Store
        def _refresh_stale(self) -> int: ...  # provided by Store (CellFigures)

    def save_run_records(self, records: Sequence[CallRecord | CheckRecord]) -> None:
        """Write a batch in one transaction, in order, assigning `call.id` to each new call.

        Order matters: a judge's CheckRecord refers to calls saved by earlier records.
        """

        conn = self.db.conn
        with self.transaction():
            for record in records:
                if isinstance(record, CallRecord):
                    row = call_row(record.call)
                    row["case_index"] = record.case_index
                    row["judged_call_id"] = record.judged.id if record.judged else None
                    row["cached_from_call_id"] = record.cached_from_call_id
                    if record.batch is not None:
                        row["batch_id"] = record.batch.batch_id
                    columns = ", ".join(row)
                    marks = ", ".join("?" * len(row))
                    cursor = conn.execute(
                        f"INSERT INTO calls ({columns}) VALUES ({marks})", list(row.values())
                    )
                    record.call.id = cursor.lastrowid
                    if record.batch is not None:
                        link_call(conn, record.batch, record.call.id)
                    for step in record.steps:
                        step_row = {**call_row(step), "case_index": record.case_index,
                                    "chain_call_id": record.call.id,
                                    "cached_from_call_id": getattr(step, "cached_from", None)}
                        cursor = conn.execute(
                            f"INSERT INTO calls ({', '.join(step_row)}) VALUES"
                            f" ({', '.join('?' * len(step_row))})", list(step_row.values()))
                        step.id = cursor.lastrowid
                    conn.executemany(
                        "INSERT INTO call_chunks (call_id, chunk_id, rank, score, method,"
                        " citation) VALUES (?, ?, ?, ?, ?, ?)",
                        [(record.call.id, c.chunk_id, c.rank, c.score, c.method, c.citation)
                         for c in record.chunks],
                    )
                conn.executemany(
                    "INSERT INTO check_results (call_id, check_name, passed, score, reason,"
                    " judge_call_id) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (record.call.id, c.name, int(c.passed), c.score, c.reason,
                         c.judge_call.id if c.judge_call else None)
                        for c in record.checks
                    ],
                )
            self._refresh_stale()  # the cells these calls belong to, in the same transaction

    def cached_calls(self, cache_keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """For each key, the newest successful call made with exactly that request."""
        keys = list(dict.fromkeys(cache_keys))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for row in self.db.query(
                "SELECT * FROM calls WHERE id IN (SELECT max(id) FROM calls"
                f" WHERE status = 'ok' AND cache_key IN ({marks}) GROUP BY cache_key)",
                chunk,
            ):
                found[row["cache_key"]] = row
        return found

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        """The run with its experiment's name, source and config (decoded)."""
        rows = list(self.db.query(
            "SELECT r.*, e.name AS experiment_name, e.source AS experiment_source,"
            " e.project_id AS project_id,"
            " e.config_json AS experiment_config_json FROM runs r"
            " JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?",
            [run_id],
        ))
        if not rows:
            return None
        run = rows[0]
        run["settings"] = json.loads(run.pop("settings_json") or "{}")
        run["experiment_config"] = json.loads(run.pop("experiment_config_json") or "{}")
        return run

    def latest_run_id(self, project_id: int) -> int | None:
        """The newest run started from a project in the GUI (for showing its results on open)."""
        row = self.db.execute(
            "SELECT r.id FROM runs r JOIN experiments e ON e.id = r.experiment_id"
            " WHERE e.project_id = ? ORDER BY r.id DESC LIMIT 1", [project_id]).fetchone()
        return row[0] if row else None

    def reopen_run(self, run_id: int) -> None:
        """Mark a run as running again (a resume keeps the run's id)."""
        with self.transaction():
            self.db.execute(
                "UPDATE runs SET status = 'running', finished_at = NULL WHERE id = ?", [run_id]
            )

    def done_cells(self, run_id: int) -> dict[CellKey, int]:
        """Cells whose newest call succeeded, with that call's id."""
        return {
            (r["variant_name"], r["case_index"], r["sample_index"]): r["id"]
            for r in self._latest_calls(run_id)
            if r["status"] == "ok"
        }

    def missing_cells(self, run_id: int, planned: Iterable[CellKey]) -> list[CellKey]:
        """The planned cells a resume still has to run: never called, failed or cancelled."""
        done = self.done_cells(run_id)
        return [cell for cell in planned if cell not in done]

    def check_names_by_call(self, call_ids: Iterable[int]) -> dict[int, set[str]]:
        """Which checks already have a stored result, per call."""
        ids = list(call_ids)
        found: dict[int, set[str]] = {i: set() for i in ids}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for call_id, name in self.db.execute(
                f"SELECT call_id, check_name FROM check_results WHERE call_id IN ({marks})", chunk
            ):
                found[call_id].add(name)
        return found

    def calls_for_run(self, run_id: int) -> list[dict[str, Any]]:
        """The newest call of every cell of a run, in call order, each with `checks`
        (check name -> passed), `check_results` (full rows) and `score` (mean judge score)."""
        calls = self._latest_calls(run_id)
        by_id = {c["id"]: c for c in calls}
        for c in calls:
            c["checks"], c["check_results"], c["score"] = {}, [], None
        ids = list(by_id)
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for r in self.db.query(
                "SELECT call_id, check_name, passed, score, reason, judge_call_id"
                f" FROM check_results WHERE call_id IN ({marks}) ORDER BY id", chunk
            ):
                call = by_id[r["call_id"]]
                call["checks"][r["check_name"]] = bool(r["passed"])
                call["check_results"].append(r)
        for c in calls:
            judged = [r["score"] for r in c["check_results"]
                      if r["judge_call_id"] is not None and r["score"] is not None]
            c["score"] = sum(judged) / len(judged) if judged else None
        return calls

    def run_totals(self, run_id: int) -> dict[str, Any]:
        """Every call of the run, judge calls and earlier attempts included: what it cost."""
        # A chain's cell carries its steps' totals; its steps are the calls that were sent. So
        # money is counted on the cells and calls on the steps, each once.
        row = self.db.execute(
            "SELECT sum(NOT (step IS NOT NULL AND chain_call_id IS NULL)),"
            " sum(CASE WHEN chain_call_id IS NULL THEN cost_usd END),"
            " count(CASE WHEN chain_call_id IS NULL THEN cost_usd END),"
            " sum(cached_from_call_id IS NOT NULL), sum(judged_call_id IS NOT NULL)"
            " FROM calls WHERE run_id = ?",
            [run_id],
        ).fetchone()
        calls, cost, priced, cached, judge = row
        calls = calls or 0
        return {
            "calls": calls,
            "cost_usd": cost if priced else (0.0 if calls == 0 else None),
            "priced_calls": priced,
            "cached_calls": cached or 0,
            "judge_calls": judge or 0,
        }

    def _latest_calls(self, run_id: int) -> list[dict[str, Any]]:
        return list(self.db.query(
            "SELECT * FROM calls WHERE id IN (SELECT max(id) FROM calls WHERE run_id = ?"
            " AND judged_call_id IS NULL AND chain_call_id IS NULL"
            " GROUP BY variant_name, case_index, sample_index)"
            " ORDER BY id",
            [run_id],
        ))

    # ----------------------------------------------------------------- experiments and runs

    def create_experiment(
        self, name: str, config: dict[str, Any], source: str = "", project_id: int | None = None
    ) -> int:
        with self.transaction():
            return self.db["experiments"].insert(
                {
                    "project_id": project_id,
                    "name": name,
                    "source": source,
                    "config_json": dumps(config),
                    "created_at": now_iso(),
                }
            ).last_pk

    def create_run(
        self,
        experiment_id: int,
        samples: int = 1,
        planned_calls: int = 0,
        settings: dict[str, Any] | None = None,
        estimated_cost_usd: float | None = None,
        budget_usd: float | None = None,
    ) -> int:
        with self.transaction():
            return self.db["runs"].insert(
                {
                    "experiment_id": experiment_id,
                    "status": "running",
                    "samples": samples,
                    "planned_calls": planned_calls,
                    "settings_json": dumps(settings or {}),
                    "estimated_cost_usd": estimated_cost_usd,
                    "budget_usd": budget_usd,
                    "started_at": now_iso(),
                }
            ).last_pk

    def finish_run(self, run_id: int, status: str) -> None:
        with self.transaction():
            self.db["runs"].update(run_id, {"status": status, "finished_at": now_iso()})

    # ----------------------------------------------------------------- calls

    def insert_calls(self, calls: Iterable[Call]) -> list[int]:
        """Write finished calls in one transaction; returns their ids in order."""
        ids: list[int] = []
        with self.transaction():
            table = self.db["calls"]
            for call in calls:
                call.id = table.insert(call_row(call)).last_pk
                ids.append(call.id)
            self._refresh_stale()
        return ids

    def count_calls(self) -> int:
        return self.db.execute("SELECT count(*) FROM calls").fetchone()[0]

    def find_cached(self, cache_key: str) -> dict[str, Any] | None:
        """The newest successful call made with exactly this request, if any."""
        rows = list(
            self.db.query(
                "SELECT * FROM calls WHERE cache_key = ? AND status = 'ok'"
                " ORDER BY id DESC LIMIT 1",
                [cache_key],
            )
        )
        return rows[0] if rows else None

    def get_call(self, call_id: int) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM calls WHERE id = ?", [call_id]))
        return rows[0] if rows else None
