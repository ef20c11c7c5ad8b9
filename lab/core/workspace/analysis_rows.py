"""The store's reading for analysis: what a run (or every run of an experiment or project) measured,
aggregated in SQL per (variant, test case) so 100,000 calls summarise in milliseconds.

Part of the store (mixed into `Store`). A scope of one run reads the figures the workspace keeps
per cell as calls are written (`cell_figures`: 10,000 small rows for a run of 100,000 calls);
every method below then hands over to `cell_figures.CellRows`, which returns the same rows.
Otherwise `load_analysis_scope` first gathers the calls that count into a temporary table of
this connection: for each run, the newest call of every cell (variant,
case, sample), never an LLM judge's own call, the same rule as `calls_for_run`. Every other
method reads that table, so they all see the same calls. The case key is the test case's row
(`case_index`) within one run; across several runs it is the test case's values
(`case_vars_json`), so a case run twice counts as one case with more samples.

Rows come back as plain tuples and dicts; `lab.core.analysis` gives them meaning.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from lab.core.workspace.cell_figures import ALL_PASSED as _ALL_PASSED
from lab.core.workspace.cell_figures import GOOD as _GOOD
from lab.core.workspace.cell_figures import OK as _OK
from lab.core.workspace.cell_figures import (
    CellRows,
    json_body,
    looks_json,
    normalised_text,
)
from lab.core.workspace.cell_figures import ids_of as _ids
from lab.core.workspace.errors import WorkspaceError

if TYPE_CHECKING:
    from pathlib import Path

    from sqlite_utils import Database

SCOPE = "temp.lab_analysis_scope"
CASE_FIGURES = ("variant", "case", "calls", "ok", "graded", "passed", "judge_mean",
                "human_mean", "rated", "good")  # the columns of scope_case_figures
VARIANT_TOTALS = ("variant", "calls", "errors", "cost", "priced", "tokens", "input_tokens",
                  "output_tokens", "usage_calls")  # the columns of scope_variant_totals


class AnalysisRows:
    """Store methods for analysis. Mixed into `Store`; uses its `db` and `path`."""

    db: Database
    path: Path | None  # the workspace file (None: in memory)
    # A scope of one run reads the figures kept per cell (cell_figures.CellRows); False: gather
    # its calls into the scope table as for several runs (the general path, for comparison).
    use_cell_figures = True
    _cells: CellRows | None = None

    if TYPE_CHECKING:
        def refresh_cell_figures(self, run_ids: Sequence[int] | None = None) -> int: ...

    # ----------------------------------------------------------------- what to analyse

    def analysis_runs(self, *, run_id: int | None = None, experiment: str | None = None,
                      project_id: int | None = None) -> list[dict[str, Any]]:
        """The runs in scope, oldest first, each with its experiment's name and config (decoded).
        No argument: the newest run. An empty list when nothing matches."""
        sql = ("SELECT r.id, r.status, r.samples, r.planned_calls, r.started_at, e.id AS"
               " experiment_id, e.name AS experiment_name, e.project_id, e.config_json"
               " FROM runs r JOIN experiments e ON e.id = r.experiment_id")
        if run_id is not None:
            rows = self.db.execute(sql + " WHERE r.id = ?", [run_id]).fetchall()
        elif experiment is not None:
            rows = self.db.execute(sql + " WHERE e.name = ? ORDER BY r.id", [experiment]).fetchall()
        elif project_id is not None:
            rows = self.db.execute(sql + " WHERE e.project_id = ? ORDER BY r.id",
                                   [project_id]).fetchall()
        else:
            rows = self.db.execute(sql + " ORDER BY r.id DESC LIMIT 1").fetchall()
        keys = ("id", "status", "samples", "planned_calls", "started_at", "experiment_id",
                "experiment_name", "project_id", "config")
        runs = [dict(zip(keys, row)) for row in rows]
        for run in runs:
            run["config"] = json.loads(run["config"] or "{}")
        return runs

    def experiment_names(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT name FROM experiments ORDER BY 1")]

    def load_analysis_scope(self, run_ids: Sequence[int], by_case_values: bool,
                            check_names: Sequence[str] = ()) -> tuple[int, list[str]]:
        """Gather the calls that count for these runs, with what every figure needs of them
        (usage, latency, the check outcomes as bit masks, the judge score, the rating), into the
        scope table, in one pass over the calls; for one run, read its cell figures instead
        (refreshing the stale ones first) and let every `scope_` method read them.
        ``check_names``: the checks the experiments define (others found in the log are
        added). Returns (calls, check names in bit order: bit i of `present`/`passed` is
        check i)."""
        names = list(dict.fromkeys(check_names))[:62]
        self._cells = None
        if self.use_cell_figures and len(run_ids) == 1 and not by_case_values:
            try:
                self.refresh_cell_figures(run_ids)  # cells written behind the store's back
            except (WorkspaceError, sqlite3.OperationalError):
                # a read-only file, or a writer holding the lock: gather the calls instead
                return self._gather(run_ids, by_case_values, names)
            self._cells = cells = CellRows(self.db, run_ids[0])
            names += [n for n in cells.check_names() if n not in names]
            cells.read_ahead(self.path, names[:62])
            return cells.count(), names[:62]
        return self._gather(run_ids, by_case_values, names)

    def _gather(self, run_ids: Sequence[int], by_case_values: bool, names: list[str]
                ) -> tuple[int, list[str]]:
        count = self._load_scope(run_ids, by_case_values, names)
        if count and len(names) < 62 and self.db.execute(
                f"SELECT 1 FROM {SCOPE} WHERE checks > bit_count LIMIT 1").fetchone():
            # a check the experiments do not name: learn every name, then load again
            names += [n for (n,) in self.db.execute(
                "SELECT DISTINCT check_name FROM check_results WHERE call_id IN"
                f" (SELECT id FROM {SCOPE}) ORDER BY 1") if n not in names]
            names = names[:62]
            count = self._load_scope(run_ids, by_case_values, names)
        return count, names

    def _load_scope(self, run_ids: Sequence[int], by_case_values: bool, names: list[str]) -> int:
        conn = self.db.conn
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute(f"DROP TABLE IF EXISTS {SCOPE}")
        # Keyed by (variant, case, id): every GROUP BY variant, case reads it in order, unsorted.
        conn.execute(
            f"CREATE TEMP TABLE {SCOPE.split('.')[1]} (id INTEGER NOT NULL, variant TEXT NOT NULL,"
            " case_key, sample INTEGER, status TEXT, latency REAL, ttft REAL, cost REAL,"
            " input_tokens INTEGER, output_tokens INTEGER, checks INTEGER, bit_count INTEGER,"
            " present INTEGER, passed INTEGER, judge REAL, score INTEGER, thumbs INTEGER,"
            " looks_json INTEGER, PRIMARY KEY (variant, case_key, id)) WITHOUT ROWID")
        case = "c.case_vars_json" if by_case_values else "c.case_index"
        bit = ("CASE cr.check_name " + " ".join(f"WHEN ? THEN {1 << i}" for i in range(len(names)))
               + " ELSE 0 END") if names else "0"
        marks = ",".join("?" * len(run_ids))
        # idx_calls_cells holds exactly the cells' calls (no judge calls, no chain steps): an
        # index-only scan
        # (a call with no variant name or case index has no place in the matrix)
        newest = (f"SELECT max(id) FROM calls WHERE run_id IN ({marks}) AND judged_call_id IS NULL"
                  " AND chain_call_id IS NULL AND variant_name IS NOT NULL"
                  " AND case_index IS NOT NULL GROUP BY run_id, variant_name, case_index,"
                  " sample_index")
        conn.execute("DROP TABLE IF EXISTS temp.lab_analysis_newest")
        conn.execute("CREATE TEMP TABLE lab_analysis_newest (id INTEGER PRIMARY KEY)")
        conn.execute(f"INSERT INTO temp.lab_analysis_newest {newest}", list(run_ids))
        newest = "SELECT id FROM temp.lab_analysis_newest"
        conn.execute(
            f"INSERT INTO {SCOPE} SELECT c.id, coalesce(c.variant_name, ''), {case},"
            " c.sample_index, c.status, c.latency_ms, c.ttft_ms, c.cost_usd, c.input_tokens,"
            " c.output_tokens, coalesce(ck.n, 0), coalesce(ck.bits, 0), coalesce(ck.present, 0),"
            f" coalesce(ck.passed, 0), ck.judge, r.score, r.thumbs, {looks_json('c.response_text')}"
            " FROM calls c LEFT JOIN (SELECT cr.call_id, count(*) AS n,"
            f" count(CASE WHEN ({bit}) > 0 THEN 1 END) AS bits, sum({bit}) AS present,"
            f" sum(CASE WHEN cr.passed THEN {bit} ELSE 0 END) AS passed,"
            " avg(CASE WHEN cr.judge_call_id IS NOT NULL THEN cr.score END) AS judge"
            f" FROM check_results cr WHERE cr.call_id IN ({newest}) GROUP BY cr.call_id) ck"
            " ON ck.call_id = c.id LEFT JOIN ratings r ON r.call_id = c.id"
            f" WHERE c.id IN ({newest})", [*names, *names, *names])
        conn.execute(f"CREATE INDEX temp.lab_analysis_latency ON {SCOPE.split('.')[1]}"
                     "(variant, latency) WHERE status = 'ok' AND latency IS NOT NULL")
        conn.execute(f"CREATE INDEX temp.lab_analysis_ttft ON {SCOPE.split('.')[1]}"
                     "(variant, ttft) WHERE status = 'ok' AND ttft IS NOT NULL")
        conn.commit()  # ends the implicit transaction, so no read snapshot is held open
        return conn.execute(f"SELECT count(*) FROM {SCOPE}").fetchone()[0]

    # ----------------------------------------------------------------- figures per cell

    def scope_case_figures(self) -> list[tuple]:
        """Per (variant, case), in that order, a tuple of `CASE_FIGURES`: calls, ok,
        graded and passed outputs (every check passed), the mean judge score and mean human
        score of its outputs, human-rated and human-good outputs (score >= 4, or thumbs up when
        unscored)."""
        if self._cells is not None:
            return self._cells.case_figures()
        sql = f"""
            SELECT s.variant, s.case_key, count(*), sum({_OK}),
                   sum({_OK} AND s.checks > 0), sum({_OK} AND {_ALL_PASSED}),
                   avg(CASE WHEN {_OK} THEN s.judge END),
                   avg(CASE WHEN {_OK} THEN s.score END),
                   sum({_OK} AND (s.score IS NOT NULL OR s.thumbs IS NOT NULL)),
                   sum({_OK} AND {_GOOD})
            FROM {SCOPE} s GROUP BY s.variant, s.case_key"""
        return self.db.execute(sql).fetchall()

    def scope_variant_totals(self) -> list[tuple]:
        """Per variant, a tuple of `VARIANT_TOTALS`: calls, errors, cost (and calls with a
        cost) and tokens of every call, and input and output tokens of successful calls with
        usage."""
        if self._cells is not None:
            return self._cells.variant_totals()
        return self.db.execute(f"""
            SELECT s.variant, count(*), sum(s.status = 'error'), sum(s.cost), count(s.cost),
                   sum(coalesce(s.input_tokens, 0) + coalesce(s.output_tokens, 0)),
                   coalesce(sum(CASE WHEN {_OK} THEN s.input_tokens END), 0),
                   coalesce(sum(CASE WHEN {_OK} THEN s.output_tokens END), 0),
                   sum({_OK} AND s.input_tokens IS NOT NULL)
            FROM {SCOPE} s GROUP BY s.variant""").fetchall()

    def scope_check_sums(self, names: Sequence[str]
                         ) -> list[tuple[str, str, int, int, int, float, float]]:
        """Per variant and check, over the cases with successful outputs graded by it: (variant,
        check, cases, outputs graded, outputs passed, the sum of the cases' pass fractions and
        of their squares) — what a case-as-unit pass rate needs (`clustered.CaseSums`).
        ``names`` in the scope's bit order (`load_analysis_scope`)."""
        if self._cells is not None:
            return self._cells.check_sums(names)
        sums: dict[tuple[str, str], list] = {}
        for variant, _case, name, graded, passed in self._check_figures(names):
            entry = sums.setdefault((variant, name), [0, 0, 0, [], []])
            fraction = passed / graded
            entry[0] += 1
            entry[1] += graded
            entry[2] += passed
            entry[3].append(fraction)
            entry[4].append(fraction * fraction)
        return [(variant, name, k, graded, passed, math.fsum(fs), math.fsum(squares))
                for (variant, name), (k, graded, passed, fs, squares) in sums.items()]

    def _check_figures(self, names: Sequence[str]) -> list[tuple[str, Any, str, int, int]]:
        """(variant, case, check, outputs graded, outputs passed) for successful outputs."""
        if not names:
            return []
        columns = ", ".join(f"sum((s.present >> {i}) & 1), sum((s.passed >> {i}) & 1)"
                            for i in range(len(names)))
        out = []
        for row in self.db.execute(f"SELECT s.variant, s.case_key, {columns} FROM {SCOPE} s"
                                   f" WHERE {_OK} AND s.checks > 0 GROUP BY s.variant, s.case_key"):
            for i, name in enumerate(names):
                graded, passed = row[2 + 2 * i], row[3 + 2 * i]
                if graded:
                    out.append((row[0], row[1], name, graded, passed))
        return out

    def scope_percentiles(self, column: str, ps: Sequence[float]) -> dict[str, dict[float, float]]:
        """Percentiles of ``latency`` or ``ttft`` (ms) of successful outputs per variant, by
        linear interpolation between closest ranks (Hyndman & Fan definition 7, as
        `intervals.percentiles`), read from an index on the scope: two values per percentile."""
        if self._cells is not None:
            return self._cells.percentiles(column, ps)
        if column not in ("latency", "ttft"):
            raise ValueError(f"no percentiles of {column}")
        where = f"status = 'ok' AND {column} IS NOT NULL"
        counts = self.db.execute(f"SELECT variant, count(*) FROM {SCOPE} INDEXED BY"
                                 f" lab_analysis_{column} WHERE {where} GROUP BY variant").fetchall()
        out: dict[str, dict[float, float]] = {}
        for variant, n in counts:
            found = out.setdefault(variant, {})
            for p in ps:
                h = (n - 1) * p / 100
                i = int(h)
                values = [r[0] for r in self.db.execute(
                    f"SELECT {column} FROM {SCOPE} INDEXED BY lab_analysis_{column} WHERE"
                    f" variant = ? AND {where} ORDER BY {column} LIMIT 2 OFFSET ?", [variant, i])]
                found[p] = values[0] + (h - i) * ((values[-1] if len(values) > 1 else values[0])
                                                  - values[0])
        return out

    def scope_models(self) -> dict[str, str]:
        """Each variant's "provider/model" as its newest call in scope logged it."""
        if self._cells is not None:
            return self._cells.models()
        return {v: f"{p}/{m}" for v, p, m in self.db.execute(
            f"SELECT s.variant, c.provider, c.model FROM {SCOPE} s JOIN calls c ON c.id = s.id"
            f" WHERE s.id IN (SELECT max(id) FROM {SCOPE} GROUP BY variant)")}

    def scope_prompts(self) -> dict[str, tuple[str, str]]:
        """Each variant's (system prompt, examples JSON) from its newest call's prompt version."""
        if self._cells is not None:
            return self._cells.prompts()
        return {v: (system, examples) for v, system, examples in self.db.execute(
            f"SELECT s.variant, p.system, p.examples_json FROM {SCOPE} s JOIN calls c"
            " ON c.id = s.id JOIN prompt_versions p ON p.id = c.prompt_version_id"
            f" WHERE s.id IN (SELECT max(id) FROM {SCOPE} GROUP BY variant)")}

    # ----------------------------------------------------------------- samples of one case

    def scope_cell_calls(self) -> dict[tuple[str, Any], list[int]]:
        """Successful outputs' call ids per (variant, case), sorted (one per sample)."""
        if self._cells is not None:
            return self._cells.cell_calls()
        return {(v, c): _ids(ids) for v, c, ids in self.db.execute(
            f"SELECT s.variant, s.case_key, group_concat(s.id) FROM {SCOPE} s WHERE {_OK}"
            " GROUP BY s.variant, s.case_key")}

    def scope_case_values(self) -> dict[Any, str]:
        """Each case's test-case values as logged (JSON), for labels."""
        if self._cells is not None:
            return self._cells.case_values()
        return dict(self.db.execute(
            f"SELECT s.case_key, c.case_vars_json FROM {SCOPE} s JOIN calls c ON c.id = s.id"
            " WHERE s.id IN (SELECT min(id) FROM " + SCOPE + " GROUP BY case_key)").fetchall())

    def scope_text_agreement(self) -> dict[tuple[str, Any], tuple[int, int, int, int]]:
        """Per (variant, case) of successful outputs: (agreeing ordered pairs Σ c(c − 1) over
        groups of identical texts, distinct texts, the same two with whitespace normalised),
        in one pass over the texts. Normalised: runs of spaces, tabs and line breaks count as
        one space and the ends are trimmed."""
        if self._cells is not None:
            return self._cells.text_agreement()
        return {(v, c): (ep, ed, np, nd) for v, c, ep, ed, np, nd in self.db.execute(
            "SELECT variant, case_key, sum(pairs), sum(texts), sum(k * (k - 1)), count(*)"
            " FROM (SELECT variant, case_key, sum(e * (e - 1)) AS pairs, count(*) AS texts,"
            " sum(e) AS k FROM (SELECT s.variant, s.case_key, count(*) AS e,"
            f" {normalised_text('c.response_text')} AS norm FROM {SCOPE} s JOIN calls c ON c.id = s.id WHERE {_OK}"
            " GROUP BY s.variant, s.case_key, c.response_text)"
            " GROUP BY variant, case_key, norm) GROUP BY variant, case_key")}

    def scope_check_agreement(self) -> dict[tuple[str, Any], tuple[int, int]]:
        """Per (variant, case): (agreeing ordered pairs, distinct outcomes) where two outputs
        agree when the same checks passed and failed (outputs without checks left out)."""
        if self._cells is not None:
            return self._cells.check_agreement()
        return {(v, c): (pairs, distinct) for v, c, pairs, distinct in self.db.execute(
            "SELECT variant, case_key, sum(k * (k - 1)), count(*) FROM (SELECT s.variant,"
            f" s.case_key, count(*) AS k FROM {SCOPE} s WHERE {_OK} AND s.checks > 0"
            " GROUP BY s.variant, s.case_key, s.checks, s.present, s.passed)"
            " GROUP BY variant, case_key")}

    def scope_json_fields(self) -> tuple[dict[tuple[str, Any], int],
                                         list[tuple[str, Any, str, int, int]]]:
        """For outputs that are one JSON object (bare, or in a single ```json fence):
        ({(variant, case): JSON outputs}, [(variant, case, field, agreeing ordered pairs of
        outputs with the field, outputs with the field)]). Parsed by SQLite's JSON functions."""
        if self._cells is not None:
            return self._cells.json_fields()
        objects = (f"SELECT s.id, s.variant, s.case_key, {json_body('c.response_text')} AS j"
                   f" FROM {SCOPE} s"
                   f" JOIN calls c ON c.id = s.id WHERE {_OK} AND s.looks_json")
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS lab_analysis_json (id INTEGER PRIMARY"
                        " KEY, variant TEXT, case_key, j TEXT)")
        self.db.execute("DELETE FROM temp.lab_analysis_json")
        self.db.execute(f"INSERT INTO temp.lab_analysis_json SELECT id, variant, case_key, j FROM"
                        f" ({objects}) WHERE j IS NOT NULL AND json_type(j) = 'object'")
        self.db.conn.commit()
        counts = {(v, c): n for v, c, n in self.db.execute(
            "SELECT variant, case_key, count(*) FROM temp.lab_analysis_json"
            " GROUP BY variant, case_key")}
        if not counts:
            return counts, []
        fields = self.db.execute(
            "SELECT variant, case_key, key, sum(k * (k - 1)), sum(k) FROM (SELECT o.variant,"
            " o.case_key, f.key, count(*) AS k FROM temp.lab_analysis_json o, json_each(o.j) f"
            " GROUP BY o.variant, o.case_key, f.key, f.type, f.value)"
            " GROUP BY variant, case_key, key").fetchall()
        return counts, fields

    # ----------------------------------------------------------------- failure modes

    def scope_failed_checks(self, names: Sequence[str]) -> list[tuple[str, str, list[int]]]:
        """(variant, check, ids of successful outputs that failed it); ``names`` in the scope's
        bit order."""
        if self._cells is not None:
            return self._cells.failed_checks(names)
        out = []
        for i, name in enumerate(names):
            out += [(v, name, _ids(ids)) for v, ids in self.db.execute(
                f"SELECT s.variant, group_concat(s.id) FROM {SCOPE} s WHERE {_OK}"
                f" AND (s.present >> {i}) & 1 AND NOT (s.passed >> {i}) & 1 GROUP BY s.variant")]
        return out

    def scope_tags(self) -> list[tuple[str, str, list[int]]]:
        """(variant, tag, ids of the outputs that carry it): failure-mode tags on outputs not
        rated good (a tag on an output rated 4+ or thumbs up is a label, not a failure)."""
        if self._cells is not None:
            return self._cells.tags()
        return [(v, tag, _ids(ids)) for v, tag, ids in self.db.execute(
            f"SELECT s.variant, t.name, group_concat(s.id) FROM {SCOPE} s"
            " JOIN call_tags ct ON ct.call_id = s.id JOIN tags t ON t.id = ct.tag_id"
            f" WHERE t.kind = 'failure-mode' AND NOT coalesce({_GOOD}, 0)"
            " GROUP BY s.variant, t.name")]

    # ----------------------------------------------------------------- judges and humans

    def scope_judge_and_human(self) -> list[dict[str, Any]]:
        """Every LLM-judge verdict on an output a human also rated (score or thumbs)."""
        if self._cells is not None:
            return self._cells.judge_and_human()
        keys = ("call_id", "variant", "check", "passed", "judge_score", "human_score", "thumbs")
        return [dict(zip(keys, row)) for row in self.db.execute(
            f"SELECT s.id, s.variant, cr.check_name, cr.passed, cr.score, s.score, s.thumbs"
            f" FROM {SCOPE} s JOIN check_results cr ON cr.call_id = s.id"
            " AND cr.judge_call_id IS NOT NULL"
            f" WHERE {_OK} AND (s.score IS NOT NULL OR s.thumbs IS NOT NULL) ORDER BY s.id")]

    def scope_pairwise(self) -> tuple[list[tuple[int, int, str]], dict[int, tuple[str, Any]]]:
        """Blind judgements between two outputs in scope, and each such output's (variant,
        case)."""
        if self._cells is not None:
            return self._cells.pairwise()
        judgements = self.db.execute(
            "SELECT left_call_id, right_call_id, winner FROM pairwise_judgements"
            f" WHERE left_call_id IN (SELECT id FROM {SCOPE})"
            f" AND right_call_id IN (SELECT id FROM {SCOPE}) ORDER BY id").fetchall()
        ids = sorted({i for left, right, _ in judgements for i in (left, right)})
        placed: dict[int, tuple[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for call_id, variant, case in self.db.execute(
                    f"SELECT id, variant, case_key FROM {SCOPE} WHERE id IN ({marks})", chunk):
                placed[call_id] = (variant, case)
        return judgements, placed

    # ----------------------------------------------------------------- good outputs

    def scope_good_outputs(self, by: str, variants: Iterable[str] | None = None
                           ) -> list[tuple[int, str, int | None, str, str]]:
        """Successful outputs judged good: ``by`` "rating" (score >= 4, or thumbs up when not
        scored) or "checks" (every check passed). (call id, variant, prompt version id, test
        case values as logged, output), oldest first."""
        if by == "rating":
            good = _GOOD
        elif by == "checks":
            good = _ALL_PASSED
        else:
            raise ValueError(f"good outputs by 'rating' or 'checks', not {by!r}")
        if self._cells is not None:
            return self._cells.good_outputs(good, None if variants is None else list(variants))
        params: list[Any] = []
        where = f"{_OK} AND {good}"
        if variants is not None:
            names = list(variants)
            where += f" AND s.variant IN ({','.join('?' * len(names))})"
            params += names
        return self.db.execute(
            f"SELECT s.id, s.variant, c.prompt_version_id, c.case_vars_json, c.response_text"
            f" FROM {SCOPE} s JOIN calls c ON c.id = s.id WHERE {where} ORDER BY s.id",
            params).fetchall()

    def prompt_versions_by_id(self, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        """(system text, examples JSON) of prompt versions."""
        wanted = sorted({i for i in ids if i is not None})
        found: dict[int, tuple[str, str]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for vid, system, examples in self.db.execute(
                    f"SELECT id, system, examples_json FROM prompt_versions WHERE id IN ({marks})",
                    chunk):
                found[vid] = (system, examples)
        return found
