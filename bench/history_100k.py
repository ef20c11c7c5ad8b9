"""History on a workspace with 100,000 logged calls: how long opening it and a full-text search
take in the real window's lazy model (through the store thread), side by side with a bare sqlite3
query for the same page in the same process, and the memory the process holds.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/history_100k.py [--calls 100000] [--repeat 7]

Targets (issue 5): opening History and a search each under 300 ms.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = ("refund", "parcel", "delivery", "exchange", "warranty", "boots", "tent", "jacket",
         "apology", "discount", "receipt", "tracking")


def build(path: Path, calls: int) -> float:
    from lab.core.model import Call, Usage
    from lab.core.workspace.store import open_workspace

    started = time.perf_counter()
    with open_workspace(path) as store:
        batch = 5000
        for start in range(0, calls, batch):
            store.insert_calls(
                Call(provider="openai", model="gpt-4o-mini", variant_name="AB"[i % 2],
                     request={"messages": [{"role": "user", "content": f"Question {i} about "
                                                                       f"{WORDS[i % 12]}"}]},
                     status="ok", response_text=f"Hi, about your {WORDS[(i * 7) % 12]}: reply "
                                                f"number {i}. " + "We will sort it out today. " * 4,
                     usage=Usage(120, 60), latency_ms=800.0, cost_usd=0.0001)
                for i in range(start, min(start + batch, calls)))
    return time.perf_counter() - started


def bare_page(path: Path, search: str | None) -> float:
    from lab.core.workspace.history import fts_query

    conn = sqlite3.connect(path)
    started = time.perf_counter()
    if search:
        conn.execute("SELECT id, substr(response_text, 1, 300) FROM calls WHERE id IN (SELECT rowid"
                     " FROM calls_fts WHERE calls_fts MATCH ?) ORDER BY id DESC LIMIT 200",
                     [fts_query(search)]).fetchall()
    else:
        conn.execute("SELECT id, substr(response_text, 1, 300) FROM calls ORDER BY id DESC"
                     " LIMIT 200").fetchall()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication, QTableView

    from lab.core.workspace.store import open_workspace
    from lab.core.workspace.thread import StoreThread
    from lab.gui.panes.history import HistoryTableModel

    folder = Path(tempfile.mkdtemp(prefix="lab-bench-history-"))
    path = folder / "workspace.db"
    build_s = build(path, args.calls)
    size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
    print(f"built {args.calls:,} calls in {build_s:.1f} s; workspace {size_mb:.0f} MB")

    app = QApplication(sys.argv[:1])
    store = StoreThread(lambda: open_workspace(path))
    store.opened.result()
    model = HistoryTableModel(store)
    view = QTableView()
    view.setModel(model)
    view.resize(1200, 600)
    view.show()

    def timed(search: str | None) -> float:
        loop = QEventLoop()
        model.loaded.connect(loop.quit)
        started = time.perf_counter()
        model.set_search(search)
        loop.exec()
        app.processEvents()  # the view paints the first page
        model.loaded.disconnect(loop.quit)
        return time.perf_counter() - started

    results = {}
    for label, search in (("open History", None), ("search 'refund'", "refund"),
                          ("search 'reply number 4242'", "reply number 4242")):
        lab_times = [timed(search) for _ in range(args.repeat)]
        bare_times = [bare_page(path, search) for _ in range(args.repeat)]
        lab_ms, bare_ms = statistics.median(lab_times) * 1000, statistics.median(bare_times) * 1000
        results[label] = (lab_ms, bare_ms)
        print(f"{label:<28} lab median {lab_ms:7.1f} ms   bare sqlite3 {bare_ms:6.1f} ms   "
              f"rows {model.rowCount()}")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the process: {rss_mb:.0f} MB")
    store.close()
    worst = max(v[0] for v in results.values())
    print(f"target: each under 300 ms -> {'met' if worst < 300 else 'NOT met'} (worst {worst:.1f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
