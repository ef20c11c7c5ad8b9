"""The background event loop: started by the first work, results back as futures, work after
closing dropped (the window closed while answers were still arriving)."""

from __future__ import annotations

import asyncio
import threading

from lab.core.runtime.async_thread import AsyncLoopThread


def loop_threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name and t.is_alive()]


def test_the_loop_starts_with_the_first_work_and_answers_it():
    loops = AsyncLoopThread(name="lab-async-test-start")
    try:
        assert loop_threads("lab-async-test-start") == []  # nothing runs until work comes

        async def add(a: int, b: int) -> int:
            await asyncio.sleep(0)
            return a + b

        assert loops.submit(add(2, 3)).result(timeout=10) == 5
        assert len(loop_threads("lab-async-test-start")) == 1
        caller = threading.get_ident()
        assert loops.run_blocking(threading.get_ident).result(timeout=10) != caller
    finally:
        loops.close()
    assert loop_threads("lab-async-test-start") == []
    assert loops.closed


def test_work_after_closing_is_dropped_not_run():
    loops = AsyncLoopThread(name="lab-async-test-close")
    assert loops.submit(asyncio.sleep(0, result="ran")).result(timeout=10) == "ran"
    loops.close()
    ran = []

    async def late() -> None:
        ran.append(True)

    dropped = loops.submit(late())
    assert dropped.cancelled() and ran == []


def test_closing_before_any_work_starts_nothing():
    loops = AsyncLoopThread(name="lab-async-test-never")
    loops.close()
    assert loops.closed
    assert loops.submit(asyncio.sleep(0)).cancelled()
    assert loop_threads("lab-async-test-never") == []
