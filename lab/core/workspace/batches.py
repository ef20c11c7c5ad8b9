"""The store's batches: what a batch run sent to a provider's batch API, so it survives a crash.

Part of the store (mixed into `Store`). A batch is written *before* it is sent (status
"preparing", with every cell it holds under its custom id) and given the provider's id the
moment the provider accepts it ("submitted"); polls record the provider's status and counts
("in_progress", "cancelling", "ended"); once every result is logged as a call the batch is
"collected". A batch the provider refused is "not_submitted"; a "preparing" batch found by a
later session (the lab stopped between writing it and hearing back) is "abandoned": its cells
are sent again.

Each call answered from a batch carries `calls.batch_id`, and its `batch_requests` row points at
the call (`call_id`) with the request's outcome: succeeded, errored, expired or canceled. A
result is written together with that link in one transaction, so collecting results again after
a crash skips the ones already logged: every cell is logged once.

Statuses that still need the provider: OPEN (a later session polls them until they end).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lab.core.workspace.rows import dumps, now_iso

if TYPE_CHECKING:
    import sqlite3
    from contextlib import AbstractContextManager

    from sqlite_utils import Database

BATCHES_SCHEMA = """
CREATE TABLE batches (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,             -- the provider's name in the experiment
    kind TEXT NOT NULL,                 -- openai, anthropic, gemini
    model TEXT NOT NULL,
    provider_batch_id TEXT,             -- NULL until the provider accepted it
    status TEXT NOT NULL,               -- preparing, submitted, in_progress, cancelling, ended,
                                        -- collected, not_submitted, abandoned
    provider_status TEXT,               -- the provider's own word at the last poll
    outcome TEXT,                       -- once ended: completed, expired, cancelled, failed
    request_count INTEGER NOT NULL DEFAULT 0,
    succeeded_count INTEGER NOT NULL DEFAULT 0,
    failed_count INTEGER NOT NULL DEFAULT 0,
    info_json TEXT NOT NULL DEFAULT '{}',  -- what following it needs (file ids, results URL)
    error TEXT,                         -- why it was refused, failed or could not be followed
    created_at TEXT NOT NULL,
    submitted_at TEXT,
    polled_at TEXT,
    ended_at TEXT,
    collected_at TEXT
);
CREATE INDEX idx_batches_run ON batches(run_id, status);

CREATE TABLE batch_requests (
    batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
    custom_id TEXT NOT NULL,
    position INTEGER NOT NULL,          -- the order sent (Gemini answers in that order)
    variant_name TEXT NOT NULL,
    case_index INTEGER NOT NULL,
    sample_index INTEGER NOT NULL,
    cache_key TEXT,
    outcome TEXT,                       -- NULL until collected: succeeded, errored, expired, canceled
    call_id INTEGER REFERENCES calls(id) ON DELETE SET NULL,
    PRIMARY KEY (batch_id, custom_id)
);
CREATE INDEX idx_batch_requests_call ON batch_requests(call_id) WHERE call_id IS NOT NULL;

ALTER TABLE calls ADD COLUMN batch_id INTEGER REFERENCES batches(id) ON DELETE SET NULL;
CREATE INDEX idx_calls_batch ON calls(batch_id) WHERE batch_id IS NOT NULL;
"""

OPEN = ("submitted", "in_progress", "cancelling", "ended")


@dataclass(frozen=True)
class BatchRequestRow:
    """One cell of a batch, as written before the batch is sent."""

    custom_id: str
    variant_name: str
    case_index: int
    sample_index: int
    cache_key: str | None = None

    @property
    def cell(self) -> tuple[str, int, int]:
        return (self.variant_name, self.case_index, self.sample_index)


@dataclass(frozen=True)
class BatchLink:
    """Which batch request a logged call answers (saved with the call, in its transaction)."""

    batch_id: int
    custom_id: str
    outcome: str


def link_call(conn: sqlite3.Connection, link: BatchLink, call_id: int) -> None:
    """Point `link`'s request at its logged call (inside the caller's transaction)."""
    conn.execute("UPDATE batch_requests SET call_id = ?, outcome = ? WHERE batch_id = ?"
                 " AND custom_id = ?", [call_id, link.outcome, link.batch_id, link.custom_id])


class Batches:
    """Store methods for batches. Mixed into `Store`; uses its `db` and `transaction`."""

    db: Database

    if TYPE_CHECKING:
        def transaction(self) -> AbstractContextManager[None]: ...  # provided by Store

    def create_batch(self, run_id: int, provider: str, kind: str, model: str,
                     requests: Sequence[BatchRequestRow]) -> int:
        """Write a batch about to be sent ("preparing"), with its cells; returns its id."""
        with self.transaction():
            batch_id = self.db["batches"].insert({
                "run_id": run_id, "provider": provider, "kind": kind, "model": model,
                "status": "preparing", "request_count": len(requests), "info_json": "{}",
                "created_at": now_iso(),
            }).last_pk
            self.db.conn.executemany(
                "INSERT INTO batch_requests (batch_id, custom_id, position, variant_name,"
                " case_index, sample_index, cache_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(batch_id, r.custom_id, i, r.variant_name, r.case_index, r.sample_index,
                  r.cache_key) for i, r in enumerate(requests)])
        return batch_id

    def batch_submitted(self, batch_id: int, provider_batch_id: str, info: dict[str, Any],
                        provider_status: str = "") -> None:
        with self.transaction():
            self.db["batches"].update(batch_id, {
                "provider_batch_id": provider_batch_id, "status": "submitted",
                "provider_status": provider_status or None, "info_json": dumps(info),
                "submitted_at": now_iso(),
            })

    def batch_not_submitted(self, batch_id: int, error: str) -> None:
        with self.transaction():
            self.db["batches"].update(batch_id, {"status": "not_submitted", "error": error,
                                                 "ended_at": now_iso()})

    def batch_polled(self, batch_id: int, *, status: str, provider_status: str,
                     outcome: str | None, total: int, succeeded: int, failed: int,
                     info: dict[str, Any] | None = None, error: str = "",
                     ended_at: str | None = None) -> None:
        """A poll's answer. `status`: in_progress, cancelling or ended (the lab's words)."""
        row = self.db.execute("SELECT status, info_json FROM batches WHERE id = ?",
                              [batch_id]).fetchone()
        if row is None or row[0] in ("collected", "not_submitted", "abandoned"):
            return
        values: dict[str, Any] = {
            "status": status, "provider_status": provider_status, "outcome": outcome,
            "succeeded_count": succeeded, "failed_count": failed, "polled_at": now_iso(),
            "error": error or None,
        }
        if total:
            values["request_count"] = total
        if info:
            values["info_json"] = dumps({**json.loads(row[1] or "{}"), **info})
        if status == "ended":
            values["ended_at"] = ended_at or now_iso()
        with self.transaction():
            self.db["batches"].update(batch_id, values)

    def batch_cancelling(self, batch_id: int) -> None:
        """The lab asked the provider to cancel it (a later session collects what it finished)."""
        with self.transaction():
            self.db.execute("UPDATE batches SET status = 'cancelling' WHERE id = ? AND status IN"
                            " ('submitted', 'in_progress')", [batch_id])

    def batch_trouble(self, batch_id: int, error: str) -> None:
        """The batch could not be followed this time (it stays open: a later session tries)."""
        with self.transaction():
            self.db["batches"].update(batch_id, {"error": error})

    def batch_collected(self, batch_id: int) -> None:
        with self.transaction():
            self.db["batches"].update(batch_id, {"status": "collected",
                                                 "collected_at": now_iso()})

    def abandon_unsent_batches(self, run_id: int) -> int:
        """Batches of `run_id` written but never heard back from ("preparing": the lab stopped
        while sending them): marked abandoned, so their cells are sent again. How many."""
        with self.transaction():
            cursor = self.db.execute(
                "UPDATE batches SET status = 'abandoned', error = 'the lab stopped while sending"
                " this batch; its cells were sent again' WHERE run_id = ? AND status ="
                " 'preparing'", [run_id])
        return cursor.rowcount

    def open_batches(self, run_id: int) -> list[dict[str, Any]]:
        """The run's batches still at the provider (or ended but not all logged), oldest first,
        each with `info` (decoded) and `requests`: its rows in the order sent, with `call_id`
        once logged."""
        marks = ",".join("?" * len(OPEN))
        batches = list(self.db.query(
            f"SELECT * FROM batches WHERE run_id = ? AND status IN ({marks}) ORDER BY id",
            [run_id, *OPEN]))
        for batch in batches:
            batch["info"] = json.loads(batch.pop("info_json") or "{}")
            batch["requests"] = list(self.db.query(
                "SELECT * FROM batch_requests WHERE batch_id = ? ORDER BY position", [batch["id"]]))
        return batches

    def batches_for_run(self, run_id: int) -> list[dict[str, Any]]:
        """Every batch of a run, oldest first, with its outcome counts as logged so far
        (`logged`: outcome -> requests)."""
        batches = list(self.db.query("SELECT * FROM batches WHERE run_id = ? ORDER BY id",
                                     [run_id]))
        for batch in batches:
            batch["info"] = json.loads(batch.pop("info_json") or "{}")
            batch["logged"] = {outcome: n for outcome, n in self.db.execute(
                "SELECT outcome, count(*) FROM batch_requests WHERE batch_id = ? AND outcome IS"
                " NOT NULL GROUP BY outcome", [batch["id"]])}
        return batches

    def batch_failures(self, run_id: int) -> list[dict[str, Any]]:
        """Requests of the run's batches that did not succeed (errored, expired, canceled) and
        whose cell has no successful call since: what `--resume` sends again."""
        return list(self.db.query(
            "SELECT r.*, b.provider, b.provider_batch_id, c.error_message FROM batch_requests r"
            " JOIN batches b ON b.id = r.batch_id LEFT JOIN calls c ON c.id = r.call_id"
            " WHERE b.run_id = ? AND r.outcome IS NOT NULL AND r.outcome != 'succeeded'"
            " AND NOT EXISTS (SELECT 1 FROM calls d WHERE d.run_id = b.run_id AND d.status = 'ok'"
            " AND d.judged_call_id IS NULL AND d.chain_call_id IS NULL"
            " AND d.variant_name = r.variant_name AND d.case_index = r.case_index"
            " AND d.sample_index = r.sample_index)"
            " ORDER BY r.batch_id, r.position", [run_id]))

    def runs_with_open_batches(self) -> list[int]:
        """Runs that still have batches at a provider (what an app resumes polling on start)."""
        marks = ",".join("?" * len(OPEN))
        return [r[0] for r in self.db.execute(
            f"SELECT DISTINCT run_id FROM batches WHERE status IN ({marks}) ORDER BY run_id",
            list(OPEN))]

    def batch_of_calls(self, call_ids: Iterable[int]) -> dict[int, int]:
        """call id -> batch id, for calls answered from a batch."""
        ids = list(call_ids)
        found: dict[int, int] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self.db.execute(
                f"SELECT id, batch_id FROM calls WHERE batch_id IS NOT NULL AND id IN ({marks})",
                chunk).fetchall())
        return found
