"""What `lab run` costs over a bare httpx loop making the same calls, what memory it takes, and
how its adaptive limit copes with a provider's concurrency ceiling.

(a) Throughput. Both sides send the same streamed chat calls (400 by default, every answer taking
    0.2 s) to the fake provider server in this process, over loopback, with 16 in flight, each
    side in its own process: the real `lab run EXPERIMENT --concurrency 16` (the experiment's
    provider pins no concurrency, so the run's setting decides) and a plain httpx loop. Rounds
    alternate; medians are printed, of two spans: the calls (the fake's clock, from the first
    request received to the last answer sent: target lab / httpx <= 1.05) and the whole process
    (lab's includes its start-up, pre-flight, model check, SQLite log and summary). The ideal
    calls span is calls / 16 x 0.2 s.
(b) Memory. Peak RSS of each `lab run` process (/usr/bin/time), in this environment and as an
    app-only install would have it: the same run with every module that is not the app's or one
    of its dependencies' (pyproject's `dependencies`, followed through the installed metadata)
    made unimportable, which is what a user's install lacks (the test extra brings pandas, numpy
    and pyarrow, which sqlite-utils imports when it finds them). Target <= 80 MB app-only. What it
    is made of: the RSS of a bare interpreter and of the imports alone, and per package the
    import time `python -X importtime` reports (and how many modules each brings).
(c) A provider ceiling. The fake answers 429 (retry-after 0.05 s) to calls beyond 8 in flight;
    the runner (in this process, to see its events) asks for 16. Printed: failed calls (target
    0), the 429s, and the time-weighted mean of the limit from the ProviderLimit events (target:
    near 8), over the run and after its first cut.

    .venv/bin/python bench/run_throughput.py [--calls 400] [--latency 0.2] [--concurrency 16]
                                             [--rounds 5] [--ceiling 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab.core.experiment.file import loads  # noqa: E402
from lab.core.providers import ProviderClient  # noqa: E402
from lab.core.providers.pricing import PriceTable  # noqa: E402
from lab.core.run.events import ProviderLimit  # noqa: E402
from lab.core.run.plan import build_plan, provider_configs  # noqa: E402
from lab.core.run.runner import Runner  # noqa: E402
from lab.core.run.setup import RunOptions, prepare_run  # noqa: E402
from lab.core.workspace.store import open_workspace  # noqa: E402
from tests.helpers import fake_provider  # noqa: E402

KEY_ENV = "LAB_BENCH_KEY"

# The httpx side: the same bodies, `concurrency` in flight, each stream read to its end.
HTTPX_LOOP = r"""
import asyncio, json, sys
import httpx

url, key, concurrency, bodies_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(bodies_path) as f:
    bodies = json.load(f)

async def main():
    limit = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        async def one(body):
            async with limit:
                async with client.stream("POST", url, content=json.dumps(body),
                                         headers={"Authorization": f"Bearer {key}"}) as response:
                    response.raise_for_status()
                    async for _ in response.aiter_bytes():
                        pass
        await asyncio.gather(*(one(b) for b in bodies))

asyncio.run(main())
"""

# Runs `lab ARGS...` (or imports only, with --imports-only) as an app-only install would: any
# module that is neither the standard library, nor lab, nor from a distribution the app depends
# on (pyproject's `dependencies`, followed through the installed metadata) cannot be imported.
APP_ONLY = r"""
import importlib.metadata as md, re, site, sys, tomllib
from importlib.abc import MetaPathFinder
from importlib.machinery import PathFinder
from packaging.markers import Marker

root, args = sys.argv[1], sys.argv[2:]
with open(root + "/pyproject.toml", "rb") as f:
    wanted = tomllib.load(f)["project"]["dependencies"]

def name(requirement):
    return re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0].lower().replace("_", "-")

closure, todo = set(), [name(r) for r in wanted]
while todo:
    dist = todo.pop()
    if dist in closure:
        continue
    closure.add(dist)
    try:
        requirements = md.requires(dist) or []
    except md.PackageNotFoundError:
        continue
    for requirement in requirements:
        marker = requirement.partition(";")[2].strip()
        if marker and not Marker(marker).evaluate({"extra": ""}):
            continue
        todo.append(name(requirement))
allowed = {top for top, dists in md.packages_distributions().items()
           if any(d.lower().replace("_", "-") in closure for d in dists)}
for module in [m for m in sys.modules if m.partition(".")[0] == "packaging" and "packaging" not in allowed]:
    del sys.modules[module]
installed = tuple(site.getsitepackages())

class AppOnly(MetaPathFinder):
    # Only top-level modules installed into the environment are checked: the standard library
    # and lab (from PYTHONPATH) import as usual.
    def find_spec(self, fullname, path=None, target=None):
        if path is not None or fullname in allowed:
            return None
        spec = PathFinder.find_spec(fullname)
        if spec is not None and str(spec.origin or next(iter(spec.submodule_search_locations or []), "")).startswith(installed):
            raise ModuleNotFoundError(f"No module named {fullname!r} (not in an app-only install)",
                                      name=fullname)
        return None

sys.meta_path.insert(0, AppOnly())
if args == ["--imports-only"]:
    import lab.cli.run  # noqa: F401
else:
    sys.argv = ["lab", *args]
    from lab.cli import main
    sys.exit(main())
"""


def experiment(base_url: str, calls: int) -> str:
    rows = ",\n".join(f'  {{ question = "Question {i}: where is my order?" }}' for i in range(calls))
    return f'''name = "throughput"
[providers.fake]
kind = "openai"
base_url = "{base_url}"
api_key_env = "{KEY_ENV}"
local = false

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


def child_env(home: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "LAB_HOME": home, KEY_ENV: fake_provider.API_KEY,
            "QT_QPA_PLATFORM": "offscreen"}


# A child's peak RSS must be measured by a small parent: Linux keeps the RSS a process had when
# it forked (this one, with the fake and its imports) in the child's ru_maxrss across exec.
TIME = "/usr/bin/time"
MEASURE = r"""
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a process to its end: (seconds, its peak RSS in MB, its stderr)."""
    with tempfile.TemporaryDirectory() as folder:
        rss_file = Path(folder) / "rss"
        if Path(TIME).exists():  # GNU time: %M is the child's peak RSS in KB
            measured = [TIME, "-f", "%M", "-o", str(rss_file), *args]
        else:
            measured = [sys.executable, "-c", MEASURE, str(rss_file), *args]
        started = time.perf_counter()
        result = subprocess.run(measured, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, env=env, cwd=ROOT)
        elapsed = time.perf_counter() - started
        stderr = result.stderr.decode("utf-8", "replace")
        if result.returncode != 0:
            raise SystemExit(f"{args[:4]} failed ({result.returncode}):\n{stderr[-2000:]}")
        rss = int(rss_file.read_text().split()[-1]) / 1024
    return elapsed, rss, stderr


def calls_span(server: fake_provider.FakeProviderServer, since: int) -> float:
    chats = [r for r in server.requests[since:] if r.method == "POST"]
    return max(r.answered_at or 0.0 for r in chats) - min(r.received_at for r in chats)


def lab_args(exp: Path, db: Path, concurrency: int) -> list[str]:
    return ["run", str(exp), "--db", str(db), "--yes", "--concurrency", str(concurrency), "--json"]


# ----- (a) throughput and (b) memory --------------------------------------------------------------

def throughput(server, args, folder: Path) -> dict:
    exp = folder / "throughput.toml"
    exp.write_text(experiment(server.base_url("openai"), args.calls))
    spec = loads(exp.read_text(), str(exp))
    plan = build_plan(spec, provider_configs(spec, []))
    bodies = folder / "bodies.json"
    bodies.write_text(json.dumps([c.body for c in plan.calls]))
    url = plan.providers["fake"].base_url + "/chat/completions"
    env = child_env(str(folder / "home"))
    httpx_cmd = [sys.executable, "-c", HTTPX_LOOP, url, fake_provider.API_KEY, str(args.concurrency), str(bodies)]
    out: dict = defaultdict(list)

    def lab_round(i: int, launcher: list[str]) -> None:
        db = folder / f"lab-{i}.db"
        since = len(server.requests)
        wall, rss, _ = run_child([*launcher, *lab_args(exp, db, args.concurrency)], env)
        chats = [r for r in server.requests[since:] if r.method == "POST"]
        assert len(chats) == args.calls, f"{len(chats)} chat calls, not {args.calls}"
        with open_workspace(db) as store:
            assert store.count_calls() == args.calls
        out["lab_wall"].append(wall)
        out["lab_calls"].append(calls_span(server, since))
        out["lab_rss"].append(rss)

    run_child(httpx_cmd, env)  # warm up: the fake's threads, the page cache
    for i in range(args.rounds):
        since = len(server.requests)
        wall, rss, _ = run_child(httpx_cmd, env)
        out["httpx_wall"].append(wall)
        out["httpx_calls"].append(calls_span(server, since))
        out["httpx_rss"].append(rss)
        lab_round(i, [sys.executable, "-m", "lab"])
    # (b) the same run as an app-only install has it, and what the imports alone take
    app_only = [sys.executable, "-c", APP_ONLY, str(ROOT)]
    for i in range(2):
        since = len(server.requests)
        wall, rss, _ = run_child([*app_only, *lab_args(exp, folder / f"app-{i}.db", args.concurrency)], env)
        out["app_wall"].append(wall)
        out["app_calls"].append(calls_span(server, since))
        out["app_rss"].append(rss)
    out["bare_rss"] = run_child([sys.executable, "-c", "pass"], env)[1]
    out["imports_rss"] = run_child([sys.executable, "-c", "import lab.cli.run"], env)[1]
    out["app_imports_rss"] = run_child([*app_only, "--imports-only"], env)[1]
    out["importtime_full"] = import_times(run_child([sys.executable, "-X", "importtime", "-c", "import lab.cli.run"],
                                                    env)[2])
    out["importtime_app"] = import_times(run_child([sys.executable, "-X", "importtime", "-c", APP_ONLY, str(ROOT),
                                                    "--imports-only"], env)[2])
    return out


def import_times(stderr: str) -> dict[str, tuple[float, int]]:
    """Per top-level package: (seconds of its own import time, modules), from -X importtime."""
    per: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if m:
            top = m.group(2).partition(".")[0]
            per[top][0] += int(m.group(1)) / 1e6
            per[top][1] += 1
    return {k: (v[0], int(v[1])) for k, v in per.items()}


# ----- (c) a provider ceiling -----------------------------------------------------------------------

def ceiling(server, args, folder: Path, prices: PriceTable) -> dict:
    server.max_concurrent_ok = args.ceiling
    over_before = server.over_ceiling
    try:
        db = folder / "ceiling.db"
        spec = loads(experiment(server.base_url("openai"), args.calls), "ceiling.toml")
        with open_workspace(db) as store:
            plan = build_plan(spec, provider_configs(spec, []))
            prepared = prepare_run(store, plan, RunOptions(concurrency=args.concurrency), prices)
        stamped: list[tuple[float, int]] = []

        def on_event(event) -> None:
            if isinstance(event, ProviderLimit):
                stamped.append((time.monotonic(), event.limit))

        runner = Runner(db, prepared, prices=prices, on_event=on_event, client_factory=lambda c: ProviderClient(
            c, key_lookup=lambda _c: fake_provider.API_KEY, prices=prices))
        started = time.monotonic()
        finished = asyncio.run(runner.run())
        ended = time.monotonic()
    finally:
        server.max_concurrent_ok = None
    cut = next((i for i, (_, limit) in enumerate(stamped) if limit < stamped[0][1]), len(stamped) - 1)
    return {"finished": finished, "seconds": ended - started, "over": server.over_ceiling - over_before,
            "mean": weighted(stamped, ended), "mean_after_cut": weighted(stamped[cut:], ended),
            "near": share(stamped[cut:], ended, lambda limit: args.ceiling - 3 <= limit <= args.ceiling),
            "final": stamped[-1][1], "moves": [limit for _, limit in stamped]}


def _spans(stamped: list[tuple[float, int]], end: float) -> list[tuple[float, int]]:
    return [(until - at, limit) for (at, limit), (until, _) in zip(stamped, [*stamped[1:], (end, 0)])]


def weighted(stamped: list[tuple[float, int]], end: float) -> float:
    spans = _spans(stamped, end)
    return sum(s * limit for s, limit in spans) / sum(s for s, _ in spans)


def share(stamped: list[tuple[float, int]], end: float, test) -> float:
    spans = _spans(stamped, end)
    return sum(s for s, limit in spans if test(limit)) / sum(s for s, _ in spans)


# ----- report -----------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ceiling", type=int, default=8)
    args = parser.parse_args()
    server = fake_provider.FakeProviderServer().start()
    server.latency = args.latency
    # The fake reads every request and every chunk it sends with the OpenAI SDK's models, about
    # a millisecond of CPU per call; the benchmark measures the clients, so it keeps only its
    # short hand-written rules.
    server.sdk_checks = False
    prices = PriceTable.load()
    try:
        with tempfile.TemporaryDirectory() as folder:
            a = throughput(server, args, Path(folder))
            c = ceiling(server, args, Path(folder), prices)
    finally:
        server.stop()
    med = {k: statistics.median(v) for k, v in a.items() if isinstance(v, list)}
    ideal = args.calls / args.concurrency * args.latency
    rounds = lambda key: ", ".join(f"{t:.2f}" for t in a[key])  # noqa: E731
    print(f"(a) {args.calls} streamed calls, {args.latency:g} s each, --concurrency {args.concurrency} "
          f"(ideal calls span {ideal:.2f} s), {args.rounds} rounds, medians")
    print(f"    httpx loop   calls {med['httpx_calls']:.3f} s ({rounds('httpx_calls')})   "
          f"process {med['httpx_wall']:.3f} s")
    print(f"    lab run      calls {med['lab_calls']:.3f} s ({rounds('lab_calls')})   "
          f"process {med['lab_wall']:.3f} s ({rounds('lab_wall')})")
    print(f"    lab run, app-only install: calls {med['app_calls']:.3f} s   process {med['app_wall']:.3f} s")
    print(f"    ratio lab / httpx: calls {med['lab_calls'] / med['httpx_calls']:.3f} (target <= 1.05); "
          f"whole process {med['lab_wall'] / med['httpx_wall']:.3f}")
    print(f"(b) peak RSS of lab run: {med['lab_rss']:.0f} MB here, {med['app_rss']:.0f} MB app-only "
          f"(target <= 80 MB); httpx loop {med['httpx_rss']:.0f} MB")
    print(f"    made of: bare python {a['bare_rss']:.0f} MB; `import lab.cli.run` {a['imports_rss']:.0f} MB here, "
          f"{a['app_imports_rss']:.0f} MB app-only; the run itself adds "
          f"{med['app_rss'] - a['app_imports_rss']:.0f} MB app-only")
    full, app = a["importtime_full"], a["importtime_app"]
    extra = sorted((k for k in full if k not in app), key=lambda k: -full[k][0])
    print("    imported here but not app-only: " + ", ".join(
        f"{k} ({full[k][1]} modules, {full[k][0]:.2f} s)" for k in extra[:8] if full[k][1] >= 3))
    top = sorted(app, key=lambda k: -app[k][0])[:10]
    print("    app-only imports by own import time: " + ", ".join(
        f"{k} {app[k][0]:.2f} s/{app[k][1]}" for k in top) + f"; {sum(n for _, n in app.values())} modules")
    f = c["finished"]
    print(f"(c) the fake answers 429 (retry-after) beyond {args.ceiling} in flight; the run asks for "
          f"{args.concurrency}: {f.calls} calls, {f.errors} failed, {c['over']} answered 429, "
          f"{c['seconds']:.2f} s (ideal {args.calls / args.ceiling * args.latency:.2f} s)")
    print(f"    limit, time-weighted mean: {c['mean']:.2f} over the run, {c['mean_after_cut']:.2f} after its "
          f"first cut ({c['near']:.0%} of that time at {args.ceiling - 3}..{args.ceiling}); final {c['final']}")
    print(f"    moves: {' '.join(map(str, c['moves']))}")


if __name__ == "__main__":
    main()
