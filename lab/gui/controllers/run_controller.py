"""One run at a time: pre-flight estimate, start, cancel, resume; runner events as Qt signals.

The core runner works on its own thread and reports plain event dataclasses. They go into a
thread-safe queue that the GUI thread drains on a timer, a few milliseconds at a time: a burst
of streamed text from 32 calls in flight then costs many short slices instead of one long stall
(bench/gui_responsiveness.py measures it). Preparation (plan, cache lookups, estimate) runs on
the store thread. The GUI thread never waits on either.
"""

from __future__ import annotations

import copy
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from lab.core.experiment.file import ExperimentSpec
from lab.core.model import Project
from lab.core.run.readiness import ProviderProblem, missing_keys, unreachable_servers
from lab.core.run.trust import WINDOW_SOURCE
from lab.core.runtime.async_thread import AsyncLoopThread
from lab.core.workspace.location import user_prices_path
from lab.core.workspace.providers import configured_providers
from lab.core.workspace.thread import StoreThread
from lab.gui.tasks import when_done

if TYPE_CHECKING:  # loaded when first used (store thread, first run), not before the first paint
    from concurrent.futures import Future

    from lab.core.providers.pricing import PriceTable
    from lab.core.run.setup import PreparedRun, RunOptions
    from lab.core.run.runner import Runner
    from lab.core.workspace.store import Store


# The run machinery (planning, pricing, the runner) is imported where it is used — on the store
# thread, or when a run starts — so the window's first paint does not wait for it.


def load_prices() -> PriceTable:
    """The default price table, with the user's own edits ($LAB_HOME/prices.toml) on top."""
    from lab.core.providers.pricing import PriceTable

    return PriceTable.load(user_prices_path())


def _problems(exc: BaseException) -> list[str]:
    from lab.core.run.plan import PlanError

    return exc.problems if isinstance(exc, PlanError) else [str(exc)]


@dataclass
class RunRequest:
    """What a run of the window's project is planned from."""

    project: Project
    samples: int = 1
    budget_usd: float | None = None
    no_cache: bool = False
    # The experiment file's own [providers] tables, for a project opened from a file.
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Its python checks may run: the user's own project, or a file they trusted.
    trusted: bool = True
    # Where it comes from: its experiment file, or the window. A resume asks the file again
    # whether its code may run (lab.core.run.trust.resume_trusted).
    source: str = WINDOW_SOURCE

    def options(self) -> RunOptions:
        from lab.core.run.setup import RunOptions

        return RunOptions(no_cache=self.no_cache, budget_usd=self.budget_usd)

    def key(self) -> str:
        """Everything a plan depends on, as text: equal keys plan the same calls."""
        return (f"{self.samples}|{self.budget_usd}|{self.no_cache}|{self.providers!r}|"
                f"{self.trusted}|{self.source}|{self.project!r}")


Prepared = tuple["PreparedRun", list[ProviderProblem]]  # the run, and providers that lack a key


def _prepare(store: Store, request: RunRequest, prices: PriceTable) -> Prepared:
    from lab.core.run.plan import build_plan, provider_configs
    from lab.core.run.setup import prepare_run

    spec = ExperimentSpec(project=request.project, samples=request.samples,
                          providers=request.providers, source=None)
    plan = build_plan(spec, provider_configs(spec, configured_providers(store)), request.samples)
    prepared = prepare_run(store, plan, request.options(), prices, source=request.source,
                           project_id=request.project.id, trusted=request.trusted)
    return prepared, missing_keys(plan)


def _prepare_resume(store: Store, run_id: int, prices: PriceTable) -> Prepared:
    from lab.core.run.setup import RunOptions, prepare_resume

    prepared = prepare_resume(store, run_id, configured_providers(store), RunOptions(), prices)
    return prepared, missing_keys(prepared.plan)


class RunController(QObject):
    """One run at a time. Signals carry the core's own event objects."""

    event = Signal(object)  # RunStarted, CallStarted, CallDelta, CallFinished, ... (GUI thread)
    estimated = Signal(object)  # PreparedRun, or a list of problem strings
    readiness = Signal(list)  # ProviderProblems: providers the planned run could not call
    started = Signal(object)  # PreparedRun
    finished = Signal(object)  # RunFinished, or an exception
    refused = Signal(list)  # problems that stopped a run before any call
    prices_changed = Signal()

    def __init__(self, store: StoreThread, network: AsyncLoopThread,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._store = store
        self._network = network  # local servers are probed on its loop
        # Read off the GUI thread (never a wait on the disk); whoever needs the table first —
        # an estimate on the store thread — waits for it there.
        self._prices: Future[PriceTable] = store.submit(lambda _store: load_prices())
        self.runner: Runner | None = None
        self._estimate_generation = 0
        self._events: deque[Any] = deque()  # appended on the run's thread, drained on ours
        # The newest estimate's plan, keyed by what it was planned from: pressing Run on an
        # unchanged project launches it at once instead of planning the same calls again.
        self._estimated: tuple[str, Prepared] | None = None
        self._outcome: Any = None
        self._finished = False
        self._starting = False
        self._drain_timer = QTimer(self)
        self._drain_timer.setInterval(self.DRAIN_INTERVAL_MS)
        self._drain_timer.timeout.connect(self._drain)

    DRAIN_INTERVAL_MS = 30
    DRAIN_BUDGET_S = 0.008

    def _drain(self) -> None:
        deadline = time.perf_counter() + self.DRAIN_BUDGET_S
        while self._events and time.perf_counter() < deadline:
            self.event.emit(self._events.popleft())
        if self._finished and not self._events:
            # Only now: the grid has seen every event before it hears the run ended.
            self._drain_timer.stop()
            self._finished = False
            self.runner = None
            self.finished.emit(self._outcome)

    @property
    def running(self) -> bool:
        return self.runner is not None

    @property
    def busy(self) -> bool:
        """A run is being prepared or is running."""
        return self._starting or self.running

    @property
    def prices(self) -> PriceTable:
        return self._prices.result()

    def set_store(self, store: StoreThread) -> None:
        self._store = store

    def reload_prices(self) -> None:
        """Read the price table again (the user added a price); a new estimate should follow."""
        future = self._network.run_blocking(load_prices)

        def loaded(_prices: PriceTable) -> None:
            self._prices = future
            self._estimated = None
            self.prices_changed.emit()

        when_done(future, loaded, lambda _exc: None)

    # ---------------------------------------------------------------- pre-flight

    def estimate(self, request: RunRequest) -> None:
        """Plan the run and price it, off the GUI thread; the newest request wins. Whether its
        providers can be called (keys, local servers) follows as `readiness`."""
        self._estimate_generation += 1
        generation = self._estimate_generation
        request = replace(request, project=copy.deepcopy(request.project))
        key = request.key()
        prices = self._prices
        future = self._store.submit(lambda store: _prepare(store, request, prices.result()))

        def done(prepared: Prepared) -> None:
            if generation != self._estimate_generation:
                return
            self._estimated = (key, prepared)
            self.estimated.emit(prepared[0])
            self._probe(prepared, lambda problems: (
                generation == self._estimate_generation and self.readiness.emit(problems)))

        def failed(exc: BaseException) -> None:
            if generation == self._estimate_generation:
                self.estimated.emit(_problems(exc))
                self.readiness.emit([])

        when_done(future, done, failed)

    def _probe(self, prepared: Prepared, then) -> None:
        """`then(problems)`: the keys the run lacks, and the local servers that do not answer."""
        run, no_keys = prepared
        when_done(self._network.submit(unreachable_servers(run.plan)),
                  lambda down: then([*no_keys, *down]), lambda _exc: then(no_keys))

    # ---------------------------------------------------------------- running

    def start(self, request: RunRequest) -> None:
        if self.busy:
            return
        request = replace(request, project=copy.deepcopy(request.project))
        estimated, self._estimated = self._estimated, None
        self._starting = True
        if estimated is not None and estimated[0] == request.key():
            self._check_and_launch(estimated[1])
            return
        prices = self._prices
        future = self._store.submit(lambda store: _prepare(store, request, prices.result()))
        when_done(future, self._check_and_launch, self._refuse)

    def resume(self, run_id: int) -> None:
        if self.busy:
            return
        self._starting = True
        prices = self._prices
        future = self._store.submit(lambda store: _prepare_resume(store, run_id, prices.result()))
        when_done(future, self._check_and_launch, self._refuse)

    def cancel(self) -> None:
        if self.runner is not None:
            self.runner.cancel()

    def _refuse(self, exc: BaseException) -> None:
        self._starting = False
        self.refused.emit(_problems(exc))

    def _check_and_launch(self, prepared: Prepared) -> None:
        def checked(problems: list[ProviderProblem]) -> None:
            self.readiness.emit(problems)
            if problems:
                self._starting = False
                self.refused.emit([p.message for p in problems])
            else:
                self._launch(prepared[0])

        self._probe(prepared, checked)

    def _launch(self, prepared: PreparedRun) -> None:
        self._starting = False
        if self.running:
            return
        path = self._store.path
        self._events.clear()
        self._finished = False
        from lab.core.run.runner import (
            Runner,  # the network stack, loaded after the first paint
        )

        self.runner = Runner(path, prepared, on_event=self._events.append, prices=self.prices)
        self.started.emit(prepared)
        self._drain_timer.start()
        when_done(self.runner.start_in_thread(), self._done, self._done)

    def _done(self, outcome: Any) -> None:
        self._outcome = outcome
        self._finished = True
        self._drain()
