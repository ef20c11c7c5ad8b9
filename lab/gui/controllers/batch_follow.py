"""Following batch runs' batches in the background while the window goes on with other work.

One session per run: a `BatchRunner` with `BatchOptions(collect_only=True)` on its own thread,
which polls the run's batches still at a provider (backing off as the core does) and logs each
batch's results as it ends; it sends nothing new. A session starts for every run with open
batches when a workspace opens (`follow_open`), and for a run the window has just sent as
batches. `stop` lets a run go without cancelling its batches (they stay at the provider and
are followed again when the workspace next opens, or the run is resumed); `cancel` cancels them
at the provider. Closing the window (`close`) lets every run go.

Preparation (the run's plan, from the workspace) happens on the store thread; events come back
through a queue drained on the GUI thread a few milliseconds at a time, as the run
controller's do. The GUI thread never waits on the network or the disk.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from lab.core.workspace.providers import configured_providers
from lab.core.workspace.thread import StoreThread
from lab.gui.tasks import when_done

if TYPE_CHECKING:  # loaded on the store thread when a run is first followed
    from concurrent.futures import Future

    from lab.core.providers.pricing import PriceTable
    from lab.core.run.setup import PreparedRun
    from lab.core.workspace.store import Store


def _prepare(store: Store, run_id: int, prices: PriceTable) -> PreparedRun:
    """Run `run_id` as a session that only collects its open batches (store thread)."""
    from lab.core.run.batch import BatchRunner  # noqa: F401  # loaded here, not on the GUI thread
    from lab.core.run.batch_plan import BatchOptions, with_batches
    from lab.core.run.setup import RunOptions, prepare_resume

    prepared = prepare_resume(store, run_id, configured_providers(store), RunOptions(), prices)
    return with_batches(store, prepared, prices, options=BatchOptions.from_env(collect_only=True))


@dataclass
class Followed:
    """A run being followed."""

    run_id: int
    runner: Any = None  # its BatchRunner, once prepared
    stopping: str = ""  # "leave" or "cancel", once asked
    outcome: Any = None  # RunFinished or an exception, once its session ended
    ended: bool = False
    then: list[Callable[[], None]] = field(default_factory=list)  # once it has ended


class BatchFollowing(QObject):
    """The runs whose batches the window follows. Signals come on the GUI thread."""

    event = Signal(int, object)  # run id, an event of its session (BatchProgress, CallFinished…)
    changed = Signal()  # a run started or stopped being followed
    ended = Signal(int, object)  # run id, RunFinished / an exception / None (never started)
    refused = Signal(int, list)  # run id, why its batches cannot be followed

    DRAIN_INTERVAL_MS = 50
    DRAIN_BUDGET_S = 0.008

    def __init__(self, store: StoreThread, prices: Callable[[], Future[PriceTable]],
                 parent: QObject | None = None):
        super().__init__(parent)
        self._store = store
        self._prices = prices
        self._runs: dict[int, Followed] = {}
        self._events: deque[tuple[int, Any]] = deque()  # appended on the sessions' threads
        self._closed = False
        self._timer = QTimer(self)
        self._timer.setInterval(self.DRAIN_INTERVAL_MS)
        self._timer.timeout.connect(self._drain)

    # ---- what is followed

    def follows(self, run_id: int | None) -> bool:
        return run_id in self._runs and not self._runs[run_id].stopping

    @property
    def runs(self) -> list[int]:
        """The runs followed now (not those being let go)."""
        return [r for r, f in self._runs.items() if not f.stopping]

    def follow_open(self) -> None:
        """Follow every run of the workspace that has batches at a provider."""
        store = self._store
        when_done(store.submit(lambda s: s.runs_with_open_batches()),
                  lambda ids: [self.follow(r) for r in ids if store is self._store],
                  lambda exc: None)  # the workspace did not open: the window says so

    def holds(self, run_id: int | None) -> bool:
        """A session of `run_id` is running, followed or being let go."""
        return run_id in self._runs

    def follow(self, run_id: int) -> None:
        if self._closed:
            return
        earlier = self._runs.get(run_id)
        if earlier is not None:
            if earlier.stopping == "leave":  # followed again once the last session has ended
                earlier.then.append(lambda: self.follow(run_id))
            return
        f = self._runs[run_id] = Followed(run_id)
        store, prices = self._store, self._prices()
        when_done(store.submit(lambda s: _prepare(s, run_id, prices.result())),
                  lambda prepared: self._launch(f, prepared, store, prices.result()),
                  lambda exc: self._not_followed(f, exc))
        self.changed.emit()

    def _launch(self, f: Followed, prepared: PreparedRun, store: StoreThread,
                prices: PriceTable) -> None:
        if f.stopping == "leave" or store is not self._store:
            self._finished(f, None)
            return
        from lab.core.run.batch import BatchRunner
        from lab.core.run.batch_plan import BatchOptions

        run_id = f.run_id
        f.runner = BatchRunner(store.path, prepared, prices=prices,
                               on_event=lambda event: self._events.append((run_id, event)),
                               batch_options=BatchOptions.from_env(collect_only=True))
        if f.stopping == "cancel":
            f.runner.cancel()
        self._timer.start()
        when_done(f.runner.start_in_thread(), lambda out: self._finished(f, out),
                  lambda exc: self._finished(f, exc))

    def _not_followed(self, f: Followed, exc: BaseException) -> None:
        from lab.core.run.plan import PlanError

        problems = exc.problems if isinstance(exc, PlanError) else [str(exc)]
        self._finished(f, None)
        self.refused.emit(f.run_id, problems)

    # ---- letting go

    def stop(self, run_id: int, then: Callable[[], None] | None = None) -> None:
        """Stop following `run_id` without cancelling its batches; `then()` once its session
        has ended (at once if it is not followed)."""
        f = self._runs.get(run_id)
        if f is None:
            if then is not None:
                then()
            return
        if then is not None:
            f.then.append(then)
        if not f.stopping:
            f.stopping = "leave"
            if f.runner is not None:
                f.runner.leave()
            self.changed.emit()

    def cancel(self, run_id: int) -> None:
        """Cancel `run_id`'s batches at the provider (what they finished is billed, and is
        collected when the run is resumed)."""
        f = self._runs.get(run_id)
        if f is None or f.stopping:
            return
        f.stopping = "cancel"
        if f.runner is not None:
            f.runner.cancel()
        self.changed.emit()

    def set_store(self, store: StoreThread) -> None:
        """Another workspace: the runs of the one before are let go."""
        for run_id in list(self._runs):
            self.stop(run_id)
        self._store = store

    def close(self) -> None:
        """The window closes: no run is followed any more (their batches stay at the
        providers; results being logged are logged to the end); `ended_all` says when every
        session has ended."""
        self._closed = True
        for run_id in list(self._runs):
            self.stop(run_id)

    @property
    def closed(self) -> bool:
        """The window closed (nothing is followed from now on)."""
        return self._closed

    @property
    def ended_all(self) -> bool:
        return not self._runs

    # ---- events

    def _finished(self, f: Followed, outcome: Any) -> None:
        f.outcome, f.ended = outcome, True
        self._drain()

    def _drain(self) -> None:
        deadline = time.perf_counter() + self.DRAIN_BUDGET_S
        while self._events and time.perf_counter() < deadline:
            run_id, event = self._events.popleft()
            self.event.emit(run_id, event)
        if self._events:
            return
        for f in [f for f in self._runs.values() if f.ended]:  # every event of theirs is out
            del self._runs[f.run_id]
            self.ended.emit(f.run_id, f.outcome)
            for then in f.then:
                then()
            self.changed.emit()
        if not self._runs:
            self._timer.stop()
