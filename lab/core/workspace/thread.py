"""One background thread that owns a workspace connection and runs store work in order.

The GUI must never wait on the disk, and a SQLite connection must not be used from two threads at
once. So every read and write the GUI asks for is submitted here and comes back as a
`concurrent.futures.Future`; the GUI layer turns completion into a queued Qt signal. Work runs in
submission order, which also makes "save, then reload" sequences safe without locks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # the store (sqlite-utils) is imported on this thread when it opens
    from lab.core.workspace.store import Store

T = TypeVar("T")


class StoreThread:
    """Runs `fn(store)` calls one at a time on a dedicated thread."""

    def __init__(self, opener: Callable[[], Store], *, held: bool = False):
        """`held`: the workspace opens only once `release()` is called. The window holds it
        until its first paint: opening it (importing sqlite-utils, migrating) on this thread
        while the GUI thread builds the window would make both slower, as they share the GIL."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lab-store")
        self._store: Store | None = None
        self._opener = opener
        self._go = threading.Event()
        if not held:
            self._go.set()
        self.opened: Future[Store] = self._executor.submit(self._open)

    def release(self) -> None:
        """Let a held workspace open (work submitted meanwhile runs after it, in order)."""
        self._go.set()

    def _open(self) -> Store:
        self._go.wait()
        self._store = self._opener()
        return self._store

    @property
    def path(self) -> Path | None:
        return self._store.path if self._store else None

    def submit(self, fn: Callable[[Store], T]) -> Future[T]:
        def run() -> T:
            if self._store is None:
                # The open failed; the same error reaches whoever asked for this work.
                self.opened.result()
                raise RuntimeError("workspace is not open")
            return fn(self._store)

        return self._executor.submit(run)

    def close(self, wait: bool = True) -> None:
        self._go.set()  # a held workspace that never opened: its thread must not wait forever

        def shut() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None

        try:
            self._executor.submit(shut)
        except RuntimeError:
            return  # already shut down
        self._executor.shutdown(wait=wait)
