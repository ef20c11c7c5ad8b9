"""How responsive the main window stays while a 1,000-call run streams in.

The real main window runs offscreen against the fake provider server on 127.0.0.1 (every answer
streamed, with a fixed latency). The server runs in its own process, as a real provider would:
its request validation must not be counted as the window's work. A 5 ms timer on the GUI thread records how late each tick
fires; the same is measured with the window idle, in the same process, as the baseline.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/gui_responsiveness.py [--calls 1000]
        [--analysis-tab Quality | --no-analysis]

The Analysis view is open (issue 10) on the tab given, recomputed on the store thread at most
once a second while the run streams; the GUI thread only draws that tab. `--no-analysis` closes
it, for comparison.

Targets (issue 5): no stall above 50 ms; 99th percentile lateness under 16 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per fake answer")
    parser.add_argument("--analysis-tab", default="Quality",
                        help="the Analysis view's tab in sight during the run")
    parser.add_argument("--no-analysis", action="store_true", help="close the Analysis view")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="lab-bench-gui-"))
    os.environ["LAB_HOME"] = str(home)
    os.environ["LAB_BENCH_KEY"] = "sk-bench"

    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    from lab.core.model import TestCase
    from lab.core.providers.base import ProviderConfig
    from lab.core.workspace.location import current_project_id, open_default_workspace
    from lab.core.workspace.providers import save_provider
    from lab.gui.app import create_window, make_application
    server = start_server(args.latency)
    base_url = server.stdout.readline().strip()
    cases = args.calls // 2
    with open_default_workspace(home / "workspace.db") as store:
        save_provider(store, ProviderConfig(name="fake", kind="openai", local=False,
                                            base_url=base_url,
                                            api_key_env="LAB_BENCH_KEY", concurrency=32))
        project = store.load_project(current_project_id(store))
        base = project.cases
        project.cases = [TestCase(vars=dict(base[i % len(base)].vars), label=f"case {i}")
                         for i in range(cases)]
        for variant in project.variants:
            variant.model = "fake/gpt-4o-mini"
        store.save_project(project)

    app = make_application(sys.argv[:1])
    window = create_window()
    window.resize(1440, 900)
    window.show()
    from lab.gui.panes.analysis import tab_index

    if args.no_analysis:
        window.analysis_dock.close()
    else:
        window.analysis_dock.show()
        window.analysis_pane.tabs.setCurrentIndex(tab_index(args.analysis_tab))
    drawn: list[float] = []  # GUI-thread milliseconds per analysis drawn
    original_show = window.analysis_pane.show_analysis

    def timed_show(analysis, live=False) -> None:
        began = time.perf_counter()
        original_show(analysis, live)
        drawn.append((time.perf_counter() - began) * 1000)

    window.analysis_pane.show_analysis = timed_show
    loop = QEventLoop()
    QTimer.singleShot(0, lambda: None)
    while window.session.project is None:
        app.processEvents()

    def measure(seconds: float | None, until=None) -> list[float]:
        """Lateness (ms) of a 5 ms GUI-thread timer, for `seconds` or until `until()`."""
        late: list[float] = []
        stamps: list[float] = []
        worst.clear()
        clock = QElapsedTimer()
        clock.start()
        last = [clock.elapsed()]
        ticker = QTimer()
        ticker.setInterval(5)

        def tick() -> None:
            now = clock.elapsed()
            late.append(max(0.0, now - last[0] - 5))
            stamps.append(now)
            last[0] = now
            if (seconds is not None and now > seconds * 1000) or (until and until()):
                ticker.stop()
                loop.quit()

        ticker.timeout.connect(tick)
        ticker.start()
        loop.exec()
        worst.extend(sorted(zip(late, stamps), reverse=True)[:5])
        return late

    worst: list[tuple[float, float]] = []

    settle = QElapsedTimer()
    settle.start()
    while settle.elapsed() < 1000:  # the first paint of the window is start-up, not idling
        app.processEvents()
    idle = measure(3.0)
    started = time.perf_counter()
    window.commands.run_action.trigger()
    busy = measure(None, until=lambda: window.run_status.progress_label.text().startswith(
        ("Run finished", "Run failed", "Run cancelled")))
    run_s = time.perf_counter() - started
    print("worst stalls (ms late, at ms into the run):",
          ", ".join(f"{w:.0f}@{t:.0f}" for w, t in worst))
    print(f"run: {window.run_status.progress_label.text()} in {run_s:.1f} s")
    if drawn:
        print(f"analysis view ({'closed' if args.no_analysis else args.analysis_tab + ' tab'}): "
              f"{len(drawn)} updates drawn, GUI thread {statistics.median(drawn):.1f} ms median, "
              f"{max(drawn):.1f} ms at most per update")
    else:
        print("analysis view: closed, nothing drawn")
    for label, late in (("idle window (baseline)", idle), (f"during the {args.calls}-call run", busy)):
        print(f"{label:<28} ticks {len(late):5d}  p50 {statistics.median(late):5.1f} ms  "
              f"p99 {percentile(late, 99):5.1f} ms  max stall {max(late):6.1f} ms")
    met = max(busy) <= 50 and percentile(busy, 99) < 16
    print(f"targets (max ≤ 50 ms, p99 < 16 ms): {'met' if met else 'NOT met'}")
    window.close()
    window.session.store.close()
    server.terminate()
    return 0


SERVER = """
import sys
sys.path.insert(0, {root!r})
from tests.helpers.fake_provider import FakeProviderServer
server = FakeProviderServer(api_keys=("sk-bench",)).start()
server.latency = {latency!r}
print(server.base_url("openai"), flush=True)
sys.stdin.read()
"""


def start_server(latency: float):
    import subprocess

    root = str(Path(__file__).resolve().parent.parent)
    return subprocess.Popen([sys.executable, "-c", SERVER.format(root=root, latency=latency)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


if __name__ == "__main__":
    raise SystemExit(main())
