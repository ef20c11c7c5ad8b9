"""Exporting 100,000 selected outputs: the lab's export against a plain loop, time and memory.

The workspace holds N calls like real ones (an OpenAI request body of a ~1,400-character system
prompt, two few-shot turns and a question; a reply of about 300 characters), rated, saved the
way the runner saves them. Each measurement runs in a fresh Python process so its peak memory
(`ru_maxrss`) is its own:

* plain loop: read the calls with one SELECT, build each line with json, write it. No selection
  rules, validation, dedup, split or card: the floor any exporter has to pay.
* lab, same lines: `plan_export` + `write_export` with no dedup and no split, so its train file
  must be byte-identical to the plain loop's (checked), i.e. the same work plus everything the
  lab adds (selection, validation of every record, token counts, card, atomic rename).
* lab, defaults: whitespace dedup and a 90/10 split grouped by input, for information.

Formats: openai-sft (few-shot turns kept with weight 0) and sharegpt (examples folded into the
system prompt). Medians of --repeats runs of each, and the ratio lab / plain.

    .venv/bin/python bench/export_bench.py [--calls 100000] [--repeats 3] [--db PATH]
"""

from __future__ import annotations

import argparse
import filecmp
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SYSTEM = ("You are a customer-support agent for Northwind Outfitters. Keep replies under 120 "
          "words, use only the order facts given, and end with one concrete next step. ") * 8
EXAMPLES = [("Where is my tent?", "It is on its way; the carrier shows a delay."),
            ("Can I change the colour of my jacket?",
             "Yes, until it ships; reply with the colour you want.")]
REPLY = ("Hi {name}, I'm sorry your order {n} arrived late. I've asked the carrier for a firm "
         "delivery date and will email you by 5 pm today. If it can't arrive before Friday, "
         "I'll ship a replacement by express at no cost. Northwind Support")


def build_workspace(db: Path, calls: int) -> None:
    from lab.core.experiment.template import build_messages
    from lab.core.model import (
        Call,
        Example,
        PromptVersion,
        Rating,
        TestCase,
        Usage,
        Variant,
    )
    from lab.core.providers.base import ChatRequest, ProviderConfig
    from lab.core.providers.registry import family_for
    from lab.core.workspace.runs import CallRecord
    from lab.core.workspace.store import open_workspace

    variant = Variant("A", "openai/gpt-4o-mini", SYSTEM, [Example(u, a) for u, a in EXAMPLES])
    config = ProviderConfig(name="openai", kind="openai")
    with open_workspace(db) as store:
        version = store.prompt_version_id(PromptVersion(SYSTEM, "{{question}}", variant.examples))
        experiment = store.create_experiment("bench", {})
        run = store.create_run(experiment, samples=2, planned_calls=calls)
        for start in range(0, calls, 5000):
            batch = []
            for i in range(start, min(calls, start + 5000)):
                case = i // 2  # two samples per question, as a run with samples = 2 makes
                question = f"Where is order NW-{case:06d}? It was due on Monday; I need it soon."
                messages = build_messages(variant, "{{question}}",
                                          TestCase(vars={"question": question}))
                body = family_for("openai").build_body(
                    config, ChatRequest("gpt-4o-mini", messages, {"max_tokens": 300}))
                batch.append(CallRecord(Call(
                    provider="openai", model="gpt-4o-mini", request=body, status="ok",
                    response_text=REPLY.format(name=f"Customer{i % 997}", n=f"NW-{i:06d}"),
                    usage=Usage(180, 64), run_id=run, experiment_id=experiment,
                    variant_name="A", prompt_version_id=version,
                    case_vars={"question": question}, sample_index=i % 2), case_index=case))
            store.save_run_records(batch)
            with store.transaction():  # one transaction around the batch's ratings
                for record in batch:
                    store.set_rating(Rating(record.call.id, score=5))


def plain_loop(db: Path, out: Path, format_name: str) -> int:
    """The same lines as the lab's export, by hand: one query, json in, json out."""
    import sqlite3

    from lab.core.export.prompt_handling import fold

    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT request_json, response_text FROM calls WHERE status = 'ok'"
                        " AND judged_call_id IS NULL ORDER BY id")
    count = 0
    with open(out / "train.jsonl", "w", encoding="utf-8") as handle:
        for request_json, output in rows:
            # The log stores bodies with sorted keys; lines are written role first.
            messages = [{"role": m["role"], "content": m["content"]}
                        for m in json.loads(request_json)["messages"]]
            system = messages[0]["content"]
            turns = messages[1:-1]
            if format_name == "openai-sft":
                lines = [messages[0]]
                for t in turns:
                    lines.append({**t, "weight": 0} if t["role"] == "assistant" else t)
                lines += [messages[-1], {"role": "assistant", "content": output, "weight": 1}]
                record = {"messages": lines}
            else:
                shots = [(u["content"], a["content"]) for u, a in zip(turns[::2], turns[1::2])]
                record = {"conversations": [{"from": "human", "value": messages[-1]["content"]},
                                            {"from": "gpt", "value": output}],
                          "system": fold(system, shots)}
            handle.write(json.dumps(record, ensure_ascii=False, separators=(", ", ": ")) + "\n")
            count += 1
    return count


def lab_export(db: Path, out: Path, format_name: str, defaults: bool) -> int:
    from lab.core.export import ExportOptions, Selection, plan_export, write_export
    from lab.core.workspace.store import open_workspace

    # force: a benchmark of a few calls would otherwise stop at "too few examples".
    options = ExportOptions(force=True) if defaults else ExportOptions(
        dedup="none", train_fraction=1.0, force=True)
    with open_workspace(db) as store:
        plan = plan_export(store, Selection(min_score=4), format_name, options)
    result = write_export(plan, out)
    return sum(result.counts.values())


def child(args: argparse.Namespace) -> None:
    """One measurement, in its own process: prints seconds, records and peak memory."""
    import lab.core.export.plan  # noqa: F401  (imports are not what is measured)

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if args.child == "plain":
        records = plain_loop(args.db, args.out, args.format)
    else:
        records = lab_export(args.db, args.out, args.format, args.child == "lab-defaults")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "records": records, "peak_mb": peak / 1024,
                      "grew_mb": (peak - base) / 1024}))


def measure(kind: str, db: Path, out: Path, format_name: str) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, __file__, "--child", kind, "--db", str(db),
                           "--out", str(out), "--format", format_name],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--db", type=Path, help="reuse (or create) this workspace")
    parser.add_argument("--child", choices=["plain", "lab-same", "lab-defaults"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--format", default="openai-sft", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    folder = tempfile.TemporaryDirectory()
    db = args.db or Path(folder.name) / "bench.db"
    if not db.exists():
        started = time.perf_counter()
        build_workspace(db, args.calls)
        print(f"workspace: {args.calls:,} rated calls in {time.perf_counter() - started:.1f} s")
    for format_name in ("openai-sft", "sharegpt"):
        figures: dict[str, list[dict]] = {"plain": [], "lab-same": [], "lab-defaults": []}
        for r in range(args.repeats):
            for kind in figures:  # alternating, so drift hits all three alike
                figures[kind].append(measure(kind, db, Path(folder.name) / format_name / kind,
                                             format_name))
        same = filecmp.cmp(Path(folder.name) / format_name / "plain" / "train.jsonl",
                           Path(folder.name) / format_name / "lab-same" / "train.jsonl",
                           shallow=False)
        print(f"\n{format_name}: {figures['plain'][0]['records']:,} records; lab file identical"
              f" to the plain loop's: {same}")
        medians = {}
        for kind, runs in figures.items():
            medians[kind] = {k: statistics.median(r[k] for r in runs)
                             for k in ("seconds", "peak_mb", "grew_mb")}
            m = medians[kind]
            print(f"  {kind:13s} median {m['seconds']:6.2f} s   peak RSS {m['peak_mb']:7.1f} MB"
                  f"   (+{m['grew_mb']:.1f} MB over imports)   runs: "
                  + ", ".join(f"{r['seconds']:.2f}" for r in runs))
        for kind in ("lab-same", "lab-defaults"):
            lab, plain = medians[kind], medians["plain"]
            print(f"  ratio {kind} / plain: time {lab['seconds'] / plain['seconds']:.2f}, "
                  f"peak RSS {lab['peak_mb'] / plain['peak_mb']:.2f}")


if __name__ == "__main__":
    main()
