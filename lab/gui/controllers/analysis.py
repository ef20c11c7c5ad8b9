"""The Analysis view's controller: computes the analysis of the run in the Results grid on the
store thread, keeps it current while a run streams and as judgements arrive, and turns a click
on a figure into the outputs behind it.

When to compute: anything that can change a figure marks the analysis dirty (a call or judge
verdict coming back, a rating or tag, a run starting or ending, another workspace, the user's
calls a month or meaning of "good"), and so does a change the window does not hear of, found by
asking the workspace every two seconds for a cheap fingerprint (blind judgements, ratings, and
commits of other connections such as `lab run` in a terminal). A dirty analysis is computed
again at most once a second (or, for a workspace so large that an analysis takes longer, after
three times as long as the last one took: the store thread has other work too), one
computation at a time, and only while the view is in sight.
The computation (`lab.core.analysis.analyse`) runs on the store thread, never on the GUI thread;
the GUI thread only draws the tab in sight.

Where a click goes: a figure's `Link` (call ids, or an export selection such as every output of
a variant) is placed on the store thread (`Store.call_places`); outputs of the run in the grid
are selected there (a sample other than the first selects its cell, which shows sample 1);
Ctrl+click, or outputs of another run, open History filtered to exactly those calls.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelectionModel, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QMessageBox

from lab.core.analysis.analyse import AnalysisOptions, analyse
from lab.core.analysis.links import Link
from lab.core.analysis.sample_agreement import AgreementCell
from lab.core.analysis.scope import Scope, ScopeError
from lab.core.providers.pricing import PriceTable, PriceTableError, default_prices_path
from lab.core.run import events as run_events
from lab.core.workspace.history import CallFilters
from lab.core.workspace.location import user_prices_path
from lab.gui.controllers.run_controller import RunController
from lab.gui.controllers.session import Session
from lab.gui.panes.analysis import AnalysisPane
from lab.gui.panes.result_cells import SampleOutput
from lab.gui.panes.results import ResultsPane
from lab.gui.tasks import when_done

if TYPE_CHECKING:
    from lab.core.workspace.store import Store
    from lab.gui.dialogs.samples import SamplesDialog

INTERVAL_MS = 1000  # at most one analysis a second while a run streams
SETTLE_MS = 150  # after a run ends or an option changes: soon, but once
WATCH_MS = 2000  # how often the workspace is asked whether anything the analysis reads changed


class AnalysisController(QObject):
    computed = Signal(object)  # an Analysis, once shown (tests and the screenshot script wait)
    shown = Signal(object)  # (run id or None, [(row, column)]) selected in the Results grid

    def __init__(self, session: Session, runs: RunController, pane: AnalysisPane,
                 results_pane: ResultsPane, dock: QDockWidget, history_dock: QDockWidget,
                 window: QMainWindow):
        super().__init__(window)
        self._session = session
        self._pane = pane
        self._results_pane = results_pane
        self._dock = dock  # computed only while it is in sight
        self._history_dock = history_dock
        self._window = window
        self._status = window.statusBar()
        self._dirty = True
        self._busy = False
        self._running = False
        self._prices: PriceTable | None = None
        self.computations = 0  # analyses computed (the throttle's tests count them)
        self.samples_dialog: SamplesDialog | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._compute)
        self._seen: Any = None  # the workspace's fingerprint when the analysis shown was computed
        self._interval = INTERVAL_MS  # grows when an analysis takes long
        self._watch = QTimer(self)
        self._watch.setInterval(WATCH_MS)
        self._watch.timeout.connect(self._look)

        runs.started.connect(lambda _prepared: self._run_state(True))
        runs.event.connect(self._run_event)
        runs.finished.connect(lambda _outcome: self._run_state(False))
        # ratings, notes and tags change the grid's cells (and so do streaming outputs: cheap)
        results_pane.model.dataChanged.connect(lambda *_: self.mark_dirty())
        results_pane.model.modelReset.connect(self.mark_dirty)
        pane.options_changed.connect(lambda: self.mark_dirty(SETTLE_MS))
        pane.link_activated.connect(self.show_link)
        pane.samples_requested.connect(self.show_samples)
        dock.visibilityChanged.connect(self._visible)

    # ---- when to compute

    def workspace_opened(self, _snapshot: Any = None) -> None:
        self._prices = None
        self.mark_dirty(SETTLE_MS)

    def mark_dirty(self, delay: int | None = None) -> None:
        self._dirty = True
        self._schedule(delay)

    def refresh(self) -> None:
        """Compute now (when nothing is in flight)."""
        self._dirty = True
        self._timer.stop()
        self._compute()

    def _visible(self, visible: bool) -> None:
        if visible:
            self._watch.start()
            self._schedule()
        else:
            self._watch.stop()

    def _look(self) -> None:
        """Recompute when the workspace changed behind the window's back."""
        if self._busy or self._dirty or self._session.last_run_id is None:
            return
        when_done(self._session.store.submit(lambda store: store.analysis_fingerprint()),
                  lambda found: found != self._seen and self.mark_dirty(), lambda _exc: None)

    def _run_state(self, running: bool) -> None:
        self._running = running
        self.mark_dirty(None if running else SETTLE_MS)

    def _run_event(self, event: Any) -> None:
        if isinstance(event, (run_events.CallFinished, run_events.JudgeFinished)):
            self.mark_dirty()

    def _schedule(self, delay: int | None = None) -> None:
        if not self._dirty or self._busy or not self._dock.isVisible():
            return
        if self._timer.isActive() and (delay is None or self._timer.remainingTime() <= delay):
            return  # due soon enough already
        self._timer.start(self._interval if delay is None else delay)

    def _options(self) -> AnalysisOptions:
        calls, good = self._pane.options()
        return AnalysisOptions(calls_per_month=calls, good_by=good, prices=self._prices,
                               price_paths=(default_prices_path(), user_prices_path()))

    def _compute(self) -> None:
        if self._busy or not self._dirty:
            return
        run_id = self._session.last_run_id
        if run_id is None:
            self._dirty = False
            self._pane.show_message("Nothing to analyse yet",
                                    "Run the variants (Ctrl+Enter): the analysis of the run in "
                                    "the Results grid appears here and follows it as it streams.")
            return
        self._dirty, self._busy = False, True
        options = self._options()
        load_prices = self._prices is None

        def work(store: Store) -> Any:
            nonlocal options
            if load_prices:
                try:
                    prices = PriceTable.load(user_prices_path())
                except (PriceTableError, OSError):
                    prices = None
                options = AnalysisOptions(options.calls_per_month, options.good_by,
                                          options.knowledge_words, options.confidence, prices,
                                          options.price_paths)
            seen = store.analysis_fingerprint()
            began = time.monotonic()
            try:
                outcome = analyse(store, Scope(run_id=run_id), options)
            except ScopeError as exc:
                outcome = exc
            return outcome, options.prices, seen, time.monotonic() - began

        when_done(self._session.store.submit(work), self._computed, self._failed)

    def _computed(self, result: tuple[Any, PriceTable | None, Any, float]) -> None:
        self._busy = False
        self.computations += 1
        outcome, self._prices, self._seen, took = result
        self._interval = max(INTERVAL_MS, int(3000 * took))
        if isinstance(outcome, ScopeError):
            self._pane.show_message("Nothing to analyse yet", str(outcome))
        else:
            self._pane.show_analysis(outcome, live=self._running)
            self.computed.emit(outcome)
        self._schedule()

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        self._pane.show_message("The analysis failed", f"{type(exc).__name__}: {exc}")
        self._schedule()

    # ---- where a click goes

    def show_link(self, link: Link, in_history: bool | None = None) -> None:
        """Select the outputs behind a figure in the Results grid, or (Ctrl+click, or when they
        are not in the grid) show exactly them in History."""
        if in_history is None:
            in_history = bool(QApplication.keyboardModifiers()
                              & Qt.KeyboardModifier.ControlModifier)
        rules = link.selection

        def place(store: Store) -> list[tuple]:
            if rules is None:
                return store.call_places(link.call_ids)
            return store.call_places(runs=rules.get("runs") or [], variants=rules.get("variants"))

        when_done(self._session.store.submit(place),
                  lambda places: self._place(link, places, in_history),
                  lambda exc: QMessageBox.warning(self._window, "Cannot show the outputs",
                                                  str(exc)))

    def _place(self, link: Link, places: list[tuple], in_history: bool) -> None:
        what = link.note or "this figure"
        if not places:
            self._status.showMessage(f"No outputs behind {what}.", 4000)
            self.shown.emit((None, []))
            return
        run_id = self._session.last_run_id
        model = self._results_pane.model
        cells = sorted({(case, column) for _id, run, variant, case in places
                        if run == run_id and case is not None
                        and (column := model.column_of(variant or "")) is not None
                        and case < model.rowCount()})
        if in_history or not cells:
            self.show_in_history([p[0] for p in places], what)
            self.shown.emit((None, []))
            return
        self._results_pane.select_cells(cells)
        view, proxy = self._results_pane.view, self._results_pane.proxy
        first = proxy.mapFromSource(model.index(*cells[0]))
        view.selectionModel().setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
        view.scrollTo(first)
        self._results_pane.show_detail()
        outputs = len(places)
        self._status.showMessage(
            f"{outputs:,} output{'s' if outputs != 1 else ''} behind {what}: "
            f"{len(cells):,} cell{'s' if len(cells) != 1 else ''} selected in Results "
            "(Ctrl+click a figure to see exactly its outputs in History)", 8000)
        self.shown.emit((run_id, cells))

    def show_in_history(self, call_ids: list[int], what: str = "") -> None:
        self._session.history.set_search(None, CallFilters(call_ids=tuple(call_ids)))
        self._history_dock.show()
        self._history_dock.raise_()
        self._status.showMessage(
            f"History shows the {len(call_ids):,} output{'s' if len(call_ids) != 1 else ''} "
            f"behind {what or 'the figure'}; change a History filter to see everything again.",
            8000)

    def show_samples(self, cell: AgreementCell) -> None:
        ids = list(cell.link.call_ids)
        if not ids:
            return

        def load(store: Store) -> list[dict[str, Any]]:
            return store.outputs_by_id(ids)

        def open_dialog(rows: list[dict[str, Any]]) -> None:
            from lab.gui.dialogs.samples import SamplesDialog  # when opened, not at start-up

            samples = [SampleOutput(r["sample_index"] or 0, r["status"],
                                    r["response_text"] or r["error_message"] or "", r["checks"],
                                    r["id"])
                       for r in rows]
            parts = [f"{cell.samples} samples of {cell.variant} on {cell.case_label}"]
            for name, value in (("exact text", cell.exact), ("normalised text", cell.normalised),
                                ("check outcomes", cell.checks)):
                if value is not None:
                    parts.append(f"{name} agree {value:.0%}")
            if self.samples_dialog is not None:
                self.samples_dialog.close()
            self.samples_dialog = SamplesDialog(
                f"{cell.variant} · {cell.case_label}", " · ".join(parts), samples,
                self._window)
            self.samples_dialog.show()

        when_done(self._session.store.submit(load), open_dialog,
                  lambda exc: QMessageBox.warning(self._window, "Cannot show the samples",
                                                  str(exc)))
