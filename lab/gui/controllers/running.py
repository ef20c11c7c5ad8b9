"""Running from the window: the planned calls and the pre-flight estimate, Run (or Run as batch,
with its pre-flight to confirm), Cancel and Resume, cells filling from runner events (and from
the batches the window follows), live progress in the status bar, and a run's results when a
project opens. The run itself goes through the `RunController`.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

from lab.core.run import events as run_events
from lab.core.run.trust import WINDOW_SOURCE
from lab.gui.actions import WindowActions
from lab.gui.controllers.run_controller import RunController, RunRequest
from lab.gui.controllers.session import Session
from lab.gui.controllers.workspace import SAMPLES_KEY
from lab.gui.dialogs import messages
from lab.gui.panes.history import HistoryPane
from lab.gui.panes.prompt import PromptPane
from lab.gui.panes.result_cells import CellResult, cell_from_row
from lab.gui.panes.results import ResultsPane
from lab.gui.panes.run_bar import RunBar
from lab.gui.panes.run_status import RunStatus
from lab.gui.tasks import when_done


class RunningController(QObject):
    logged = Signal()  # a run ended: the call log has grown

    def __init__(self, session: Session, runs: RunController, prompt_pane: PromptPane,
                 results_pane: ResultsPane, history_pane: HistoryPane, *, run_bar: RunBar,
                 run_status: RunStatus, actions: WindowActions, window: QMainWindow):
        super().__init__(window)
        self._session = session
        self._runs = runs
        self._prompt_pane = prompt_pane  # pending typing is flushed before a run starts
        self._results_pane = results_pane
        self._history_pane = history_pane
        self._bar = run_bar
        self._status_widgets = run_status
        self._run_action = actions.run_action
        self._batch_action = actions.batch_action
        self._cancel_action = actions.cancel_action
        self._resume_action = actions.resume_action
        self._window = window  # the parent of message boxes; estimates wait until it shows
        self._status = window.statusBar()
        self._run_counts = {"done": 0, "errors": 0, "cost": 0.0, "total": 0}
        self._viewing: int | None = None  # an earlier run shown in the grid as it was
        self._estimate_timer = QTimer(self)
        self._estimate_timer.setSingleShot(True)
        self._estimate_timer.setInterval(400)
        self._estimate_timer.timeout.connect(self._request_estimate)

        run_bar.samples.valueChanged.connect(self._samples_changed)
        actions.batch_action.toggled.connect(self._batch_toggled)
        run_bar.budget.valueChanged.connect(lambda _v: self._estimate_timer.start())
        runs.estimated.connect(self._show_estimate)
        runs.readiness.connect(run_bar.show_problems)
        runs.prices_changed.connect(self._estimate_timer.start)
        runs.started.connect(self._run_started)
        runs.event.connect(self._run_event)
        runs.finished.connect(self._run_finished)
        runs.refused.connect(self._run_refused)
        results_pane.parts_needed.connect(self._load_parts)

    def request(self, no_cache: bool = False) -> RunRequest:
        """What a run of the open project is planned from, as the window has it set."""
        session = self._session
        project = session.project
        return RunRequest(project=project, samples=self._bar.samples.value(),
                          budget_usd=self._bar.budget_usd(), no_cache=no_cache,
                          providers=session.file_providers, trusted=session.trusted,
                          source=project.source_path or WINDOW_SOURCE,
                          batch=self._batch_action.isChecked())

    def _batch_toggled(self, batch: bool) -> None:
        """Run as batch: Run says so, and the estimate is priced at the batch price."""
        self._run_action.setText("&Run as Batch" if batch else "&Run")
        self._run_action.setIconText("Run as Batch" if batch else "Run")
        self._estimate_timer.start()

    def _samples_changed(self, samples: int) -> None:
        """The Samples setting is the project's: kept in the workspace for next time."""
        project = self._session.project
        if project is not None and project.id is not None:
            key, value = SAMPLES_KEY.format(project.id), str(samples)
            when_done(self._session.store.submit(lambda store: store.set_meta(key, value)),
                      lambda _r: None, lambda _exc: None)
        self.refresh_matrix()

    def refresh_matrix(self) -> None:
        """The grid and the planned calls follow the project; a new estimate follows shortly."""
        project = self._session.project
        if project is None:
            return
        if self._viewing is not None:  # an earlier run was shown as it was: back to the latest
            self._viewing = None
            self._results_pane.show_viewing(None)
            self._results_pane.model.clear_results()
            self._load_latest()
        samples = self._bar.samples.value()
        self._results_pane.set_matrix(project.cases, project.variants, samples)
        calls = len(project.cases) * len(project.variants) * samples
        self._bar.estimate.setText(f" {calls} calls planned ")
        self._estimate_timer.start()

    def stop_estimates(self) -> None:
        self._estimate_timer.stop()

    def show_last_run(self, run_id: int | None, rows: list[dict[str, Any]],
                      ratings: dict | None = None) -> None:
        """A project opened: its last run's results in the grid; Run (and Resume) enabled."""
        self._session.last_run_id = run_id
        self._results_pane.model.clear_results()
        self.show_logged_results(rows, ratings)
        self._run_action.setEnabled(True)
        self._resume_action.setEnabled(run_id is not None)

    @property
    def viewing(self) -> int | None:
        return self._viewing

    def show_run(self, run_id: int) -> None:
        """Show an earlier run in the grid as it was: its own test cases and variants (as the
        experiment stored with it has them), its outputs, checks and judgements."""
        if self._runs.busy:
            self._status.showMessage("A run is in progress: open earlier runs after it.", 4000)
            return

        def load(store) -> dict[str, Any]:
            run = store.get_run(run_id)
            if run is None:
                raise ValueError(f"There is no run {run_id} in this workspace.")
            from lab.core.run.setup import stored_spec  # on the store thread

            spec = stored_spec(run)
            rows = store.calls_for_run(run_id)
            return {"run": run, "spec": spec, "rows": rows,
                    "ratings": store.ratings_for_calls(r["id"] for r in rows)}

        def shown(loaded: dict[str, Any]) -> None:
            if self._runs.busy:
                return
            run, project = loaded["run"], loaded["spec"].project
            self._viewing = run_id
            self._session.last_run_id = run_id  # Resume and Judge Pairs act on it
            pane = self._results_pane
            pane.model.clear_results()
            pane.set_matrix(project.cases, project.variants, run["samples"])
            self.show_logged_results(loaded["rows"], loaded["ratings"])
            pane.apply_view_options()
            started = (run["started_at"] or "").replace("T", " ")[:16]
            source = "" if run["experiment_source"] in ("gui", "") else " · from lab run"
            pane.show_viewing(f"Run #{run_id} · {started} · {run['status']}{source} · as it "
                              f"was: {len(project.variants)} variants × {len(project.cases)} "
                              "test cases")
            self._resume_action.setEnabled(run["status"] != "done")

        when_done(self._session.store.submit(load), shown,
                  lambda exc: QMessageBox.warning(self._window, "Cannot open the run", str(exc)))

    def _load_latest(self) -> None:
        project = self._session.project
        project_id = project.id if project else None

        def load(store) -> tuple[int | None, list[dict[str, Any]], dict]:
            run_id = store.latest_run_id(project_id) if project_id is not None else None
            rows = store.calls_for_run(run_id) if run_id else []
            return run_id, rows, store.ratings_for_calls(r["id"] for r in rows)

        def shown(loaded) -> None:
            if not self._runs.busy and self._viewing is None:
                self.show_last_run(*loaded)
                self._results_pane.apply_view_options()

        when_done(self._session.store.submit(load), shown, lambda _exc: None)

    def _request_estimate(self) -> None:
        if self._session.project is not None and not self._runs.busy and self._window.isVisible():
            self._runs.estimate(self.request())

    def _show_estimate(self, outcome) -> None:
        label = self._bar.estimate
        if isinstance(outcome, list):
            label.setText(
                f" ⚠ {len(outcome)} problem{'s' if len(outcome) != 1 else ''} to fix before running ")
            label.setToolTip("\n".join(outcome))
            self._bar.show_unpriced(False)
            return
        est = outcome.estimate
        calls = len(outcome.to_call)
        parts = [f"{calls} call{'s' if calls != 1 else ''} to send"]
        batched = sum(line.calls for line in est.lines if line.batch)
        if outcome.options.batch:  # how many go in batches, how many one by one (the tooltip: why)
            parts[0] += (" in batches" if batched == est.calls else
                         f": {batched} in batches, {est.calls - batched} one by one")
        if est.from_cache:
            parts.append(f"{est.from_cache} from cache")
        parts.append(f"≈ {est.input_tokens:,} tokens in")
        parts.append(f"≤ {est.output_tokens:,} out")
        unpriced = est.unpriced
        parts.append(f"≈ ${est.cost_usd:.4f}" + (" batch price" if batched else "")
                     + (" + unpriced models" if unpriced else ""))
        if est.warnings:
            parts.append(f"⚠ {len(est.warnings)} warning{'s' if len(est.warnings) != 1 else ''}")
        label.setText(" " + " · ".join(parts) + " ")
        label.setToolTip("\n".join([
            "Pre-flight estimate: prompt tokens counted offline, output at most max_tokens.",
            *(m[0].upper() + m[1:] for m in est.unknown_cost), *est.warnings, *est.notes]))
        self._bar.show_unpriced(bool(unpriced))

    def start_run(self, no_cache: bool = False) -> None:
        if self._session.project is None or self._runs.busy:
            return
        self._prompt_pane.flush()
        if self._viewing is not None:
            self.refresh_matrix()  # the run fills the project's own matrix
        self._run_action.setEnabled(False)
        self._status.showMessage("Preparing the run…")
        request = self.request(no_cache)
        self._runs.start(request, self._confirm_batch if request.batch else None)

    def _confirm_batch(self, prepared, go, stop) -> None:
        """A batch run shows its pre-flight and is sent only when the user says so."""
        if not prepared.to_call:  # answered from the log, or already waiting: nothing to ask
            go()
            return
        from lab.gui.dialogs.batch_preflight import ask_to_send

        self._status.showMessage("Run as batch: see the pre-flight")
        ask_to_send(self._window, prepared, go, stop)

    def cancel_run(self) -> None:
        self._runs.cancel()
        self._status.showMessage("Cancelling: calls in flight are recorded as cancelled…")

    def resume_run(self, run_id: int | None = None, batch: bool | None = None) -> None:
        """Resume `run_id` (default: the run shown); `batch`: what it lacks goes in a new batch
        (True) or one by one (False), or as the run went (None)."""
        run_id = self._session.last_run_id if run_id is None else run_id
        if run_id is not None and not self._runs.busy:
            self._run_action.setEnabled(False)
            self._resume_action.setEnabled(False)
            self._status.showMessage("Preparing the run…")
            self._runs.resume(run_id, batch)

    def _run_refused(self, problems: list[str]) -> None:
        self._run_action.setEnabled(True)
        self._resume_action.setEnabled(self._session.last_run_id is not None)
        if not problems:  # the user chose not to send it
            self._status.showMessage("Nothing was sent.", 4000)
            return
        self._status.clearMessage()
        messages.show_problems(self._window, "The run cannot start", problems)

    def _run_started(self, prepared) -> None:
        self._cancel_action.setEnabled(True)
        self._resume_action.setEnabled(False)
        total = len(prepared.work) + len(prepared.judge_gaps)
        self._run_counts = {"done": 0, "errors": 0, "cost": 0.0, "total": total}
        if prepared.run_id is None:  # a new run: the grid starts empty
            self._results_pane.model.clear_results()
        self._status_widgets.run_started(total)

    def _show_progress(self) -> None:
        c = self._run_counts
        self._status_widgets.show_progress(c["done"], c["total"], c["cost"], c["errors"])

    def _cell_position(self, cell) -> tuple[int, int | None]:
        return cell.case_index, self._results_pane.model.column_of(cell.variant)

    def _run_event(self, event) -> None:
        model = self._results_pane.model
        if isinstance(event, run_events.RunStarted):
            self._session.last_run_id = event.run_id
        elif isinstance(event, run_events.ProviderLimit):
            self._status_widgets.show_limit(event.provider, event.limit, event.ceiling)
        elif isinstance(event, run_events.CallStarted) and event.judge is None:
            row, column = self._cell_position(event.cell)
            if column is not None and event.cell.sample_index == 0:
                model.update_cell(row, column, lambda cell: cell.start(
                    f"{event.provider}/{event.model}"))
        elif isinstance(event, run_events.CallDelta) and event.cell.sample_index == 0:
            row, column = self._cell_position(event.cell)
            if column is not None:
                model.update_cell(row, column, lambda cell: setattr(cell, "text", cell.text + event.text))
        elif isinstance(event, run_events.CallFinished):
            self._call_finished(event)
        elif isinstance(event, run_events.JudgeFinished):
            self._call_landed(event.call)
            self._show_judgement(event)

    def _show_judgement(self, event) -> None:
        row, column = self._cell_position(event.cell)
        if column is not None and event.result is not None:
            result = event.result
            self._results_pane.model.update_cell(row, column, lambda cell: cell.judged(
                event.check_name, result.passed, result.reason, event.cell.sample_index))

    def show_waiting(self, cells: list[tuple[str, int, str]]) -> None:
        """Cells of the run in the grid that wait in a batch at a provider: (variant, test case
        index, provider/model). Cells with a result keep it until the new one lands."""
        model = self._results_pane.model
        for variant, case_index, target in cells:
            column = model.column_of(variant)
            cell = model.cell(case_index, column) if column is not None else None
            if column is not None and (cell is None or cell.status == "pending"):
                model.update_cell(case_index, column, lambda c, t=target: c.wait_in_batch(t))

    def show_followed(self, event, shown: bool) -> None:
        """A result of a batch the window follows was logged: the workspace totals grow, and
        the cell fills if its run is the one in the grid (`shown`)."""
        if isinstance(event, run_events.CallFinished):
            self._call_landed(event.call)
            if shown:
                self._show_call(event)
        elif isinstance(event, run_events.JudgeFinished):
            self._call_landed(event.call)
            if shown:
                self._show_judgement(event)

    def _load_parts(self, call_id: int) -> None:
        """The passages and chain steps of the call the detail panel shows."""
        when_done(self._session.store.submit(lambda store: store.call_parts(call_id)),
                  lambda parts: self._results_pane.detail.set_parts(call_id, parts),
                  lambda exc: self._status.showMessage(
                      f"Cannot read the call's passages and steps: {exc}", 8000))

    def _call_landed(self, call) -> None:
        """Every call the run logs (judge calls too) adds to the workspace totals at once."""
        self._status_widgets.add_to_totals(call.cost_usd, call.status == "error")

    def _call_finished(self, event) -> None:
        call = event.call
        counts = self._run_counts
        counts["done"] += 1
        counts["errors"] += call.status == "error"
        counts["cost"] += call.cost_usd or 0.0
        self._show_progress()
        self._call_landed(call)
        self._show_call(event)

    def _show_call(self, event) -> None:
        row, column = self._cell_position(event.cell)
        if column is None:
            return

        def finish(cell: CellResult) -> None:
            cell.finish(event.call, event.checks, event.cached, event.cell.sample_index)

        self._results_pane.model.update_cell(row, column, finish)

    def _run_finished(self, outcome) -> None:
        self._cancel_action.setEnabled(False)
        self._run_action.setEnabled(True)
        self._resume_action.setEnabled(self._session.last_run_id is not None)
        self._status.clearMessage()
        if isinstance(outcome, BaseException):
            self._status_widgets.run_finished("")
            QMessageBox.warning(self._window, "The run stopped", str(outcome))
        elif outcome.status == "waiting":  # a batch run: sent, and followed from now on
            self._status_widgets.run_finished(
                "Batches sent: results within 24 hours")
        else:
            words = {"done": "Run finished", "cancelled": "Run cancelled",
                     "budget": "Budget reached", "failed": "Run failed"}
            c = self._run_counts
            self._status_widgets.run_finished(
                f"{words.get(outcome.status, outcome.status)}: {outcome.calls} calls, "
                f"{outcome.errors} errors, ${outcome.spent_usd:.4f}" + (
                    f" · {outcome.message}" if outcome.message else ""))
            c["done"] = c["total"]
        self.after_logging()
        self._estimate_timer.start()

    def after_logging(self) -> None:
        """Calls were logged (a run, or batches the window follows): the history, the grid's
        filter and order, and the workspace totals take them in."""
        self._session.history.refresh()
        self._results_pane.apply_view_options()  # filter and order take in the finished results
        self._results_pane.show_detail()  # every call is logged now: its passages and steps
        when_done(self._session.store.submit(lambda store: store.call_filter_choices()),
                  self._history_pane.set_choices, lambda _exc: None)
        self.logged.emit()

    def show_logged_results(self, rows: list[dict[str, Any]], ratings: dict | None = None) -> None:
        """Cells from the log (store.calls_for_run rows): sample 1 fills the cell, later samples
        join it."""
        ratings = ratings or {}
        model = self._results_pane.model
        for row in sorted(rows, key=lambda r: r.get("sample_index") or 0):
            if row.get("case_index") is None or row.get("judged_call_id") is not None:
                continue
            column = model.column_of(row.get("variant_name") or "")
            if column is None:
                continue
            if (row.get("sample_index") or 0) == 0:
                loaded = cell_from_row(row)
                rating = ratings.get(row["id"])
                if rating is not None:
                    loaded.thumbs, loaded.score = rating.thumbs, rating.score
                    loaded.note, loaded.tags = rating.note, list(rating.tags)
                model.update_cell(row["case_index"], column,
                                  lambda cell, loaded=loaded: cell.__dict__.update(loaded.__dict__))
            else:
                model.update_cell(row["case_index"], column,
                                  lambda cell, row=row: cell.add_logged(row))

    def finish_run(self, timeout_s: float = 20.0) -> None:
        """Closing during a run cancels it and lets the runner record what it had, so quitting
        loses nothing that already came back. Batches are not cancelled: they wait at the
        provider, and the window follows them again when it next opens the workspace."""
        following = self._runs.following
        following.close()
        self._runs.leave()
        deadline = time.monotonic() + timeout_s
        while (self._runs.running or not following.ended_all) and time.monotonic() < deadline:
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
