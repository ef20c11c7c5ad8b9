"""The store thread: work runs in order on one thread; a held workspace opens when released
(the window releases it after its first paint), and a program that ends first is not kept
waiting for it."""

from __future__ import annotations

import subprocess
import sys
import threading

from lab.core.workspace.location import open_default_workspace
from lab.core.workspace.thread import StoreThread


def test_work_runs_in_order_on_one_thread(tmp_path):
    store = StoreThread(lambda: open_default_workspace(tmp_path / "w.db"))
    try:
        seen = [store.submit(lambda s, i=i: (i, threading.current_thread().name)) for i in range(5)]
        results = [f.result(timeout=30) for f in seen]
        assert [i for i, _ in results] == [0, 1, 2, 3, 4]
        assert len({name for _, name in results}) == 1
        assert store.path == tmp_path / "w.db"
    finally:
        store.close()


def test_a_held_workspace_opens_only_when_released(tmp_path):
    opened = threading.Event()

    def opener():
        opened.set()
        return open_default_workspace(tmp_path / "w.db")

    store = StoreThread(opener, held=True)
    try:
        projects = store.submit(lambda s: [p["name"] for p in s.list_projects()])
        assert not opened.wait(0.3)
        assert not (tmp_path / "w.db").exists()
        store.release()
        assert projects.result(timeout=30), "the sample project is there once it opened"
        assert opened.is_set()
    finally:
        store.close()


def test_a_program_that_ends_before_releasing_its_workspace_still_exits(tmp_path):
    code = ("import sys\nfrom lab.core.workspace.thread import StoreThread\n"
            "from lab.core.workspace.location import open_default_workspace\n"
            f"store = StoreThread(lambda: open_default_workspace({str(tmp_path / 'w.db')!r}), held=True)\n"
            "print('started')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "started", out.stderr
    assert not (tmp_path / "w.db").exists()


def test_closing_a_held_store_ends_its_thread(tmp_path):
    store = StoreThread(lambda: open_default_workspace(tmp_path / "w.db"), held=True)
    store.close()
    assert [t for t in threading.enumerate() if t.name.startswith("lab-store")
            and t.is_alive()] == []
