"""The one writer of a run: a background thread that owns its own workspace connection.

Every finished call is handed to `save` the moment it ends and lands in SQLite within
`interval` seconds (or sooner, once `batch_size` records are waiting), many calls per
transaction: one commit per call would cap a fast local model at the disk's fsync rate. Other
writes the run needs (creating the run row, prompt versions, finishing the run) go through
`submit`, in the same queue, so the database sees everything in the order it happened.

A record is committed together with its check results, so after a crash a call is either there
with its checks or not there at all; nothing half-written survives a kill.

If a write fails (disk full, file read-only), the writer keeps the error, calls `on_error`
once, and drops later records; the runner stops the run and shows the error.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

from lab.core.workspace.runs import CallRecord, CheckRecord

if TYPE_CHECKING:  # annotations only: loaded where used, not at import
    from lab.core.workspace.store import Store


T = TypeVar("T")
_STOP = object()


class CallWriter:
    def __init__(
        self,
        open_store: Callable[[], Store],
        *,
        batch_size: int = 200,
        interval: float = 0.05,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._open_store = open_store
        self.batch_size = batch_size
        self.interval = interval
        self.on_error = on_error
        self.error: BaseException | None = None
        self.saved = 0  # records written so far
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._main, name="lab-call-writer", daemon=True)
        self._opened: Future[None] = Future()

    def start(self) -> CallWriter:
        self._thread.start()
        self._opened.result()  # the workspace cannot be opened: say so now, not at the first call
        return self

    def save(self, record: CallRecord | CheckRecord) -> None:
        """Queue a record; thread-safe and never blocks on the disk."""
        self._queue.put(record)

    def submit(self, fn: Callable[[Store], T]) -> Future[T]:
        """Run `fn(store)` on the writer thread after everything queued before it."""
        future: Future[T] = Future()
        self._queue.put((fn, future))
        return future

    def stop(self) -> None:
        """Write whatever is queued, close the connection and end the thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    # ----- the writer thread -----------------------------------------------------------------

    def _main(self) -> None:
        try:
            store = self._open_store()
        except BaseException as exc:  # reported to start()'s caller
            self._opened.set_exception(exc)
            return
        self._opened.set_result(None)
        try:
            self._loop(store)
        finally:
            store.close()

    def _loop(self, store: Store) -> None:
        batch: list[CallRecord | CheckRecord] = []
        deadline = 0.0
        while True:
            timeout = None if not batch else max(0.0, deadline - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                self._write(store, batch)
                batch = []
                continue
            if isinstance(item, (CallRecord, CheckRecord)):
                if not batch:
                    deadline = time.monotonic() + self.interval
                batch.append(item)
                if len(batch) >= self.batch_size:
                    self._write(store, batch)
                    batch = []
                continue
            # A function or the stop marker: everything queued before it goes to disk first.
            self._write(store, batch)
            batch = []
            if item is _STOP:
                return
            fn, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(store))
            except BaseException as exc:
                future.set_exception(exc)

    def _write(self, store: Store, batch: list[CallRecord | CheckRecord]) -> None:
        if not batch or self.error is not None:
            return
        try:
            store.save_run_records(batch)
        except Exception as exc:
            self.error = exc
            if self.on_error is not None:
                self.on_error(exc)
            return
        self.saved += len(batch)
