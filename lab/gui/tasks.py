"""Delivering background results to the GUI thread.

Core work (store reads and writes, later runs) comes back as `concurrent.futures.Future`s finished on
other threads. `when_done` hops the outcome back to the GUI thread through a queued signal, so
widgets are only ever touched there, and a failure always reaches a visible handler.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot


class _Relay(QObject):
    """Lives on the GUI thread; its signal is emitted from worker threads (queued delivery)."""

    finished = Signal(object, object, object)  # (callback, result, error)

    def __init__(self) -> None:
        super().__init__()
        self.finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @Slot(object, object, object)
    def _deliver(self, callback: Callable[..., None], result: Any, error: Any) -> None:
        callback(result, error)


_relay: _Relay | None = None


def _get_relay() -> _Relay:
    global _relay
    if _relay is None:
        _relay = _Relay()
    return _relay


def when_done(
    future: Future[Any],
    on_result: Callable[[Any], None],
    on_error: Callable[[BaseException], None],
) -> None:
    """Call on_result(value) or on_error(exc) on the GUI thread once `future` finishes."""
    relay = _get_relay()

    def deliver(result: Any, error: BaseException | None) -> None:
        if error is not None:
            on_error(error)
        else:
            on_result(result)

    def done(fut: Future[Any]) -> None:
        if fut.cancelled():
            return
        error = fut.exception()
        relay.finished.emit(deliver, None if error else fut.result(), error)

    future.add_done_callback(done)
