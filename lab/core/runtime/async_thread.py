"""An asyncio event loop on its own thread, for callers that are not async themselves (the GUI).

Network work (listing models, later whole runs) is submitted as coroutines and comes back as
`concurrent.futures.Future`s; blocking calls (the keyring talks D-Bus) go to the loop's default
executor the same way. The caller never waits unless it chooses to.

The loop and its thread start with the first work submitted, and asyncio is imported then: the
window makes one of these before its first paint, which need not wait for either.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")


class AsyncLoopThread:
    def __init__(self, name: str = "lab-async") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._started: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def _loop(self) -> asyncio.AbstractEventLoop:
        """The loop, started on its thread the first time it is needed."""
        with self._lock:
            if self._started is None:
                import asyncio

                loop = asyncio.new_event_loop()
                if self._closed:
                    loop.close()  # closed before any work came: stays closed, drops work
                else:
                    self._thread = threading.Thread(target=self._run, args=(loop,),
                                                    name=self._name, daemon=True)
                    self._thread.start()
                self._started = loop
            return self._started

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop) -> None:
        import asyncio

        asyncio.set_event_loop(loop)
        loop.run_forever()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    @property
    def closed(self) -> bool:
        return self._closed or (self._started is not None and self._started.is_closed())

    def submit(self, coroutine: Awaitable[T]) -> Future[T]:
        """Run `coroutine` on the loop. Once the loop is closed (the window closed while work
        was still arriving), work is dropped: the coroutine is closed unstarted and the future
        comes back cancelled."""
        if self.closed:
            close = getattr(coroutine, "close", None)
            if close is not None:
                close()
            dropped: Future[T] = Future()
            dropped.cancel()
            return dropped
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)  # type: ignore[arg-type]

    def run_blocking(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run a blocking function off the caller's thread (in the loop's executor)."""
        async def call() -> T:
            import asyncio

            return await asyncio.to_thread(fn, *args)

        return self.submit(call())

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._closed = True
            if self._started is None:
                return  # never started: nothing runs, later work is dropped
        import asyncio

        if not self._loop.is_running():
            return

        async def drain() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._loop.shutdown_default_executor()

        try:
            asyncio.run_coroutine_threadsafe(drain(), self._loop).result(timeout)
        except Exception:  # noqa: BLE001 - closing must not raise; the loop stops regardless
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if not self._loop.is_running():
            self._loop.close()
