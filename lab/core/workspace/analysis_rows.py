"""The store's reading for analysis: what a run (or every run of an experiment or project) measured,
aggregated in SQL per (variant, test case) so 100,000 calls summarise in milliseconds.

Part of the store (mixed into `Store`). `load_analysis_scope` first gathers the calls that count
into a temporary table of this connection: for each run, the newest call of every cell (variant,
case, sample), never an LLM judge's own call, the same rule as `calls_for_run`. Every other
method reads that table, so they all see the same calls. The case key is the test case's row
(`case_index`) within one run; across several runs it is the test case's values
(`case_vars_json`), so a case run twice counts as one case with more samples.

Rows come back as plain tuples and dicts; `lab.core.analysis` gives them meaning.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database

SCOPE = "temp.lab_analysis_scope"
_OK = "s.status = 'ok'"


def _ids(text: str | None) -> list[int]:
    return sorted(int(i) for i in text.split(",")) if text else []


class AnalysisRows:
    """Store methods for analysis. Mixed into `Store`; uses its `db`."""

    db: Database

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

    def load_analysis_scope(self, run_ids: Sequence[int], by_case_values: bool) -> int:
        """Gather the calls that count for these runs into the scope table; returns how many."""
        conn = self.db.conn
        conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {SCOPE.split('.')[1]} (id INTEGER PRIMARY"
                     " KEY, variant TEXT, case_key, sample INTEGER, status TEXT, run_id INTEGER)")
        conn.execute(f"DELETE FROM {SCOPE}")
        case = "c.case_vars_json" if by_case_values else "c.case_index"
        marks = ",".join("?" * len(run_ids))
        conn.execute(
            f"INSERT INTO {SCOPE} SELECT c.id, coalesce(c.variant_name, ''), {case},"
            " c.sample_index, c.status, c.run_id FROM calls c WHERE c.id IN (SELECT max(id) FROM"
            f" calls WHERE run_id IN ({marks}) AND judged_call_id IS NULL"
            " GROUP BY run_id, variant_name, case_index, sample_index)", list(run_ids))
        conn.commit()  # ends the implicit transaction, so no read snapshot is held open
        return conn.execute(f"SELECT count(*) FROM {SCOPE}").fetchone()[0]

    # ----------------------------------------------------------------- figures per cell

    def scope_case_figures(self) -> list[dict[str, Any]]:
        """Per (variant, case): calls, ok, errors, graded and passed outputs (every check
        passed), the mean judge score and mean human score of its outputs, human-rated and
        human-good outputs (score >= 4, or thumbs up when unscored), cost and tokens of every
        call, and input and output tokens of successful calls with usage."""
        sql = f"""
            WITH ck AS (
                SELECT cr.call_id, count(*) AS n, sum(cr.passed) AS passed,
                       avg(CASE WHEN cr.judge_call_id IS NOT NULL THEN cr.score END) AS judge
                FROM check_results cr WHERE cr.call_id IN (SELECT id FROM {SCOPE})
                GROUP BY cr.call_id)
            SELECT s.variant, s.case_key, count(*), sum({_OK}), sum(s.status = 'error'),
                   sum({_OK} AND ck.n > 0), sum({_OK} AND ck.n > 0 AND ck.passed = ck.n),
                   avg(CASE WHEN {_OK} THEN ck.judge END),
                   avg(CASE WHEN {_OK} THEN r.score END),
                   sum({_OK} AND (r.score IS NOT NULL OR r.thumbs IS NOT NULL)),
                   sum({_OK} AND (r.score >= 4 OR (r.score IS NULL AND r.thumbs = 1))),
                   sum(c.cost_usd), count(c.cost_usd),
                   sum(coalesce(c.input_tokens, 0) + coalesce(c.output_tokens, 0)),
                   sum(CASE WHEN {_OK} THEN c.input_tokens END),
                   sum(CASE WHEN {_OK} THEN c.output_tokens END),
                   sum({_OK} AND c.input_tokens IS NOT NULL)
            FROM {SCOPE} s JOIN calls c ON c.id = s.id
            LEFT JOIN ck ON ck.call_id = s.id
            LEFT JOIN ratings r ON r.call_id = s.id
            GROUP BY s.variant, s.case_key"""
        keys = ("variant", "case", "calls", "ok", "errors", "graded", "passed", "judge_mean",
                "human_mean", "rated", "good", "cost", "priced", "tokens", "input_tokens",
                "output_tokens", "usage_calls")
        return [dict(zip(keys, row)) for row in self.db.execute(sql)]

    def scope_check_figures(self) -> list[tuple[str, Any, str, int, int]]:
        """(variant, case, check, outputs graded, outputs passed) for successful outputs."""
        return self.db.execute(
            f"SELECT s.variant, s.case_key, cr.check_name, count(*), sum(cr.passed)"
            f" FROM {SCOPE} s JOIN check_results cr ON cr.call_id = s.id WHERE {_OK}"
            " GROUP BY s.variant, s.case_key, cr.check_name").fetchall()

    def scope_percentiles(self, column: str, ps: Sequence[float]) -> dict[str, dict[float, float]]:
        """Percentiles of a per-call column (latency_ms, ttft_ms) of successful outputs per
        variant, by linear interpolation between closest ranks (Hyndman & Fan definition 7, as
        `intervals.percentiles`); the sorting and ranking happen in SQL."""
        if column not in ("latency_ms", "ttft_ms"):
            raise ValueError(f"no percentiles of {column}")
        ranks = " OR ".join(f"rn - 1 = CAST((cnt - 1) * {p / 100!r} AS INTEGER)"
                            f" OR rn - 2 = CAST((cnt - 1) * {p / 100!r} AS INTEGER)" for p in ps)
        rows = self.db.execute(
            f"SELECT variant, rn, cnt, v FROM (SELECT s.variant, c.{column} AS v,"
            f" row_number() OVER (PARTITION BY s.variant ORDER BY c.{column}) AS rn,"
            " count(*) OVER (PARTITION BY s.variant) AS cnt"
            f" FROM {SCOPE} s JOIN calls c ON c.id = s.id WHERE {_OK} AND c.{column} IS NOT NULL)"
            f" WHERE {ranks}").fetchall()
        ranked: dict[str, dict[int, float]] = {}
        counts: dict[str, int] = {}
        for variant, rn, cnt, value in rows:
            ranked.setdefault(variant, {})[rn - 1] = value
            counts[variant] = cnt
        out: dict[str, dict[float, float]] = {}
        for variant, values in ranked.items():
            n = counts[variant]
            found = out.setdefault(variant, {})
            for p in ps:
                h = (n - 1) * p / 100
                i = int(h)
                j = min(i + 1, n - 1)
                found[p] = values[i] + (h - i) * (values[j] - values[i])
        return out

    def scope_models(self) -> dict[str, str]:
        """Each variant's "provider/model" as its newest call in scope logged it."""
        return {v: f"{p}/{m}" for v, p, m in self.db.execute(
            f"SELECT s.variant, c.provider, c.model FROM {SCOPE} s JOIN calls c ON c.id = s.id"
            f" WHERE s.id IN (SELECT max(id) FROM {SCOPE} GROUP BY variant)")}

    def scope_prompts(self) -> dict[str, tuple[str, str]]:
        """Each variant's (system prompt, examples JSON) from its newest call's prompt version."""
        return {v: (system, examples) for v, system, examples in self.db.execute(
            f"SELECT s.variant, p.system, p.examples_json FROM {SCOPE} s JOIN calls c"
            " ON c.id = s.id JOIN prompt_versions p ON p.id = c.prompt_version_id"
            f" WHERE s.id IN (SELECT max(id) FROM {SCOPE} GROUP BY variant)")}

    # ----------------------------------------------------------------- samples of one case

    def scope_cell_calls(self) -> dict[tuple[str, Any], list[int]]:
        """Successful outputs' call ids per (variant, case)."""
        return {(v, c): _ids(ids) for v, c, ids in self.db.execute(
            f"SELECT s.variant, s.case_key, group_concat(s.id) FROM {SCOPE} s WHERE {_OK}"
            " GROUP BY s.variant, s.case_key")}

    def scope_case_values(self) -> dict[Any, str]:
        """Each case's test-case values as logged (JSON), for labels."""
        return dict(self.db.execute(
            f"SELECT s.case_key, c.case_vars_json FROM {SCOPE} s JOIN calls c ON c.id = s.id"
            " WHERE s.id IN (SELECT min(id) FROM " + SCOPE + " GROUP BY case_key)").fetchall())

    def scope_text_agreement(self, normalised: bool) -> dict[tuple[str, Any], tuple[int, int]]:
        """Per (variant, case) of successful outputs: (agreeing ordered pairs Σ c(c − 1) over
        groups of identical outputs, distinct outputs). ``normalised``: runs of whitespace count
        as one space and the ends are trimmed (tabs and line breaks are whitespace)."""
        text = "c.response_text"
        if normalised:
            for ch in ("char(13)", "char(10)", "char(9)"):
                text = f"replace({text}, {ch}, ' ')"
            for _ in range(6):  # each pass halves every run of spaces: runs up to 64 collapse
                text = f"replace({text}, '  ', ' ')"
            text = f"trim({text})"
        return {(v, c): (pairs, distinct) for v, c, pairs, distinct in self.db.execute(
            f"SELECT variant, case_key, sum(k * (k - 1)), count(*) FROM (SELECT s.variant,"
            f" s.case_key, count(*) AS k FROM {SCOPE} s JOIN calls c ON c.id = s.id WHERE {_OK}"
            f" GROUP BY s.variant, s.case_key, {text}) GROUP BY variant, case_key")}

    def scope_check_agreement(self) -> dict[tuple[str, Any], tuple[int, int]]:
        """Per (variant, case): (agreeing ordered pairs, distinct outcomes) where two outputs
        agree when the same checks passed and failed (outputs without checks left out)."""
        names = [r[0] for r in self.db.execute(
            f"SELECT DISTINCT cr.check_name FROM check_results cr JOIN {SCOPE} s"
            " ON s.id = cr.call_id ORDER BY 1")]
        if not names:
            return {}
        bits = " ".join(f"WHEN ? THEN {1 << (i % 62)}" for i in range(len(names)))
        return {(v, c): (pairs, distinct) for v, c, pairs, distinct in self.db.execute(
            "SELECT variant, case_key, sum(k * (k - 1)), count(*) FROM (SELECT variant, case_key,"
            " count(*) AS k FROM (SELECT s.id, s.variant, s.case_key, count(*) AS n,"
            f" sum(CASE WHEN cr.passed = 0 THEN CASE cr.check_name {bits} END ELSE 0 END) AS failed"
            f" FROM {SCOPE} s JOIN check_results cr ON cr.call_id = s.id WHERE {_OK}"
            " GROUP BY s.id) GROUP BY variant, case_key, n, failed) GROUP BY variant, case_key",
            names)}

    def scope_json_fields(self) -> tuple[dict[tuple[str, Any], int],
                                         list[tuple[str, Any, str, int, int]]]:
        """For outputs that are one JSON object (bare, or in a single ```json fence):
        ({(variant, case): JSON outputs}, [(variant, case, field, agreeing ordered pairs of
        outputs with the field, outputs with the field)]). Parsed by SQLite's JSON functions."""
        fence = ("trim(replace(substr(ltrim(c.response_text), instr(ltrim(c.response_text),"
                 " char(10)) + 1), '```', ''))")
        body = (f"CASE WHEN json_valid(c.response_text) THEN c.response_text"
                f" WHEN ltrim(c.response_text) LIKE '```%' AND json_valid({fence}) THEN {fence}"
                " END")
        objects = (f"SELECT s.id, s.variant, s.case_key, {body} AS j FROM {SCOPE} s"
                   f" JOIN calls c ON c.id = s.id WHERE {_OK}")
        self.db.execute(f"CREATE TEMP TABLE IF NOT EXISTS lab_analysis_json (id INTEGER PRIMARY"
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

    def scope_failed_checks(self) -> list[tuple[str, str, list[int]]]:
        """(variant, check, ids of successful outputs that failed it)."""
        return [(v, name, _ids(ids)) for v, name, ids in self.db.execute(
            f"SELECT s.variant, cr.check_name, group_concat(DISTINCT s.id) FROM {SCOPE} s"
            f" JOIN check_results cr ON cr.call_id = s.id WHERE {_OK} AND cr.passed = 0"
            " GROUP BY s.variant, cr.check_name")]

    def scope_tags(self) -> list[tuple[str, str, list[int]]]:
        """(variant, tag, ids of the outputs that carry it): failure-mode tags on outputs not
        rated good (a tag on an output rated 4+ or thumbs up is a label, not a failure)."""
        return [(v, tag, _ids(ids)) for v, tag, ids in self.db.execute(
            f"SELECT s.variant, t.name, group_concat(s.id) FROM {SCOPE} s"
            " JOIN call_tags ct ON ct.call_id = s.id JOIN tags t ON t.id = ct.tag_id"
            " WHERE t.kind = 'failure-mode' AND s.id NOT IN (SELECT call_id FROM ratings"
            " WHERE score >= 4 OR (score IS NULL AND thumbs = 1))"
            " GROUP BY s.variant, t.name")]

    # ----------------------------------------------------------------- judges and humans

    def scope_judge_and_human(self) -> list[dict[str, Any]]:
        """Every LLM-judge verdict on an output a human also rated (score or thumbs)."""
        keys = ("call_id", "variant", "check", "passed", "judge_score", "human_score", "thumbs")
        return [dict(zip(keys, row)) for row in self.db.execute(
            f"SELECT s.id, s.variant, cr.check_name, cr.passed, cr.score, r.score, r.thumbs"
            f" FROM {SCOPE} s JOIN check_results cr ON cr.call_id = s.id"
            " AND cr.judge_call_id IS NOT NULL JOIN ratings r ON r.call_id = s.id"
            f" WHERE {_OK} AND (r.score IS NOT NULL OR r.thumbs IS NOT NULL) ORDER BY s.id")]

    def scope_pairwise(self) -> tuple[list[tuple[int, int, str]], dict[int, tuple[str, Any]]]:
        """Blind judgements between two outputs in scope, and each such output's (variant,
        case)."""
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
            good = ("s.id IN (SELECT call_id FROM ratings WHERE score >= 4"
                    " OR (score IS NULL AND thumbs = 1))")
        elif by == "checks":
            good = ("s.id IN (SELECT call_id FROM check_results GROUP BY call_id"
                    " HAVING min(passed) = 1)")
        else:
            raise ValueError(f"good outputs by 'rating' or 'checks', not {by!r}")
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
