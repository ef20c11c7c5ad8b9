"""Figures per cell, kept current as calls are written: what the analysis of one run reads
instead of gathering its calls (100,000 calls summarise from 10,000 small rows).

A cell is one variant on one test case of one run, its samples together. For every cell the
workspace keeps (migration `m010_analysis_cell_figures`):

* `cell_calls` — the call that counts for each sample (the newest of the sample, never an LLM
  judge's own call nor a chain step: the rule of `RunLog.calls_for_run`) with what the figures
  need of it: status, usage, latency, cost, the check outcomes as bit masks (bit i is the i-th
  check name of the cell, alphabetically), the mean LLM-judge score and the human rating;
* `cell_figures` — one row per cell: counts and means as `AnalysisRows.scope_case_figures` has
  them, how often its samples agree (exact text, text with whitespace normalised, check
  outcomes: agreeing ordered pairs and distinct answers), how many outputs are one JSON object,
  and the ids of its successful outputs;
* `cell_check_figures` — per cell and check: outputs graded, passed, and the ids of those that
  failed;
* `cell_json_fields` — per cell and top-level JSON field: agreeing ordered pairs and outputs
  that have the field.

Triggers mark a cell stale (`cell_figures_stale`) whenever one of its calls, check results or
ratings is written, changed or deleted, by whatever writes it (the run's writer, a rating from
the window, a script with sqlite3). `refresh_cell_figures` recomputes stale cells from the calls,
set-based in SQL, with the very expressions the general path (`analysis_rows`) uses. The store
refreshes at the end of every batch the run's writer saves and of every rating, inside the
same transaction, so a committed write has its cells current; the analysis refreshes before it
reads (nothing to do, normally).

`CellRows` reads the figures of one run for the analysis, method for method as `AnalysisRows`
reads its scope table; `AnalysisRows` hands over to it when the scope is a single run.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from pathlib import Path

    from sqlite_utils import Database

OK = "s.status = 'ok'"
# every check the output has passed (and every one of them is known by name)
ALL_PASSED = "(s.checks > 0 AND s.present = s.passed AND s.bit_count = s.checks)"
# a human's good: rated 4 or more, or a thumbs up when not rated 1-5
GOOD = "(s.score >= 4 OR (s.score IS NULL AND s.thumbs = 1))"
MAX_BITS = 62  # check names a bit mask holds


def normalised_text(column: str) -> str:
    """SQL for a text with runs of spaces, tabs and line breaks as one space, ends trimmed."""
    text = column
    for ch in ("char(13)", "char(10)", "char(9)"):
        text = f"replace({text}, {ch}, ' ')"
    for _ in range(6):  # each pass halves every run of spaces: runs up to 64 collapse
        text = f"replace({text}, '  ', ' ')"
    return f"trim({text})"


def json_body(column: str) -> str:
    """SQL for the JSON of an output that is one JSON value, bare or in a ```json fence."""
    fence = (f"trim(replace(substr(ltrim({column}), instr(ltrim({column}), char(10)) + 1),"
             " '```', ''))")
    return (f"CASE WHEN json_valid({column}) THEN {column}"
            f" WHEN ltrim({column}) LIKE '```%' AND json_valid({fence}) THEN {fence} END")


def looks_json(column: str) -> str:
    return f"substr(ltrim({column}), 1, 1) IN ('{{', '`')"


def ids_of(text: str | None) -> list[int]:
    """Call ids from a comma-separated list, in order."""
    return sorted(map(int, text.split(","))) if text else []


def many_ids_of(texts: Sequence[str]) -> list[list[int]]:
    """`ids_of` of many comma-separated lists at once (parsed as one JSON document, in C)."""
    return [sorted(ids) for ids in json.loads("[[" + "],[".join(texts) + "]]")] if texts else []


# ------------------------------------------------------------------------------ recomputing

_TEMP = ("lab_cells_todo", "lab_cells_newest", "lab_cells_checks", "lab_cells_rows",
         "lab_cells_texts", "lab_cells_agree", "lab_cells_json")
_CELL_TABLES = ("cell_calls", "cell_figures", "cell_check_figures", "cell_json_fields")


def _recompute(conn: Any) -> None:
    """Recompute the cells listed in temp.lab_cells_todo (cell, run_id, variant, case_index).
    Runs inside the caller's transaction."""
    # a call without a variant name or a case index has no place in the matrix: no cell
    conn.execute("DELETE FROM temp.lab_cells_todo WHERE variant IS NULL OR case_index IS NULL")
    cells = conn.execute("SELECT run_id, variant, case_index FROM temp.lab_cells_todo").fetchall()
    for table in _CELL_TABLES:  # one search of the key per cell
        conn.executemany(f"DELETE FROM {table} WHERE run_id = ? AND variant = ?"
                         " AND case_index = ?", cells)
    # the newest call of every sample (idx_calls_cells: an index-only search per cell)
    conn.execute(
        "INSERT INTO temp.lab_cells_newest (id, cell) SELECT max(c.id), t.cell"
        " FROM temp.lab_cells_todo t JOIN calls c ON c.run_id = t.run_id"
        " AND c.variant_name = t.variant AND c.case_index = t.case_index"
        " WHERE c.judged_call_id IS NULL AND c.chain_call_id IS NULL"
        " GROUP BY t.cell, c.sample_index")
    # their check results, each check name numbered within its cell (the bit of the masks)
    conn.execute(
        "INSERT INTO temp.lab_cells_checks (call_id, cell, check_name, passed, score, judged,"
        " bit) SELECT cr.call_id, n.cell, cr.check_name, cr.passed, cr.score,"
        " cr.judge_call_id IS NOT NULL, dense_rank() OVER (PARTITION BY n.cell ORDER BY"
        " cr.check_name) - 1 FROM temp.lab_cells_newest n"
        " CROSS JOIN check_results cr ON cr.call_id = n.id")
    bit = f"(CASE WHEN k.bit < {MAX_BITS} THEN 1 << k.bit ELSE 0 END)"
    conn.execute(
        "INSERT INTO temp.lab_cells_rows SELECT c.id, n.cell, c.run_id, c.variant_name,"
        " c.case_index, c.sample_index, c.status, c.latency_ms, c.ttft_ms, c.cost_usd,"
        " c.input_tokens, c.output_tokens, coalesce(ck.n, 0), coalesce(ck.bits, 0),"
        " coalesce(ck.present, 0), coalesce(ck.passed, 0), ck.judge, r.score, r.thumbs,"
        f" {looks_json('c.response_text')}"
        " FROM temp.lab_cells_newest n JOIN calls c ON c.id = n.id"
        " LEFT JOIN (SELECT k.call_id, count(*) AS n,"
        f" count(CASE WHEN k.bit < {MAX_BITS} THEN 1 END) AS bits, sum({bit}) AS present,"
        f" sum(CASE WHEN k.passed THEN {bit} ELSE 0 END) AS passed,"
        " avg(CASE WHEN k.judged THEN k.score END) AS judge"
        " FROM temp.lab_cells_checks k GROUP BY k.call_id) ck ON ck.call_id = c.id"
        " LEFT JOIN ratings r ON r.call_id = c.id")
    conn.execute(
        "INSERT INTO cell_calls SELECT id, run_id, variant, case_index, sample, status, latency,"
        " ttft, cost, input_tokens, output_tokens, checks, bit_count, present, passed, judge,"
        " score, thumbs, looks_json FROM temp.lab_cells_rows")
    conn.execute(
        "INSERT INTO cell_check_figures SELECT s.run_id, s.variant, s.case_index, k.check_name,"
        " count(*), sum(CASE WHEN k.passed THEN 1 ELSE 0 END),"
        " group_concat(CASE WHEN NOT k.passed THEN k.call_id END)"
        " FROM temp.lab_cells_checks k JOIN temp.lab_cells_rows s ON s.id = k.call_id"
        f" WHERE {OK} GROUP BY k.cell, k.check_name")
    # how often samples agree: identical texts, then texts with whitespace normalised
    conn.execute(
        "INSERT INTO temp.lab_cells_texts SELECT cell, sum(pairs), sum(texts), sum(k * (k - 1)),"
        " count(*) FROM (SELECT cell, norm, sum(e * (e - 1)) AS pairs, count(*) AS texts,"
        " sum(e) AS k FROM (SELECT s.cell, count(*) AS e,"
        f" {normalised_text('c.response_text')} AS norm FROM temp.lab_cells_rows s"
        f" JOIN calls c ON c.id = s.id WHERE {OK} GROUP BY s.cell, c.response_text)"
        " GROUP BY cell, norm) GROUP BY cell")
    conn.execute(
        "INSERT INTO temp.lab_cells_agree SELECT cell, sum(k * (k - 1)), count(*) FROM"
        f" (SELECT s.cell, count(*) AS k FROM temp.lab_cells_rows s WHERE {OK} AND s.checks > 0"
        " GROUP BY s.cell, s.checks, s.present, s.passed) GROUP BY cell")
    # outputs that are one JSON object, and their top-level fields
    conn.execute(
        "INSERT INTO temp.lab_cells_json SELECT id, cell, j FROM (SELECT s.id, s.cell,"
        f" {json_body('c.response_text')} AS j FROM temp.lab_cells_rows s JOIN calls c"
        f" ON c.id = s.id WHERE {OK} AND s.looks_json) WHERE j IS NOT NULL"
        " AND json_type(j) = 'object'")
    conn.execute(
        "INSERT INTO cell_json_fields SELECT t.run_id, t.variant, t.case_index, f.key,"
        " sum(f.k * (f.k - 1)), sum(f.k) FROM (SELECT o.cell, g.key, count(*) AS k"
        " FROM temp.lab_cells_json o, json_each(o.j) g GROUP BY o.cell, g.key, g.type, g.value)"
        " f JOIN temp.lab_cells_todo t ON t.cell = f.cell GROUP BY f.cell, f.key")
    conn.execute(
        "INSERT INTO cell_figures SELECT t.run_id, t.variant, t.case_index, f.calls, f.ok,"
        " f.errors, f.graded, f.passed, f.judge_mean, f.human_mean, f.rated, f.good, f.cost,"
        " f.priced, f.tokens, f.input_tokens, f.output_tokens, f.usage_calls, x.exact_pairs,"
        " x.exact_distinct, x.normalised_pairs, x.normalised_distinct, a.pairs, a.distinct_,"
        " coalesce(j.n, 0), f.ok_ids, f.first_id, f.last_id, f.latency_calls, f.ttft_calls"
        " FROM (SELECT s.cell, count(*) AS"
        f" calls, sum({OK}) AS ok, sum(s.status = 'error') AS errors,"
        f" sum({OK} AND s.checks > 0) AS graded, sum({OK} AND {ALL_PASSED}) AS passed,"
        f" avg(CASE WHEN {OK} THEN s.judge END) AS judge_mean,"
        f" avg(CASE WHEN {OK} THEN s.score END) AS human_mean,"
        f" sum({OK} AND (s.score IS NOT NULL OR s.thumbs IS NOT NULL)) AS rated,"
        f" sum({OK} AND {GOOD}) AS good, sum(s.cost) AS cost, count(s.cost) AS priced,"
        " sum(coalesce(s.input_tokens, 0) + coalesce(s.output_tokens, 0)) AS tokens,"
        f" sum(CASE WHEN {OK} THEN s.input_tokens END) AS input_tokens,"
        f" sum(CASE WHEN {OK} THEN s.output_tokens END) AS output_tokens,"
        f" sum({OK} AND s.input_tokens IS NOT NULL) AS usage_calls,"
        f" sum({OK} AND s.latency IS NOT NULL) AS latency_calls,"
        f" sum({OK} AND s.ttft IS NOT NULL) AS ttft_calls,"
        f" group_concat(CASE WHEN {OK} THEN s.id END) AS ok_ids, min(s.id) AS first_id,"
        " max(s.id) AS last_id FROM temp.lab_cells_rows s GROUP BY s.cell) f"
        " JOIN temp.lab_cells_todo t ON t.cell = f.cell"
        " LEFT JOIN temp.lab_cells_texts x ON x.cell = f.cell"
        " LEFT JOIN temp.lab_cells_agree a ON a.cell = f.cell"
        " LEFT JOIN (SELECT cell, count(*) AS n FROM temp.lab_cells_json GROUP BY cell) j"
        " ON j.cell = f.cell")


_TEMP_TABLES = (
    """CREATE TEMP TABLE IF NOT EXISTS lab_cells_todo (cell INTEGER PRIMARY KEY, run_id INTEGER, variant TEXT, case_index INTEGER)""",
    """CREATE TEMP TABLE IF NOT EXISTS lab_cells_newest (id INTEGER PRIMARY KEY, cell INTEGER)""",
    """CREATE TEMP TABLE IF NOT EXISTS lab_cells_checks (call_id INTEGER, cell INTEGER, check_name TEXT, passed INTEGER, score REAL, judged INTEGER, bit INTEGER)""",
    """CREATE TEMP TABLE IF NOT EXISTS lab_cells_rows (id INTEGER PRIMARY KEY, cell INTEGER, run_id INTEGER, variant TEXT, case_index INTEGER, sample INTEGER, status TEXT, latency REAL, ttft REAL, cost REAL, input_tokens INTEGER, output_tokens INTEGER, checks INTEGER, bit_count INTEGER, present INTEGER, passed INTEGER, judge REAL, score INTEGER, thumbs INTEGER, looks_json INTEGER)""",
    """CREATE TEMP TABLE IF NOT EXISTS lab_cells_texts (cell INTEGER PRIMARY KEY, exact_pairs INTEGER, exact_distinct INTEGER, normalised_pairs INTEGER, normalised_distinct INTEGER)""",
    """CREATE TEMP TABLE IF NOT EXISTS lab_cells_agree (cell INTEGER PRIMARY KEY, pairs INTEGER, distinct_ INTEGER)""",
    """CREATE TEMP TABLE IF NOT EXISTS lab_cells_json (id INTEGER PRIMARY KEY, cell INTEGER, j TEXT)""",
)


def _make_temp(conn: Any) -> None:
    conn.execute("PRAGMA temp_store = MEMORY")
    # One statement at a time: executescript() would COMMIT first, ending the caller's
    # transaction and the savepoints of any transaction() around it.
    for statement in _TEMP_TABLES:
        conn.execute(statement)
    for table in _TEMP:
        conn.execute(f"DELETE FROM temp.{table}")


class CellFigures:
    """Keeping the cell figures current. Mixed into `Store`; uses its `db` and `transaction`."""

    db: Database

    if TYPE_CHECKING:
        def transaction(self) -> AbstractContextManager[None]: ...  # provided by Store

    def stale_cells(self, run_ids: Sequence[int] | None = None) -> int:
        if run_ids is None:
            return self.db.execute("SELECT count(*) FROM cell_figures_stale").fetchone()[0]
        marks = ",".join("?" * len(run_ids))
        return self.db.execute(f"SELECT count(*) FROM cell_figures_stale WHERE run_id IN"
                               f" ({marks})", list(run_ids)).fetchone()[0]

    def analysis_fingerprint(self) -> tuple[int, int, str]:
        return analysis_fingerprint(self.db)

    def refresh_cell_figures(self, run_ids: Sequence[int] | None = None) -> int:
        """Recompute the stale cells (of these runs; None: of every run). Returns how many."""
        if not self.stale_cells(run_ids):
            return 0
        with self.transaction():
            return self._refresh_stale(run_ids)

    def _refresh_stale(self, run_ids: Iterable[int] | None = None) -> int:
        """Recompute stale cells inside the caller's transaction."""
        conn = self.db.conn
        where, params = "", []
        if run_ids is not None:
            params = list(run_ids)
            where = f" WHERE run_id IN ({','.join('?' * len(params))})"
        if conn.execute(f"SELECT 1 FROM cell_figures_stale{where} LIMIT 1", params
                        ).fetchone() is None:
            return 0
        _make_temp(conn)
        conn.execute("INSERT INTO temp.lab_cells_todo (run_id, variant, case_index) SELECT"
                     f" DISTINCT run_id, variant, case_index FROM cell_figures_stale{where}",
                     params)
        conn.execute(f"DELETE FROM cell_figures_stale{where}", params)
        _recompute(conn)
        count = conn.execute("SELECT count(*) FROM temp.lab_cells_todo").fetchone()[0]
        for table in _TEMP:
            conn.execute(f"DELETE FROM temp.{table}")
        return count


# ------------------------------------------------------------------------------ reading one run

# Queries of one run (parameter 1: the run) that `CellRows` may run ahead of need (`_Early`)
_CELL_IDS = ("SELECT group_concat(coalesce(ok_ids, ''), '],[') FROM (SELECT ok_ids FROM"
             " cell_figures WHERE run_id = ? ORDER BY variant, case_index)")
_FAILED_IDS = ("SELECT variant, group_concat(failed_ids) FROM cell_check_figures"
               " WHERE run_id = ? AND check_name = ? AND failed_ids IS NOT NULL GROUP BY variant")
_TAGS = ("SELECT s.variant, t.name, group_concat(s.id) FROM call_tags ct"
         " CROSS JOIN cell_calls s ON s.id = ct.call_id JOIN tags t ON t.id = ct.tag_id"
         f" WHERE s.run_id = ? AND t.kind = 'failure-mode' AND NOT coalesce({GOOD}, 0)"
         " GROUP BY s.variant, t.name ORDER BY 1, 2")
_JUDGE_AND_HUMAN = (
    "SELECT s.id, s.variant, cr.check_name, cr.passed, cr.score, s.score,"
    " s.thumbs FROM ratings r CROSS JOIN cell_calls s ON s.id = r.call_id"
    " CROSS JOIN check_results cr ON cr.call_id = s.id AND cr.judge_call_id IS NOT NULL"
    f" WHERE s.run_id = ? AND {OK} AND (s.score IS NOT NULL OR s.thumbs IS NOT NULL)"
    " ORDER BY s.id, cr.id")


class _Early:
    """Queries run ahead of need on a second, read-only connection, in a thread of their own:
    SQLite works without Python's lock, so while the analysis computes on what it has read, the
    rows it will want next are being read on the other core. `take` waits for a query's rows;
    None when it could not run here (the caller then runs it on the store's connection)."""

    def __init__(self, path: Path, queries: dict[Any, tuple[str, Sequence[Any]]]):
        self._results: dict[Any, list[tuple] | None] = {}
        self._done = threading.Condition()
        self._finished = False
        threading.Thread(target=self._run, args=(path, queries), daemon=True,
                         name="lab-analysis-early").start()

    def _run(self, path: Path, queries: dict[Any, tuple[str, Sequence[Any]]]) -> None:
        try:
            conn = self._connect(path)
            try:
                for key, (sql, params) in queries.items():
                    rows = conn.execute(sql, params).fetchall()
                    with self._done:
                        self._results[key] = rows
                        self._done.notify_all()
            finally:
                conn.close()
        except sqlite3.Error:
            pass  # what did not come early is read on the store's connection
        finally:
            with self._done:
                self._finished = True
                self._done.notify_all()

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        return sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)

    def take(self, key: Any) -> list[tuple] | None:
        with self._done:
            self._done.wait_for(lambda: key in self._results or self._finished)
            return self._results.pop(key, None)

class CellRows:
    """The analysis's reads of one run from its cell figures: each method returns what the
    `AnalysisRows` method of the same name returns for a scope of that run. The cells' rows
    are read once, in one pass, and every method picks its columns from them."""

    def __init__(self, db: Database, run_id: int):
        self.db = db
        self.run = run_id
        self._cells: list[tuple] | None = None
        self._variants: dict[str, tuple] | None = None
        self._checks: list[tuple] | None = None
        self._early: _Early | None = None

    def read_ahead(self, path: Path | None, check_names: Sequence[str]) -> None:
        """Start reading what the analysis reads after the cells (the ids behind the heat map,
        failed checks, failure-mode tags, judge-and-human pairs) on a second connection to the
        workspace file at ``path`` (none for a workspace in memory)."""
        if path is None or self._early is not None or self.db.conn.in_transaction:
            return  # in memory, or changes not committed yet that a second connection misses
        queries: dict[Any, tuple[str, Sequence[Any]]] = {_CELL_IDS: (_CELL_IDS, [self.run])}
        for name in dict.fromkeys(check_names):
            queries[_FAILED_IDS, name] = (_FAILED_IDS, [self.run, name])
        queries[_TAGS] = (_TAGS, [self.run])
        queries[_JUDGE_AND_HUMAN] = (_JUDGE_AND_HUMAN, [self.run])
        self._early = _Early(path, queries)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self.db.execute(sql, [self.run, *params]).fetchall()

    def _rows_of(self, key: Any, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """The rows of a query that may have been read ahead under ``key``."""
        if self._early is not None:
            rows = self._early.take(key)
            if rows is not None:
                return rows
        return self._rows(sql, params)

    def _cell_rows(self) -> list[tuple]:
        """(variant, case, the 8 figures of CASE_FIGURES, exact pairs, exact distinct,
        normalised pairs, normalised distinct, check pairs, check distinct, JSON outputs,
        first id) of every cell, in (variant, case) order. Only what is needed cell by cell
        comes over (a value costs about as much to hand over as SQLite takes to read its row):
        what is summed per variant is summed by SQLite, and the ids of the outputs come apart,
        in `cell_calls`."""
        if self._cells is None:
            self._cells = self._rows(
                "SELECT variant, case_index, calls, ok, graded, passed, judge_mean, human_mean,"
                " rated, good, exact_pairs, exact_distinct, normalised_pairs,"
                " normalised_distinct, check_pairs, check_distinct, json_outputs, first_id"
                " FROM cell_figures WHERE run_id = ? ORDER BY variant, case_index")
        return self._cells

    def _per_variant(self) -> dict[str, tuple]:
        """Per variant: (calls, errors, cost, priced, tokens, input tokens, output tokens,
        usage calls, newest id, outputs with a latency, with a time to first token)."""
        if self._variants is None:
            self._variants = {row[0]: row[1:] for row in self._rows(
                "SELECT variant, sum(calls), sum(errors), sum(cost), sum(priced), sum(tokens),"
                " coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),"
                " sum(usage_calls), max(last_id), sum(latency_calls), sum(ttft_calls)"
                " FROM cell_figures WHERE run_id = ? GROUP BY variant")}
        return self._variants

    def count(self) -> int:
        return sum(row[0] for row in self._per_variant().values())

    def _check_totals(self) -> list[tuple]:
        """(variant, check, cases graded, outputs graded, passed, Σ fractions, Σ squares) of
        every check the run's cells have, graded or not: summed by SQLite, as 10,000 cells ×
        checks need not come over as rows."""
        if self._checks is None:
            self._checks = self._rows(
                "SELECT variant, check_name, count(CASE WHEN graded > 0 THEN 1 END),"
                " sum(graded), sum(passed),"
                " sum(CASE WHEN graded > 0 THEN CAST(passed AS REAL) / graded END),"
                " sum(CASE WHEN graded > 0 THEN CAST(passed AS REAL) * passed"
                " / (CAST(graded AS REAL) * graded) END)"
                " FROM cell_check_figures WHERE run_id = ? GROUP BY variant, check_name")
        return self._checks

    def check_names(self) -> list[str]:
        return sorted({row[1] for row in self._check_totals()})

    def case_figures(self) -> list[tuple]:
        return [row[:10] for row in self._cell_rows()]

    def variant_totals(self) -> list[tuple]:
        return [(variant, *row[:8]) for variant, row in self._per_variant().items()]

    def check_sums(self, names: Sequence[str]) -> list[tuple[str, str, int, int, int, float,
                                                           float]]:
        wanted = set(names)
        return [row for row in self._check_totals() if row[2] and row[1] in wanted]

    def percentiles(self, column: str, ps: Sequence[float]) -> dict[str, dict[float, float]]:
        if column not in ("latency", "ttft"):
            raise ValueError(f"no percentiles of {column}")
        where = f"run_id = ? AND status = 'ok' AND {column} IS NOT NULL"
        index = f"idx_cell_calls_{column}"
        ranked = (f"SELECT {column} FROM cell_calls INDEXED BY {index} WHERE {where}"
                  " AND variant = ? ORDER BY {column} {order} LIMIT {limit} OFFSET {offset}")
        out: dict[str, dict[float, float]] = {}
        count_at = 9 if column == "latency" else 10  # the cells count the values: no index walk
        counts = {variant: row[count_at] or 0 for variant, row in self._per_variant().items()}
        for variant, n in sorted((v, n) for v, n in counts.items() if n):
            # values i and i + 1 in order for each percentile, walked to from the nearer end of
            # the index; one query for them all
            parts, params, spans = [], [], []
            for p in ps:
                h = (n - 1) * p / 100
                i = int(h)
                if i < n / 2:
                    order, limit, offset = "", 2, i
                else:
                    order, limit, offset = "DESC", 2 if i + 1 < n else 1, max(0, n - 2 - i)
                parts.append("SELECT * FROM (" + ranked.format(
                    column=column, order=order, limit=limit, offset=offset) + ")")
                params += [self.run, variant]
                spans.append((p, h, i, min(limit, n - offset), order))
            values = [r[0] for r in self.db.execute(" UNION ALL ".join(parts), params)]
            found = out.setdefault(variant, {})
            at = 0
            for p, h, i, count, order in spans:
                got = values[at:at + count]
                at += count
                if order:
                    got.reverse()
                found[p] = got[0] + (h - i) * ((got[-1] if len(got) > 1 else got[0]) - got[0])
        return out

    def _newest_per_variant(self, columns: str, joins: str) -> list[tuple]:
        ids = [row[8] for row in self._per_variant().values() if row[8] is not None]
        if not ids:
            return []
        return self.db.execute(
            f"SELECT c.variant_name, {columns} FROM calls c {joins}"
            f" WHERE c.id IN ({','.join('?' * len(ids))})", ids).fetchall()
    def models(self) -> dict[str, str]:
        return {v: f"{p}/{m}" for v, p, m in self._newest_per_variant("c.provider, c.model", "")}

    def prompts(self) -> dict[str, tuple[str, str]]:
        return {v: (system, examples) for v, system, examples in self._newest_per_variant(
            "p.system, p.examples_json", "JOIN prompt_versions p ON p.id = c.prompt_version_id")}

    def cell_calls(self) -> dict[tuple[str, Any], list[int]]:
        # every cell's ids in one string, in the order of `_cell_rows`, parsed at once
        (joined,), = self._rows_of(_CELL_IDS, _CELL_IDS)
        found = json.loads("[[" + joined + "]]") if joined is not None else []
        return {(row[0], row[1]): sorted(ids) for row, ids in zip(self._cell_rows(), found)
                if ids}
    def case_values(self) -> dict[Any, str]:
        first: dict[Any, int] = {}
        for row in self._cell_rows():
            if row[1] not in first or row[17] < first[row[1]]:
                first[row[1]] = row[17]
        ids = sorted(first.values())
        found: dict[Any, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found.update(self.db.execute(
                "SELECT case_index, case_vars_json FROM calls WHERE id IN"
                f" ({','.join('?' * len(chunk))})", chunk).fetchall())
        return found
    def text_agreement(self) -> dict[tuple[str, Any], tuple[int, int, int, int]]:
        return {(row[0], row[1]): row[10:14] for row in self._cell_rows() if row[11] is not None}
    def check_agreement(self) -> dict[tuple[str, Any], tuple[int, int]]:
        return {(row[0], row[1]): row[14:16] for row in self._cell_rows() if row[15] is not None}
    def json_fields(self) -> tuple[dict[tuple[str, Any], int],
                                   list[tuple[str, Any, str, int, int]]]:
        counts = {(row[0], row[1]): row[16] for row in self._cell_rows() if row[16]}
        if not counts:
            return counts, []
        return counts, self._rows(
            "SELECT variant, case_index, field, pairs, present FROM"
            " cell_json_fields WHERE run_id = ? ORDER BY variant, case_index, field")
    def failed_checks(self, names: Sequence[str]) -> list[tuple[str, str, list[int]]]:
        # check by check: grouped by variant alone, the rows come in key order, no sorting
        failed = {(variant, check): ids for check in dict.fromkeys(names)
                  for variant, ids in self._rows_of((_FAILED_IDS, check), _FAILED_IDS, [check])}
        keys = [(name, variant) for name in names
                for variant in sorted(v for v, c in failed if c == name)]
        found = many_ids_of([failed[variant, name] for name, variant in keys])
        return [(variant, name, ids) for (name, variant), ids in zip(keys, found)]
    def tags(self) -> list[tuple[str, str, list[int]]]:
        return [(v, tag, ids_of(ids)) for v, tag, ids in self._rows_of(_TAGS, _TAGS)]

    def judge_and_human(self) -> list[dict[str, Any]]:
        keys = ("call_id", "variant", "check", "passed", "judge_score", "human_score", "thumbs")
        return [dict(zip(keys, row)) for row in self._rows_of(_JUDGE_AND_HUMAN, _JUDGE_AND_HUMAN)]

    def pairwise(self) -> tuple[list[tuple[int, int, str]], dict[int, tuple[str, Any]]]:
        rows = self.db.execute(
            "SELECT p.left_call_id, p.right_call_id, p.winner, l.variant,"
            " l.case_index, r.variant, r.case_index FROM pairwise_judgements p"
            " CROSS JOIN cell_calls l ON l.id = p.left_call_id"
            " CROSS JOIN cell_calls r ON r.id = p.right_call_id"
            " WHERE l.run_id = ? AND r.run_id = ? ORDER BY p.id", [self.run, self.run]).fetchall()
        placed: dict[int, tuple[str, Any]] = {}
        for left, right, _w, lv, lc, rv, rc in rows:
            placed[left], placed[right] = (lv, lc), (rv, rc)
        return [(left, right, winner) for left, right, winner, *_ in rows], placed

    def good_outputs(self, good: str, variants: list[str] | None
                     ) -> list[tuple[int, str, int | None, str, str]]:
        """``good``: SQL over `s` (cell_calls); rating-based goods start from the ratings."""
        params: list[Any] = []
        where = f"s.run_id = ? AND {OK} AND {good}"
        if variants is not None:
            where += f" AND s.variant IN ({','.join('?' * len(variants))})"
            params += variants
        source = ("ratings r CROSS JOIN cell_calls s ON s.id = r.call_id" if good == GOOD
                  else "cell_calls s")
        return self._rows(
            f"SELECT s.id, s.variant, c.prompt_version_id, c.case_vars_json,"
            f" c.response_text FROM {source} JOIN calls c ON c.id = s.id WHERE {where}"
            " ORDER BY s.id", params)


def analysis_fingerprint(db: Database) -> tuple[int, int, str]:
    """What an analysis depends on that can change without its view hearing of it, cheaply:
    (commits by other connections — a run's writer, `lab run` in a terminal —, blind
    judgements, the newest rating's time). A view compares it to decide whether to recompute."""
    version = db.execute("PRAGMA data_version").fetchone()[0]
    judged = db.execute("SELECT max(id) FROM pairwise_judgements").fetchone()[0] or 0
    rated = db.execute("SELECT max(updated_at) FROM ratings").fetchone()[0] or ""
    return version, judged, rated
