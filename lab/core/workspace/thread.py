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
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # the store (sqlite-utils) is imported on this thread when it opens
    from lab.core.workspace.store import Store

T = TypeVar("T")


class StoreThread:
    """Runs `fn(store)` calls one at a time on a dedicated thread."""

    def __init__(self, opener: Callable[[], Store], *, held: bool = False):
        """`held`: the workspace opens only once `release()` is called; work submitted meanwhile
        waits and then runs after the open, in order. The window holds it until its first paint:
        opened on this thread while the GUI thread builds the window, both would go slower, as
        they share the GIL. Until released, no thread exists (a program that ends first is not
        kept waiting)."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lab-store")
        self._store: Store | None = None
        self._opener = opener
        self._lock = threading.Lock()
        self._waiting: list[tuple[Future[Any], Callable[[], Any]]] | None = [] if held else None
        self.opened: Future[Store] = Future()
        if not held:
            self._executor.submit(self._open)

    def release(self) -> None:
        """Open a held workspace, then run the work that waited for it."""
        with self._lock:
            waiting, self._waiting = self._waiting, None
            if waiting is None:
                return
            self._executor.submit(self._open)
            for outer, run in waiting:
                _forward(self._executor.submit(run), outer)

    def _open(self) -> None:
        try:
            self._store = self._opener()
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the workspace
            self.opened.set_exception(exc)
        else:
            self.opened.set_result(self._store)

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

        with self._lock:
            if self._waiting is not None:
                later: Future[T] = Future()
                self._waiting.append((later, run))
                return later
            return self._executor.submit(run)

    def close(self, wait: bool = True) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, None
        for outer, _run in waiting or ():
            outer.cancel()  # a held workspace that never opened: its work never runs
        if waiting is not None and not self.opened.done():
            self.opened.cancel()

        def shut() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None

        try:
            self._executor.submit(shut)
        except RuntimeError:
            return  # already shut down
        self._executor.shutdown(wait=wait)


def _forward(inner: Future[T], outer: Future[T]) -> None:
    """When `inner` finishes, finish `outer` the same way (unless its caller cancelled it)."""

    def done(finished: Future[T]) -> None:
        if not outer.set_running_or_notify_cancel():
            return
        error = finished.exception()
        if error is not None:
            outer.set_exception(error)
        else:
            outer.set_result(finished.result())

    inner.add_done_callback(done)
