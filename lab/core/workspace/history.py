"""The store's history reading: pages of the call log with full-text search and filters.

Part of the store (mixed into `Store`, so callers write `store.page_calls(...)`); like the rest
of the workspace package it knows table names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass
class CallFilters:
    """History filters; every one given must hold."""

    status: str | None = None  # ok, error, cancelled
    variant: str | None = None
    model: str | None = None  # "provider/model"
    experiment: str | None = None  # experiment name
    min_score: int | None = None
    thumbs_up: bool = False
    tag: str | None = None
    since: str | None = None  # ISO timestamp: calls made at or after it
    call_ids: tuple[int, ...] | None = None  # only these calls (the outputs behind a figure)

    def sql(self) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if self.status:
            where.append("c.status = ?")
            params.append(self.status)
        if self.variant:
            where.append("c.variant_name = ?")
            params.append(self.variant)
        if self.model:
            where.append("c.provider || '/' || c.model = ?")
            params.append(self.model)
        if self.experiment:
            where.append("c.experiment_id IN (SELECT id FROM experiments WHERE name = ?)")
            params.append(self.experiment)
        if self.min_score:
            where.append("c.id IN (SELECT call_id FROM ratings WHERE score >= ?)")
            params.append(self.min_score)
        if self.thumbs_up:
            where.append("c.id IN (SELECT call_id FROM ratings WHERE thumbs = 1)")
        if self.tag:
            where.append("c.id IN (SELECT ct.call_id FROM call_tags ct JOIN tags t"
                         " ON t.id = ct.tag_id WHERE t.name = ?)")
            params.append(self.tag)
        if self.since:
            where.append("c.created_at >= ?")
            params.append(self.since)
        if self.call_ids is not None:
            where.append("c.id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(self.call_ids)))
        return where, params


def fts_query(text: str) -> str:
    """Turn what a user typed into an FTS5 query that cannot be a syntax error.

    Each word becomes a quoted prefix term, so `refund pol` finds "refund policy" and a stray
    quote or colon in the search box is just text.
    """
    words = [w.replace('"', '""') for w in text.split() if w.strip()]
    return " ".join(f'"{w}"*' for w in words) or '""'


class CallHistory:
    """Store methods for the history browser. Mixed into `Store`; uses its `db`."""

    def call_totals(self) -> tuple[int, float, int]:
        """Calls logged, dollars spent, failed calls: over the whole workspace."""
        row = self.db.execute(
            "SELECT count(*), coalesce(sum(cost_usd), 0), coalesce(sum(status = 'error'), 0)"
            " FROM calls").fetchone()
        return tuple(row)

    def logged_variant_names(self) -> list[str]:
        """Names of the variants that have successful outputs in the log (for export filters)."""
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT variant_name FROM calls WHERE status = 'ok'"
            " AND variant_name IS NOT NULL ORDER BY variant_name")]

    def page_calls(
        self, *, limit: int = 200, before_id: int | None = None, search: str | None = None,
        filters: CallFilters | None = None,
    ) -> list[dict[str, Any]]:
        """A page of the log, newest first, keyed on id so page N costs the same as page 1."""
        columns = (
            "c.id, c.created_at, c.run_id, c.variant_name, c.provider, c.model, c.status, c.finish_reason,"
            " c.latency_ms, c.cost_usd, c.input_tokens, c.output_tokens,"
            " substr(c.response_text, 1, 300) AS response_preview, c.error_type"
        )
        where, params = [], []
        if before_id is not None:
            where.append("c.id < ?")
            params.append(before_id)
        if search:
            where.append("c.id IN (SELECT rowid FROM calls_fts WHERE calls_fts MATCH ?)")
            params.append(fts_query(search))
        if filters is not None:
            filter_where, filter_params = filters.sql()
            where += filter_where
            params += filter_params
        sql = f"SELECT {columns} FROM calls c"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY c.id DESC LIMIT ?"
        params.append(limit)
        return list(self.db.query(sql, params))  # type: ignore[attr-defined]

    def call_filter_choices(self) -> dict[str, list[str]]:
        """What the history filters can offer: the values that occur in the log."""
        def distinct(sql: str) -> list[str]:
            return [r[0] for r in self.db.execute(sql) if r[0]]

        return {
            "variants": distinct("SELECT DISTINCT variant_name FROM calls ORDER BY 1"),
            "models": distinct("SELECT DISTINCT provider || '/' || model FROM calls ORDER BY 1"),
            "experiments": distinct("SELECT DISTINCT name FROM experiments ORDER BY 1"),
            "tags": distinct("SELECT name FROM tags ORDER BY 1"),
        }

    def call_places(self, call_ids: Iterable[int] | None = None, *,
                    runs: Iterable[int] | None = None, variants: Iterable[str] | None = None
                    ) -> list[tuple[int, int | None, str | None, int | None]]:
        """Where calls sit in their runs: (call id, run id, variant name, case index), for
        these calls, or for every cell call (no judge calls, no chain steps) of these runs (of
        these variants), oldest first. What a view selects for the outputs behind a figure."""
        if call_ids is not None:
            return self.db.execute(
                "SELECT id, run_id, variant_name, case_index FROM calls WHERE id IN"
                " (SELECT value FROM json_each(?)) ORDER BY id",
                [json.dumps(sorted(set(call_ids)))]).fetchall()
        where = ["run_id IN (SELECT value FROM json_each(?))", "judged_call_id IS NULL",
                 "chain_call_id IS NULL"]
        params: list[Any] = [json.dumps(sorted(set(runs or ())))]
        if variants is not None:
            where.append("variant_name IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(variants)))
        return self.db.execute(
            "SELECT id, run_id, variant_name, case_index FROM calls WHERE "
            + " AND ".join(where) + " ORDER BY id", params).fetchall()

    def outputs_by_id(self, call_ids: Iterable[int]) -> list[dict[str, Any]]:
        """Calls with their output and check outcomes ({name: passed}), in id order."""
        ids = json.dumps(sorted(set(call_ids)))
        rows = [dict(zip(("id", "sample_index", "status", "response_text", "error_message"), r))
                for r in self.db.execute(
                    "SELECT id, sample_index, status, response_text, error_message FROM calls"
                    " WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id", [ids])]
        checks: dict[int, dict[str, bool]] = {}
        for call_id, name, passed in self.db.execute(
                "SELECT call_id, check_name, passed FROM check_results WHERE call_id IN"
                " (SELECT value FROM json_each(?)) ORDER BY id", [ids]):
            checks.setdefault(call_id, {})[name] = bool(passed)
        for row in rows:
            row["checks"] = checks.get(row["id"], {})
        return rows
