"""Writing many results through the run's writer: how long, and how big the workspace gets.

Each result is a call like a real one (a request body of a system prompt, two few-shot turns and
a question; a reply of about 300 characters; usage, latency, cost) with two check results, saved
through `CallWriter` exactly as the runner does, full-text index included.

    .venv/bin/python bench/store_write.py [--results 100000] [--db PATH]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab.core.model import Call, PromptVersion, Usage  # noqa: E402
from lab.core.workspace.call_writer import CallWriter  # noqa: E402
from lab.core.workspace.runs import CallRecord, LoggedCheck  # noqa: E402
from lab.core.workspace.store import open_workspace  # noqa: E402

SYSTEM = ("You are a customer-support agent for Northwind Outfitters. Keep replies under 120 "
          "words, use only the order facts given, and end with one concrete next step. ") * 3
REPLY = ("Hi {name}, I'm sorry your order {n} arrived late. I've asked the carrier for a firm "
         "delivery date and will email you by 5 pm today. If it can't arrive before Friday, "
         "I'll ship a replacement by express at no cost. Northwind Support")


def make_call(i: int, run_id: int, experiment_id: int, version_id: int) -> Call:
    question = f"Where is order NW-{i:06d}? It was due on Monday and I need it for a trip."
    return Call(
        provider="openai", model="gpt-4o-mini",
        request={"model": "gpt-4o-mini", "stream": True, "max_tokens": 300, "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Where is my tent?"},
            {"role": "assistant", "content": "It is on its way; the carrier shows a delay."},
            {"role": "user", "content": question}]},
        status="ok", response_text=REPLY.format(name=f"Customer{i % 997}", n=f"NW-{i:06d}"),
        finish_reason="stop", usage=Usage(input_tokens=180, output_tokens=64),
        raw_usage={"prompt_tokens": 180, "completion_tokens": 64, "total_tokens": 244},
        latency_ms=812.5, ttft_ms=240.1, cost_usd=0.0000654, params={"max_tokens": 300},
        run_id=run_id, experiment_id=experiment_id, variant_name="A" if i % 2 else "B",
        prompt_version_id=version_id, case_vars={"question": question}, sample_index=i % 3,
        cache_key=f"{i:064x}", started_at="2026-01-01T00:00:00.000+00:00",
        finished_at="2026-01-01T00:00:00.812+00:00",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=int, default=100_000)
    parser.add_argument("--db", type=Path, help="write here (default: a temporary folder)")
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory()
    db = args.db or Path(folder.name) / "bench.db"
    with open_workspace(db) as store:
        experiment_id = store.create_experiment("bench", {})
        run_id = store.create_run(experiment_id, planned_calls=args.results)
        version_id = store.prompt_version_id(PromptVersion(SYSTEM, "{{question}}"))
    calls = [make_call(i, run_id, experiment_id, version_id) for i in range(args.results)]
    writer = CallWriter(lambda: open_workspace(db)).start()
    started = time.perf_counter()
    for i, call in enumerate(calls):
        writer.save(CallRecord(call, case_index=i // 3, checks=[
            LoggedCheck("mentions order", True, None, "contains 'order'"),
            LoggedCheck("under 120 words", True, None, "52 words (at most 120)"),
        ]))
    queued = time.perf_counter() - started
    writer.stop()
    elapsed = time.perf_counter() - started
    assert writer.error is None, writer.error
    with open_workspace(db) as store:
        assert store.count_calls() == args.results
        search_started = time.perf_counter()
        hits = store.page_calls(search=f"NW-{args.results // 2:06d}")
        search_ms = (time.perf_counter() - search_started) * 1000
        assert hits, "full-text search finds a call"
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    print(f"{args.results:,} results written through the writer in {elapsed:.2f} s "
          f"({args.results / elapsed:,.0f} per second; handing them over took {queued:.2f} s)")
    print(f"workspace {size / 1e6:.1f} MB ({size / args.results:,.0f} bytes per result, "
          f"full-text index included); a full-text search took {search_ms:.1f} ms")
    folder.cleanup()


if __name__ == "__main__":
    main()
