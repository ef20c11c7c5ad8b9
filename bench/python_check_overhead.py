"""What grading a python check in a worker process costs over evaluating it in-process.

Three ways, each timed per call over many calls, medians printed (microseconds):

- in-process: `lab.core.checks.expression.evaluate`, what the lab did before the time limit;
- pool: `ExpressionPool.evaluate` from one thread (pickle, pipe, worker, pipe, unpickle);
- runner path: the same from an asyncio loop through a grading thread, as `CallMaker` does it
  (`loop.run_in_executor` + the pool), i.e. what a run pays per python check per output.

The worker's start (once per worker per run) is reported apart.

    .venv/bin/python bench/python_check_overhead.py [--calls 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab.core.checks.expression import evaluate  # noqa: E402
from lab.core.checks.workers import ExpressionPool  # noqa: E402

EXPRESSION = "json.loads(output).get('intent') == vars['intent']"
OUTPUT = '{"order": "NW-1177", "intent": "where"}'
VARIABLES = {"email": "It's been a week. Where is NW-1177??", "intent": "where"}


def timed(fn, calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return times


async def through_executor(pool: ExpressionPool, executor: ThreadPoolExecutor,
                           calls: int) -> list[float]:
    loop = asyncio.get_running_loop()
    times = []
    for _ in range(calls):
        began = time.perf_counter()
        await loop.run_in_executor(executor, lambda: pool.evaluate(EXPRESSION, OUTPUT, VARIABLES))
        times.append(time.perf_counter() - began)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    assert evaluate(EXPRESSION, OUTPUT, VARIABLES)[0]
    with ExpressionPool(1) as pool, ThreadPoolExecutor(1) as executor:
        began = time.perf_counter()
        assert pool.evaluate(EXPRESSION, OUTPUT, VARIABLES)[0]
        start = time.perf_counter() - began
        here = timed(lambda: evaluate(EXPRESSION, OUTPUT, VARIABLES), args.calls)
        pooled = timed(lambda: pool.evaluate(EXPRESSION, OUTPUT, VARIABLES), args.calls)
        runner = asyncio.run(through_executor(pool, executor, args.calls))
    print(f"first call (starts the worker): {start * 1000:.0f} ms")
    for name, times in (("in-process", here), ("pool", pooled), ("runner path", runner)):
        q = statistics.quantiles(times, n=100)
        print(f"{name:>12}: median {statistics.median(times) * 1e6:7.1f} us   "
              f"p95 {q[94] * 1e6:7.1f} us   ({len(times)} calls)")


if __name__ == "__main__":
    main()
