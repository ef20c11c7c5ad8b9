"""The figures kept per cell (lab/core/workspace/cell_figures.py) give the analysis of a run exactly
what gathering its calls gives: the fast path equals the general definition on a random
workspace, including retried cells, failed calls, late judge verdicts, ratings changed after
the fact and writes made behind the store's back."""

from __future__ import annotations

import random
import sqlite3

import pytest

from lab.core.analysis.analyse import AnalysisOptions, analyse
from lab.core.analysis.scope import Scope
from lab.core.model import Call, PairwiseJudgement, PromptVersion, Rating, Usage
from lab.core.workspace.runs import CallRecord, CheckRecord, LoggedCheck
from lab.core.workspace.store import open_workspace

TEXTS = ("yes", "yes ", "Yes", "a  b", "a b", "a\tb\n", "no", "")
TAGS = ("too long", "made up facts", "wrong tone", "format")


def _text(rng: random.Random, variant: str, case: int) -> str:
    if variant == "J":  # mostly JSON objects, some fenced, some broken
        label = rng.choice(("x", "y"))
        body = rng.choice((f'{{"label": "{label}", "n": {case % 2}}}', f'{{"label": "{label}"}}',
                           f'{{"n": {rng.randint(0, 1)}, "extra": [1, 2]}}'))
        return rng.choice((body, body, f"```json\n{body}\n```", "not json", "[1, 2]"))
    return rng.choice(TEXTS) + ("" if rng.random() < 0.7 else f" {case}")


def build_random(path, seed: int) -> int:
    rng = random.Random(seed)
    variants = ["A", "B", "J", "Z"]
    cases, samples = 9, 3
    checks = [{"type": "contains", "name": "ok", "value": "y"},
              {"type": "max_words", "name": "short", "value": 5},
              {"type": "judge", "name": "quality", "rubric": "good?", "model": "openai/x"}]
    config = {"name": "random", "variants": [{"name": v, "model": "openai/gpt-4o-mini",
                                              "system": f"You are {v}."} for v in variants],
              "cases": {"user": "{{q}}", "rows": [{"q": f"question {c}"} for c in range(cases)]},
              "checks": checks}
    with open_workspace(path) as store:
        experiment = store.create_experiment("random", config)
        run = store.create_run(experiment, samples=samples, planned_calls=36 * samples)
        version = store.prompt_version_id(PromptVersion("You help.", "{{q}}"))
        cell_calls: list[Call] = []
        for attempt in range(2):  # a second pass retries some samples: the newest call counts
            records: list[CallRecord | CheckRecord] = []
            for variant in variants:
                for case in range(cases):
                    if variant == "Z" and case > 2:
                        continue  # a variant that ran only a few cases
                    for sample in range(samples):
                        if attempt and rng.random() > 0.2:
                            continue
                        error = rng.random() < 0.1
                        call = Call("openai", "gpt-4o-mini", {}, status="error" if error else "ok",
                                    response_text="" if error else _text(rng, variant, case),
                                    error_message="boom" if error else None,
                                    usage=Usage(rng.randint(100, 400), rng.randint(5, 50)),
                                    latency_ms=rng.choice((None, rng.uniform(50, 900))),
                                    ttft_ms=rng.choice((None, rng.uniform(10, 90))),
                                    cost_usd=rng.choice((None, 0.0001, 0.0003)),
                                    variant_name=variant, run_id=run, experiment_id=experiment,
                                    prompt_version_id=version,
                                    case_vars={"q": f"question {case}"}, sample_index=sample)
                        logged = [] if error or rng.random() < 0.1 else [
                            LoggedCheck(name, rng.random() < 0.6, None, "")
                            for name in ("ok", "short") if rng.random() < 0.9]
                        records.append(CallRecord(call, case_index=case, checks=logged))
                        if not error:
                            cell_calls.append(call)
            store.save_run_records(records)
            # LLM-judge verdicts arrive later, each with the judge's own call
            verdicts: list[CallRecord | CheckRecord] = []
            for call in cell_calls:
                if rng.random() < 0.7:
                    judge = Call("openai", "x", {}, status="ok", response_text="{}", run_id=run,
                                 variant_name=call.variant_name)
                    score = float(rng.randint(1, 5))
                    verdicts.append(CallRecord(judge, judged=call))
                    verdicts.append(CheckRecord(call, [LoggedCheck("quality", score >= 4, score, "",
                                                                   judge_call=judge)]))
            store.save_run_records(verdicts)
            cell_calls.clear()
        ids = [r[0] for r in store.db.execute(
            "SELECT id FROM calls WHERE run_id = ? AND judged_call_id IS NULL", [run])]
        for call_id in rng.sample(ids, len(ids) // 2):
            store.set_rating(Rating(call_id, thumbs=rng.choice((None, 1, -1)),
                                    score=rng.choice((None, 1, 2, 3, 4, 5)),
                                    tags=rng.sample(TAGS, rng.randint(0, 2))))
        for call_id in rng.sample(ids, 10):  # people change their minds
            store.set_rating(Rating(call_id, score=rng.choice((1, 5))))
        by_case: dict[int, list[int]] = {}
        for call_id, case in store.db.execute(
                "SELECT id, case_index FROM calls WHERE run_id = ? AND judged_call_id IS NULL"
                " AND status = 'ok' AND sample_index = 0", [run]):
            by_case.setdefault(case, []).append(call_id)
        for found in by_case.values():
            if len(found) >= 2:
                store.record_pairwise(PairwiseJudgement(found[0], found[-1],
                                                        rng.choice(("left", "right", "tie"))))
    return run


def _both(path, run: int, **options) -> tuple[dict, dict]:
    with open_workspace(path) as store:
        fast = analyse(store, Scope(run_id=run), AnalysisOptions(**options))
        assert store._cells is not None  # the cell figures were read
        store.use_cell_figures = False
        slow = analyse(store, Scope(run_id=run), AnalysisOptions(**options))
        assert store._cells is None
    return _rounded(fast.to_dict() | {"labels": fast.case_labels}), \
        _rounded(slow.to_dict() | {"labels": slow.case_labels})


def _rounded(value):
    """Floats to 12 significant digits: the cell path lets SQLite sum what the general path
    sums in Python, in another order, and the last bits of a float differ."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cell_figures_equal_the_general_path(tmp_path, seed):
    run = build_random(tmp_path / "w.db", seed)
    fast, slow = _both(tmp_path / "w.db", run)
    assert fast == slow
    assert fast["consistency"]["cells"] and fast["judge_agreement"]
    assert any(v["calls"] for v in fast["variants"])
    fast, slow = _both(tmp_path / "w.db", run, good_by="checks")
    assert fast == slow


def test_writes_behind_the_stores_back_are_seen(tmp_path):
    run = build_random(tmp_path / "w.db", 4)
    with open_workspace(tmp_path / "w.db") as store:
        assert store.stale_cells() == 0  # every write through the store refreshed its cells
        before = analyse(store, Scope(run_id=run)).to_dict()
    conn = sqlite3.connect(tmp_path / "w.db")  # a script changes outputs and verdicts
    with conn:
        conn.execute("UPDATE calls SET response_text = 'yes' WHERE run_id = ? AND"
                     " variant_name = 'A'", [run])
        conn.execute("UPDATE check_results SET passed = 1 WHERE check_name = 'ok'")
        conn.execute("DELETE FROM ratings WHERE call_id IN (SELECT id FROM calls WHERE"
                     " variant_name = 'B')")
    conn.close()
    with open_workspace(tmp_path / "w.db") as store:
        assert store.stale_cells([run]) > 0
    fast, slow = _both(tmp_path / "w.db", run)
    assert fast == slow and fast != before
    a = next(v for v in fast["consistency"]["variants"] if v["variant"] == "A")
    assert a["exact"]["mean"] == 1.0


def test_an_old_workspace_computes_its_cells_on_first_analysis(tmp_path):
    run = build_random(tmp_path / "w.db", 5)
    conn = sqlite3.connect(tmp_path / "w.db")  # as a workspace from before the cell figures
    with conn:
        for table in ("cell_calls", "cell_figures", "cell_check_figures", "cell_json_fields"):
            conn.execute(f"DELETE FROM {table}")
        conn.execute("INSERT INTO cell_figures_stale SELECT DISTINCT run_id,"
                     " variant_name, case_index FROM calls WHERE run_id IS NOT NULL AND"
                     " judged_call_id IS NULL AND chain_call_id IS NULL")
    conn.close()
    fast, slow = _both(tmp_path / "w.db", run)
    assert fast == slow


def test_percentiles_and_calls_without_a_cell(tmp_path):
    run = build_random(tmp_path / "w.db", 6)
    ps = (0, 5, 25, 50, 75, 95, 99.9, 100)
    with open_workspace(tmp_path / "w.db") as store:
        found = []
        for fast in (True, False):
            store.use_cell_figures = fast
            analyse(store, Scope(run_id=run))
            found.append((store.scope_percentiles("latency", ps),
                          store.scope_percentiles("ttft", (50,))))
        assert found[0] == found[1] and found[0][0]["Z"]
        # a call of the run with no case index has no place in the matrix: neither path counts it
        before = analyse(store, Scope(run_id=run)).to_dict()
        call = Call("openai", "gpt-4o-mini", {}, status="ok", response_text="stray", run_id=run,
                    variant_name="A")
        store.save_run_records([CallRecord(call)])
    fast, slow = _both(tmp_path / "w.db", run)
    assert fast == slow and fast["calls"] == before["calls"]


def test_a_workspace_that_cannot_be_written_is_analysed_from_its_calls(tmp_path, monkeypatch):
    run = build_random(tmp_path / "w.db", 7)
    conn = sqlite3.connect(tmp_path / "w.db")
    with conn:  # stale cells that cannot be refreshed (a read-only file, a busy writer)
        conn.execute("UPDATE calls SET response_text = 'changed' WHERE run_id = ?", [run])
    conn.close()
    fast, slow = _both_refused(tmp_path / "w.db", run, monkeypatch)
    assert fast == slow  # the same numbers, by the general path


def _both_refused(path, run, monkeypatch):
    from lab.core.workspace.store import Store

    def refuse(self, run_ids=None):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(Store, "refresh_cell_figures", refuse)
    with open_workspace(path) as store:
        fast = analyse(store, Scope(run_id=run)).to_dict()
        assert store._cells is None  # it gathered the calls
        store.use_cell_figures = False
        slow = analyse(store, Scope(run_id=run)).to_dict()
    return fast, slow


def test_ratings_inside_a_larger_transaction_are_kept_with_it(tmp_path):
    """A caller may group many ratings in one transaction (an import, a script, a bench); keeping
    the cell figures current inside it must not end that transaction early."""
    path = tmp_path / "w.db"
    with open_workspace(path) as store:
        experiment = store.create_experiment("e", {})
        run = store.create_run(experiment, samples=1, planned_calls=3)
        records = [CallRecord(Call("openai", "m", {}, status="ok", response_text=f"out {i}",
                                   run_id=run, experiment_id=experiment, variant_name="A",
                                   case_vars={"q": str(i)}, sample_index=0), case_index=i)
                   for i in range(3)]
        store.save_run_records(records)
        with store.transaction():
            for record in records:
                store.set_rating(Rating(record.call.id, score=4))
        with pytest.raises(RuntimeError):
            with store.transaction():  # all or nothing: a failure takes back every rating
                for record in records:
                    store.set_rating(Rating(record.call.id, score=1))
                raise RuntimeError("stopped")
        assert [store.get_rating(r.call.id).score for r in records] == [4, 4, 4]


def _analysed(path, run: int) -> dict:
    with open_workspace(path) as store:
        result = analyse(store, Scope(run_id=run))
        assert store._cells is not None
        return _rounded(result.to_dict() | {"labels": result.case_labels})


def test_reading_ahead_on_a_second_connection_changes_no_number(tmp_path, monkeypatch):
    """The ids behind the heat map, failed checks, tags and judge-and-human pairs are read ahead
    on a read-only second connection; without it, or when that connection cannot open, the
    analysis reads them on the store's own and must come out the same."""
    from lab.core.workspace import cell_figures

    run = build_random(tmp_path / "w.db", 8)
    taken: list = []
    real_take = cell_figures._Early.take
    monkeypatch.setattr(cell_figures._Early, "take",
                        lambda self, key: taken.append(r := real_take(self, key)) or r)
    ahead = _analysed(tmp_path / "w.db", run)
    assert taken and all(rows is not None for rows in taken)  # every query came early

    taken.clear()
    monkeypatch.setattr(cell_figures.CellRows, "read_ahead", lambda self, path, names: None)
    alone = _analysed(tmp_path / "w.db", run)
    assert not taken and alone == ahead

    monkeypatch.undo()
    monkeypatch.setattr(cell_figures._Early, "take",
                        lambda self, key: taken.append(r := real_take(self, key)) or r)
    monkeypatch.setattr(cell_figures._Early, "_connect", staticmethod(_refused))
    failed = _analysed(tmp_path / "w.db", run)
    assert taken and all(rows is None for rows in taken)  # nothing came early: all fell back
    assert failed == ahead


def _refused(*args, **kwargs):
    raise sqlite3.OperationalError("unable to open database file")
