"""`lab report`'s analysis on a workspace with 100,000 calls over 10 variants: how long the whole
analysis takes (statistics per variant, every A/B comparison, consistency, judge agreement,
failure modes, the decision), side by side with a bare SQL aggregate of the headline figures
(per variant: calls, pass rate, mean judge score, cost, tokens) in the same process. Medians of
several rounds.

    .venv/bin/python bench/analysis_100k.py [--cases 1000] [--samples 10] [--variants 10] [--repeat 7]

Target (issue 10): the analysis under 300 ms. A run's analysis reads the figures the workspace
keeps per cell (lab/core/workspace/cell_figures.py); `--general` times the path that gathers the
calls instead (what an analysis of several runs does, and every analysis did before).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = ("refund", "parcel", "delivery", "exchange", "warranty", "boots", "tent", "jacket")
TAGS = ("too long", "wrong tone", "hallucination", "format")


def build(path: Path, variants: int, cases: int, samples: int) -> float:
    """Calls logged the way runs log them (save_run_records), check results, ratings, tags."""
    from lab.core.model import Call, Example, PromptVersion, Rating, Usage
    from lab.core.workspace.runs import CallRecord, LoggedCheck
    from lab.core.workspace.store import open_workspace

    rng = random.Random(7)
    started = time.perf_counter()
    names = [f"V{i}" for i in range(variants)]
    config = {"name": "bench", "variants": [
        {"name": n, "model": "openai/gpt-4o-mini", "system": f"You are variant {n}. " * 20,
         **({"examples": [{"user": "Where is it?", "assistant": "On its way."}]} if i % 2 else {})}
        for i, n in enumerate(names)],
        "cases": {"user": "{{q}}", "rows": [{"q": f"question {c}"} for c in range(cases)]},
        "checks": [{"type": "contains", "name": "mentions order", "value": "order"},
                   {"type": "judge", "name": "polite", "rubric": "polite?", "model": "x/y"}]}
    with open_workspace(path) as store:
        experiment = store.create_experiment("bench", config)
        run = store.create_run(experiment, samples=samples, planned_calls=variants * cases * samples)
        versions = {n: store.prompt_version_id(PromptVersion(
            config["variants"][i]["system"], "{{q}}",
            [Example("Where is it?", "On its way.")] if i % 2 else []))
            for i, n in enumerate(names)}
        records = []
        for v, name in enumerate(names):
            skill = 0.5 + 0.04 * v
            for c in range(cases):
                hard = rng.random() < 0.3
                for s in range(samples):
                    passed = rng.random() < (skill - (0.3 if hard else 0))
                    text = (f"Your order about {WORDS[c % 8]} is {'fine' if passed else 'late'}. "
                            f"Reply {c}-{s % 3}." + " We will sort it out today." * 3)
                    if v % 3 == 0:
                        text = f'{{"status": "{"ok" if passed else "late"}", "case": {c}}}'
                    call = Call(provider="openai", model="gpt-4o-mini", request={}, status="ok",
                                response_text=text, usage=Usage(300 + 10 * v, 60),
                                latency_ms=rng.lognormvariate(6.5, 0.4), ttft_ms=rng.uniform(80, 300),
                                cost_usd=0.0001, variant_name=name, run_id=run,
                                experiment_id=experiment, prompt_version_id=versions[name],
                                case_vars={"q": f"question {c}"}, sample_index=s)
                    checks = [LoggedCheck("mentions order", passed, None, ""),
                              LoggedCheck("polite", rng.random() < 0.8, rng.choice((3, 4, 5)), "")]
                    records.append(CallRecord(call, case_index=c, checks=checks))
            store.save_run_records(records)
            records.clear()
        # mark the "polite" results as an LLM judge's (bench shortcut: no judge calls logged)
        with store.transaction():
            store.db.execute("UPDATE check_results SET judge_call_id = call_id"
                             " WHERE check_name = 'polite'")
        store.refresh_cell_figures()  # that update went behind the writer's back
        ids = [r[0] for r in store.db.execute("SELECT id FROM calls ORDER BY id")]
        for call_id in rng.sample(ids, 2000):  # people rate a few thousand, not 100,000
            score = rng.choice((1, 2, 3, 4, 5))
            store.set_rating(Rating(call_id, score=score,
                                    tags=[rng.choice(TAGS)] if score <= 2 else []))
    return time.perf_counter() - started


def bare(path: Path) -> tuple[float, float]:
    """The headline figures per variant in one plain SQL aggregate (every output counted as
    independent, no intervals, no percentiles): (wall, CPU) seconds."""
    conn = sqlite3.connect(path)
    started, cpu = time.perf_counter(), time.process_time()
    conn.execute(
        "WITH ck AS (SELECT call_id, min(passed) AS ok, avg(CASE WHEN judge_call_id IS NOT NULL"
        " THEN score END) AS judge FROM check_results GROUP BY call_id)"
        " SELECT c.variant_name, count(*), avg(ck.ok), avg(ck.judge), sum(c.cost_usd),"
        " sum(c.input_tokens + c.output_tokens), avg(c.latency_ms) FROM calls c"
        " LEFT JOIN ck ON ck.call_id = c.id WHERE c.run_id = 1 GROUP BY c.variant_name").fetchall()
    elapsed = time.perf_counter() - started, time.process_time() - cpu
    conn.close()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", type=int, default=10)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--db", type=Path, help="reuse (or build once into) this workspace file")
    parser.add_argument("--general", action="store_true",
                        help="gather the calls as for several runs instead of reading the figures"
                             " kept per cell (the path before issue 10's speed work)")
    args = parser.parse_args()

    from lab.core.analysis.analyse import AnalysisOptions, analyse
    from lab.core.providers.pricing import PriceTable
    from lab.core.workspace.store import open_workspace

    path = args.db or Path(tempfile.mkdtemp(prefix="lab-bench-analysis-")) / "workspace.db"
    calls = args.variants * args.cases * args.samples
    if not path.exists():
        build_s = build(path, args.variants, args.cases, args.samples)
        print(f"built {calls:,} calls ({args.variants} variants × {args.cases} cases × "
              f"{args.samples} samples) in {build_s:.1f} s; {path.stat().st_size / 1e6:.0f} MB")
    options = AnalysisOptions(prices=PriceTable.load())
    with open_workspace(path) as store:
        started, cpu = time.perf_counter(), time.process_time()
        refreshed = store.refresh_cell_figures()  # once, for a workspace from before them
        if refreshed:
            print(f"computed the figures of {refreshed:,} cells (once) in "
                  f"{time.perf_counter() - started:.1f} s, CPU {time.process_time() - cpu:.1f} s")
        store.use_cell_figures = not args.general
        analyse(store, options=options)  # warm the page cache and the imports
        lab_times, lab_cpu, bare_times, bare_cpu = [], [], [], []
        for _ in range(args.repeat):
            started, cpu = time.perf_counter(), time.process_time()
            analysis = analyse(store, options=options)
            lab_times.append(time.perf_counter() - started)
            lab_cpu.append(time.process_time() - cpu)
            wall, cpu = bare(path)
            bare_times.append(wall)
            bare_cpu.append(cpu)
    med = lambda xs: statistics.median(xs) * 1000
    lab_ms, bare_ms = med(lab_times), med(bare_times)
    what = "general path" if args.general else "from the cell figures"
    print(f"analysis ({what}; everything `lab report` shows): median wall {lab_ms:7.1f} ms, CPU "
          f"{med(lab_cpu):7.1f} ms (wall min {min(lab_times) * 1000:.1f}, max "
          f"{max(lab_times) * 1000:.1f})")
    print(f"bare SQL aggregate of the headline figures: median wall {bare_ms:7.1f} ms, CPU "
          f"{med(bare_cpu):7.1f} ms")
    print("(on a machine shared with other work, CPU time is the steadier figure)")
    print(f"ratio wall {lab_ms / bare_ms:.1f}×, CPU {med(lab_cpu) / med(bare_cpu):.1f}×; "
          f"{len(analysis.comparisons)} comparisons, "
          f"{len(analysis.consistency.cells) if analysis.consistency else 0} heat-map cells, "
          f"recommendation {analysis.decision.recommendation}")
    print(f"target: under 300 ms -> {'met' if lab_ms < 300 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
