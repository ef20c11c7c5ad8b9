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
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from lab.core.experiment.file import ExperimentSpec
from lab.core.model import Project
from lab.core.providers.pricing import PriceTable
from lab.core.run.plan import PlanError, build_plan, provider_configs
from lab.core.run.runner import Runner
from lab.core.run.setup import PreparedRun, RunOptions, prepare_resume, prepare_run
from lab.core.run.trust import WINDOW_SOURCE
from lab.core.workspace.location import user_prices_path
from lab.core.workspace.providers import configured_providers
from lab.core.workspace.store import Store
from lab.core.workspace.thread import StoreThread
from lab.gui.tasks import when_done


def load_prices() -> PriceTable:
    """The default price table, with the user's own edits ($LAB_HOME/prices.toml) on top."""
    return PriceTable.load(user_prices_path())


def _prepare(store: Store, project: Project, samples: int, options: RunOptions,
             prices: PriceTable) -> PreparedRun:
    spec = ExperimentSpec(project=project, samples=samples, source=None)
    plan = build_plan(spec, provider_configs(spec, configured_providers(store)), samples)
    # The window's project holds the user's own checks (typed there, or the shipped sample):
    # trusted. A project opened from an experiment file will have to ask first
    # (lab.core.run.trust.untrusted_code_checks).
    return prepare_run(store, plan, options, prices, source=WINDOW_SOURCE,
                       project_id=project.id, trusted=True)


def _plan_key(project: Project, samples: int) -> str:
    """Everything a plan depends on, as text: equal keys plan the same calls."""
    return f"{samples}|{project!r}"


class RunController(QObject):
    """One run at a time. Signals carry the core's own event objects."""

    event = Signal(object)  # RunStarted, CallStarted, CallDelta, CallFinished, ... (GUI thread)
    estimated = Signal(object)  # PreparedRun, or a list of problem strings
    started = Signal(object)  # PreparedRun
    finished = Signal(object)  # RunFinished, or an exception
    refused = Signal(list)  # problems that stopped a run before any call

    def __init__(self, store: StoreThread, parent: QObject | None = None):
        super().__init__(parent)
        self._store = store
        self._prices = load_prices()
        self.runner: Runner | None = None
        self._estimate_generation = 0
        self._events: deque[Any] = deque()  # appended on the run's thread, drained on ours
        # The newest estimate's plan, keyed by what it was planned from: pressing Run on an
        # unchanged project launches it at once instead of planning the same calls again.
        self._estimated: tuple[str, PreparedRun] | None = None
        self._outcome: Any = None
        self._finished = False
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

    def set_store(self, store: StoreThread) -> None:
        self._store = store

    # ---------------------------------------------------------------- pre-flight

    def estimate(self, project: Project, samples: int) -> None:
        """Plan the run and price it, off the GUI thread; the newest request wins."""
        self._estimate_generation += 1
        generation = self._estimate_generation
        snapshot = copy.deepcopy(project)
        key = _plan_key(snapshot, samples)
        future = self._store.submit(
            lambda store: _prepare(store, snapshot, samples, RunOptions(), self._prices))

        def done(prepared: PreparedRun) -> None:
            if generation == self._estimate_generation:
                self._estimated = (key, prepared)
                self.estimated.emit(prepared)

        def failed(exc: BaseException) -> None:
            if generation == self._estimate_generation:
                self.estimated.emit(exc.problems if isinstance(exc, PlanError) else [str(exc)])

        when_done(future, done, failed)

    # ---------------------------------------------------------------- running

    def start(self, project: Project, samples: int, no_cache: bool = False,
              budget_usd: float | None = None) -> None:
        if self.running:
            return
        snapshot = copy.deepcopy(project)
        options = RunOptions(no_cache=no_cache, budget_usd=budget_usd)
        estimated, self._estimated = self._estimated, None
        if (estimated is not None and estimated[0] == _plan_key(snapshot, samples)
                and options == RunOptions()):
            self._launch(estimated[1])
            return
        future = self._store.submit(
            lambda store: _prepare(store, snapshot, samples, options, self._prices))
        when_done(future, self._launch, self._refuse)

    def resume(self, run_id: int) -> None:
        if self.running:
            return
        future = self._store.submit(lambda store: prepare_resume(
            store, run_id, configured_providers(store), RunOptions(), self._prices))
        when_done(future, self._launch, self._refuse)

    def cancel(self) -> None:
        if self.runner is not None:
            self.runner.cancel()

    def _refuse(self, exc: BaseException) -> None:
        self.refused.emit(exc.problems if isinstance(exc, PlanError) else [str(exc)])

    def _launch(self, prepared: PreparedRun) -> None:
        if self.running:
            return
        path = self._store.path
        self._events.clear()
        self._finished = False
        self.runner = Runner(path, prepared, on_event=self._events.append, prices=self._prices)
        self.started.emit(prepared)
        self._drain_timer.start()
        when_done(self.runner.start_in_thread(), self._done, self._done)

    def _done(self, outcome: Any) -> None:
        self._outcome = outcome
        self._finished = True
        self._drain()
