"""How much the lab's runner costs over a bare httpx loop making the same calls.

Both sides send the same 400 streamed chat calls to the fake provider server (every answer takes
0.2 s) with 16 in flight, in the same process, alternating, several rounds; the medians and their
ratio are printed (target: lab / httpx <= 1.10), with peak traced memory of one round of each.
The ideal is 400 / 16 x 0.2 s = 5.0 s.

The lab side is the whole engine: plan, cache lookup, provider client with its limiter and
retries, streaming events, checks, and every call written to a real SQLite file by the writer
thread.

    .venv/bin/python bench/run_throughput.py [--calls 400] [--latency 0.2] [--concurrency 16]
                                             [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab.core.experiment.file import loads  # noqa: E402
from lab.core.providers import ProviderClient  # noqa: E402
from lab.core.providers.pricing import PriceTable  # noqa: E402
from lab.core.run.plan import build_plan, provider_configs  # noqa: E402
from lab.core.run.runner import Runner  # noqa: E402
from lab.core.run.setup import RunOptions, prepare_run  # noqa: E402
from lab.core.workspace.store import open_workspace  # noqa: E402
from tests.helpers import fake_provider  # noqa: E402


def experiment(base_url: str, calls: int, concurrency: int) -> str:
    rows = ",\n".join(f'  {{ question = "Question {i}: where is my order?" }}' for i in range(calls))
    return f'''name = "throughput"
[providers.fake]
kind = "openai"
base_url = "{base_url}"
local = false
concurrency = {concurrency}

[[variants]]
name = "A"
model = "fake/gpt-4o-mini"
system = "You are a terse support agent."
max_tokens = 64

[cases]
user = "{{{{question}}}}"
rows = [
{rows}
]

[[checks]]
type = "contains"
value = "order"
'''


async def lab_round(text: str, concurrency: int, prices: PriceTable) -> float:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        spec = loads(text, "throughput.toml")
        with open_workspace(db) as store:
            plan = build_plan(spec, provider_configs(spec, []))
            prepared = prepare_run(store, plan, RunOptions(concurrency=concurrency), prices)
        runner = Runner(db, prepared, prices=prices, client_factory=lambda c: ProviderClient(
            c, key_lookup=lambda _c: fake_provider.API_KEY, prices=prices))
        started = time.perf_counter()
        finished = await runner.run()
        elapsed = time.perf_counter() - started
        assert finished.status == "done" and finished.errors == 0, finished
        with open_workspace(db) as store:
            assert store.count_calls() == len(plan.calls)
        return elapsed


async def httpx_round(text: str, concurrency: int) -> float:
    spec = loads(text, "throughput.toml")
    plan = build_plan(spec, provider_configs(spec, []))
    url = plan.providers["fake"].base_url + "/chat/completions"
    headers = {"Authorization": f"Bearer {fake_provider.API_KEY}"}
    limit = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def one(body: dict) -> None:
            async with limit:
                async with client.stream("POST", url, content=json.dumps(body),
                                         headers=headers) as response:
                    response.raise_for_status()
                    async for _ in response.aiter_bytes():
                        pass

        started = time.perf_counter()
        await asyncio.gather(*(one(call.body) for call in plan.calls))
        return time.perf_counter() - started


def peak_memory(coro_factory) -> float:
    gc.collect()
    tracemalloc.start()
    asyncio.run(coro_factory())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    server = fake_provider.FakeProviderServer().start()
    server.latency = args.latency
    # The fake reads every request and every chunk it sends with the OpenAI SDK's models, about
    # a millisecond of CPU per call in this same process; the benchmark measures the runner, not
    # the fake's checks, so it keeps only its short hand-written rules.
    server.sdk_checks = False
    prices = PriceTable.load()
    text = experiment(server.base_url("openai"), args.calls, args.concurrency)
    try:
        asyncio.run(httpx_round(text, args.concurrency))  # warm up: connections, imports
        lab_times, httpx_times = [], []
        for _ in range(args.rounds):
            httpx_times.append(asyncio.run(httpx_round(text, args.concurrency)))
            lab_times.append(asyncio.run(lab_round(text, args.concurrency, prices)))
        lab_peak = peak_memory(lambda: lab_round(text, args.concurrency, prices))
        httpx_peak = peak_memory(lambda: httpx_round(text, args.concurrency))
    finally:
        server.stop()
    ideal = args.calls / args.concurrency * args.latency
    lab_median, httpx_median = statistics.median(lab_times), statistics.median(httpx_times)
    print(f"{args.calls} calls, {args.latency:g} s each, {args.concurrency} in flight "
          f"(ideal {ideal:.2f} s), {args.rounds} rounds")
    print(f"  httpx loop  median {httpx_median:.3f} s  "
          f"({', '.join(f'{t:.2f}' for t in httpx_times)})  peak traced {httpx_peak:.1f} MB")
    print(f"  lab runner  median {lab_median:.3f} s  "
          f"({', '.join(f'{t:.2f}' for t in lab_times)})  peak traced {lab_peak:.1f} MB")
    print(f"  ratio lab / httpx = {lab_median / httpx_median:.3f} (target <= 1.10)")
    print(f"  process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
