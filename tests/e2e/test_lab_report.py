"""`lab report` as a script uses it: a real `lab run --samples 3` on the fake provider server, some
ratings and blind judgements, then the report in a subprocess as JSON, on the terminal and as a
self-contained HTML file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lab.core.model import PairwiseJudgement, Rating
from lab.core.workspace.store import open_workspace
from tests.helpers.experiments import JUDGE_MODEL, experiment_text
from tests.helpers.fake_provider import reply
from tests.helpers.lab_process import lab, rows, write


@pytest.fixture
def judged_run(server, tmp_path) -> tuple[Path, dict]:
    """4 cases × 2 variants × 3 samples with an LLM judge, then ratings, tags and blind votes."""
    db = tmp_path / "workspace.db"
    scores = [5, 4, 5, 2, 4, 5, 3, 4, 5, 4, 2, 5] * 2  # 24 judge calls, in whatever order
    server.script(*[reply(json.dumps({"score": s, "reason": "ok"})) for s in scores],
                  model=JUDGE_MODEL)
    exp = write(tmp_path, experiment_text(server, cases=4, judge=True))
    result = lab("run", str(exp), "--db", str(db), "--samples", "3", "--json")
    assert result.returncode == 0, result.stderr
    calls = rows(db, "SELECT id, variant_name, case_index, sample_index FROM calls"
                     " WHERE judged_call_id IS NULL ORDER BY id")
    assert len(calls) == 24
    with open_workspace(db) as store:
        for c in calls:
            if c["variant_name"] == "A":
                store.set_rating(Rating(c["id"], score=5 if c["case_index"] != 3 else 2,
                                        tags=["too long"] if c["case_index"] == 3 else []))
            elif c["sample_index"] == 0:
                store.set_rating(Rating(c["id"], thumbs=-1, tags=["made up facts"]))
        first = {(c["variant_name"], c["case_index"]): c["id"] for c in calls
                 if c["sample_index"] == 0}
        for case in range(4):
            store.record_pairwise(PairwiseJudgement(first["B", case], first["A", case],
                                                    "right" if case < 3 else "tie"))
    return db, json.loads(result.stdout)


def test_report_json_has_every_section_and_agrees_with_the_run_summary(judged_run):
    db, run = judged_run
    result = lab("report", "--db", str(db), "--json", "--calls-per-month", "50000")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"variants", "comparisons", "consistency", "judge_agreement", "failure_modes",
            "decision"} <= set(report)
    a, b = report["variants"]
    assert (a["name"], b["name"], a["calls"], a["cases"], a["samples_per_case"]) == \
        ("A", "B", 12, 4, 3)
    for variant, summary in zip(report["variants"], run["variants"]):
        # the report and `lab run`'s summary compute the same case-as-unit figures
        assert variant["pass_rate"]["value"] == pytest.approx(summary["overall"]["rate"])
        assert variant["pass_rate"]["low"] == pytest.approx(summary["overall"]["low"])
        assert variant["pass_rate"]["high"] == pytest.approx(summary["overall"]["high"])
        assert variant["score"]["mean"] == pytest.approx(summary["score"]["mean"])
        assert variant["cost_usd"] == pytest.approx(summary["cost_usd"])
        assert variant["latency_ms"]["p50"] == pytest.approx(summary["latency_p50_ms"])
        assert variant["latency_ms"]["p95"] == pytest.approx(summary["latency_p95_ms"])
        assert variant["pass_rate"]["cases"] == 4 and variant["pass_rate"]["samples"] == 12
    [comparison] = report["comparisons"]
    assert (comparison["a"], comparison["b"]) == ("A", "B")
    blind = comparison["blind"]["summary"]
    assert (blind["wins"], blind["losses"], blind["ties"]) == (0, 3, 1)  # A won 3, one tie
    assert "sign test" in comparison["pass_rate"]["test"] or "McNemar" in comparison["pass_rate"]["test"]
    # the fake server answers the same question the same way: samples agree exactly
    consistency = {v["variant"]: v for v in report["consistency"]["variants"]}
    assert consistency["A"]["exact"]["mean"] == 1.0 and consistency["A"]["cases"] == 4
    cells = report["consistency"]["cells"]
    assert len(cells) == 8 and all(len(c["link"]["call_ids"]) == 3 for c in cells)
    [judge] = report["judge_agreement"]
    assert judge["check"] == "polite" and judge["pass_fail"]["n"] == 16  # 12 of A, 4 of B
    assert judge["pass_fail"]["warnings"]  # n under 30
    failures = {f["variant"]: f for f in report["failure_modes"]}
    tags = {m["name"]: m for m in failures["B"]["modes"] if m["source"] == "tag"}
    assert tags["made up facts"]["count"] == 4 and tags["made up facts"]["kind"] == "knowledge"
    assert len(tags["made up facts"]["link"]["call_ids"]) == 4
    decision = report["decision"]
    assert decision["recommendation"] in ("keep_prompting", "add_retrieval", "collect_examples",
                                          "fine_tune")
    assert decision["good_examples"] >= 3  # A's 9 outputs rated 5 are 3 distinct examples
    assert decision["reasons"] and all(r["text"] and r["link"] for r in decision["reasons"])
    assert all(re.search(r"\d", r["text"]) for r in decision["reasons"])
    economics = decision["evidence"]["economics"]
    assert economics["calls_per_month"] == 50000


def test_report_on_the_terminal_and_a_self_contained_html_file(judged_run, tmp_path):
    db, _ = judged_run
    page = tmp_path / "report.html"
    result = lab("report", "--db", str(db), "--html", str(page))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "Variants" in text and "A vs B" in text and "Recommendation:" in text
    assert "treat the test case as the unit" in text and "\033[" not in text
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "Recommendation" in html
    # charts are inline images: pass rate, scores, latency, blind judgements, the heat map
    assert html.count('<img src="data:image/png;base64,') >= 5
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html and "<link" not in html and "@import" not in html
    by_experiment = lab("report", "--db", str(db), "--experiment", "tone", "--json")
    assert by_experiment.returncode == 0 and json.loads(by_experiment.stdout)["runs"] == [1]


def test_report_without_runs_or_with_an_unknown_one_is_one_line(tmp_path):
    db = tmp_path / "workspace.db"
    open_workspace(db).close()
    empty = lab("report", "--db", str(db))
    assert empty.returncode == 2 and empty.stderr.strip().splitlines() == [
        f"lab: {db} has no runs yet: run an experiment first (`lab run EXPERIMENT.toml`)."]
    unknown = lab("report", "--db", str(db), "--run", "7")
    assert unknown.returncode == 2 and "There is no run 7" in unknown.stderr
    assert "Traceback" not in unknown.stderr
