"""The main window's runs: the pre-flight estimate, Run/Cancel/Resume, cells filling from runner
events, progress and totals, and the last run's results on open.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication, QMessageBox

from lab.core.run import events as run_events
from lab.core.workspace.store import Store
from lab.gui.dialogs import messages as dialogs
from lab.gui.panes.results_grid import CellResult, cell_from_row
from lab.gui.tasks import when_done


class RunningMixin:
    """Part of MainWindow (see main_window.py); uses the panes and threads it creates."""

    def _request_estimate(self) -> None:
        if self.project is not None and not self.runs.running and self.isVisible():
            self.runs.estimate(self.project, self.samples.value())

    def _show_estimate(self, outcome) -> None:
        if isinstance(outcome, list):
            self.estimate_label.setText(f" ⚠ {len(outcome)} problem{'s' if len(outcome) != 1 else ''}"
                                        " to fix before running ")
            self.estimate_label.setToolTip("\n".join(outcome))
            return
        est = outcome.estimate
        calls = len(outcome.to_call)
        parts = [f"{calls} call{'s' if calls != 1 else ''} to send"]
        if est.from_cache:
            parts.append(f"{est.from_cache} from cache")
        parts.append(f"≈ {est.input_tokens:,} tokens in")
        parts.append(f"≤ {est.output_tokens:,} out")
        unpriced = est.unpriced
        parts.append(f"≈ ${est.cost_usd:.4f}" + (" + unpriced models" if unpriced else ""))
        self.estimate_label.setText(" " + " · ".join(parts) + " ")
        self.estimate_label.setToolTip(
            "Pre-flight estimate: prompt tokens counted offline, output at most max_tokens."
            + (f"\nNo price known for: {', '.join(unpriced)}" if unpriced else ""))

    def start_run(self, no_cache: bool = False) -> None:
        if self.project is None or self.runs.running:
            return
        self.prompt_pane.flush()
        self.run_action.setEnabled(False)
        self.statusBar().showMessage("Preparing the run…")
        self.runs.start(self.project, self.samples.value(), no_cache=no_cache)

    def cancel_run(self) -> None:
        self.runs.cancel()
        self.statusBar().showMessage("Cancelling: calls in flight are recorded as cancelled…")

    def resume_run(self) -> None:
        if self.last_run_id is not None and not self.runs.running:
            self.run_action.setEnabled(False)
            self.runs.resume(self.last_run_id)

    def _run_refused(self, problems: list[str]) -> None:
        self.run_action.setEnabled(True)
        self.statusBar().clearMessage()
        dialogs.show_problems(self, "The run cannot start", problems)

    def _run_started(self, prepared) -> None:
        self.cancel_action.setEnabled(True)
        self.resume_action.setEnabled(False)
        total = len(prepared.work) + len(prepared.judge_gaps)
        self._run_counts = {"done": 0, "errors": 0, "cost": 0.0, "total": total}
        if prepared.run_id is None:  # a new run: the grid starts empty
            self.results_pane.model.clear_results()
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(0)
        self.progress.show()
        self._show_progress()

    def _show_progress(self) -> None:
        c = self._run_counts
        errors = f" · {c['errors']} error{'s' if c['errors'] != 1 else ''}" if c["errors"] else ""
        self.progress_label.setText(f"{c['done']} / {c['total']} calls{errors} · ${c['cost']:.4f}")
        self.progress.setValue(c["done"])

    def _cell_position(self, cell) -> tuple[int, int | None]:
        return cell.case_index, self.results_pane.model.column_of(cell.variant)

    def _run_event(self, event) -> None:
        model = self.results_pane.model
        if isinstance(event, run_events.RunStarted):
            self.last_run_id = event.run_id
        elif isinstance(event, run_events.CallStarted) and event.judge is None:
            row, column = self._cell_position(event.cell)
            if column is not None and event.cell.sample_index == 0:
                def start(cell: CellResult) -> None:
                    cell.status, cell.text, cell.error, cell.checks = "running", "", "", {}
                    cell.model = f"{event.provider}/{event.model}"
                model.update_cell(row, column, start)
        elif isinstance(event, run_events.CallDelta) and event.cell.sample_index == 0:
            row, column = self._cell_position(event.cell)
            if column is not None:
                model.update_cell(row, column, lambda cell: setattr(cell, "text", cell.text + event.text))
        elif isinstance(event, run_events.CallFinished):
            self._call_finished(event)
        elif isinstance(event, run_events.JudgeFinished):
            row, column = self._cell_position(event.cell)
            if column is not None and event.result is not None and event.cell.sample_index == 0:
                def judged(cell: CellResult) -> None:
                    cell.checks[event.check_name] = event.result.passed
                    cell.reasons[event.check_name] = event.result.reason
                model.update_cell(row, column, judged)

    def _call_finished(self, event) -> None:
        call = event.call
        counts = self._run_counts
        counts["done"] += 1
        counts["errors"] += call.status == "error"
        counts["cost"] += call.cost_usd or 0.0
        self._show_progress()
        row, column = self._cell_position(event.cell)
        if column is None:
            return

        def finish(cell: CellResult) -> None:
            cell.samples_done += 1
            if event.cell.sample_index != 0:
                return
            cell.status, cell.text = call.status, call.response_text
            cell.call_id, cell.cached = call.id, event.cached
            cell.latency_ms, cell.ttft_ms, cell.cost_usd = call.latency_ms, call.ttft_ms, call.cost_usd
            cell.input_tokens = call.usage.input_tokens
            cell.output_tokens = call.usage.output_tokens
            cell.error = call.error_message or ""
            cell.request, cell.model = call.request, f"{call.provider}/{call.model}"
            cell.call, cell.thumbs, cell.score, cell.note, cell.tags = call, None, None, "", []
            cell.checks = {r.check_name: r.passed for r in event.checks}
            cell.reasons = {r.check_name: r.reason for r in event.checks if r.reason}

        self.results_pane.model.update_cell(row, column, finish)

    def _run_finished(self, outcome) -> None:
        self.progress.hide()
        self.cancel_action.setEnabled(False)
        self.run_action.setEnabled(True)
        self.resume_action.setEnabled(self.last_run_id is not None)
        if isinstance(outcome, BaseException):
            self.progress_label.setText("")
            QMessageBox.warning(self, "The run stopped", str(outcome))
        else:
            words = {"done": "Run finished", "cancelled": "Run cancelled",
                     "budget": "Budget reached", "failed": "Run failed"}
            c = self._run_counts
            self.progress_label.setText(
                f"{words.get(outcome.status, outcome.status)}: {outcome.calls} calls, "
                f"{outcome.errors} errors, ${outcome.spent_usd:.4f}" + (
                    f" · {outcome.message}" if outcome.message else ""))
            c["done"] = c["total"]
        self.history_model.refresh()
        self.results_pane.apply_view_options()  # filter and order take in the finished results
        when_done(self.store.submit(lambda store: store.call_filter_choices()),
                  self.history_pane.set_choices, lambda _exc: None)
        self._refresh_totals()
        self._estimate_timer.start()

    def _refresh_totals(self) -> None:
        def totals(store: Store) -> tuple[int, float, int]:
            row = store.db.execute(
                "SELECT count(*), coalesce(sum(cost_usd), 0), coalesce(sum(status = 'error'), 0)"
                " FROM calls").fetchone()
            return tuple(row)

        when_done(self.store.submit(totals), lambda t: self._show_totals(*t), lambda _e: None)

    def _show_logged_results(self, rows: list[dict[str, Any]], ratings: dict | None = None) -> None:
        ratings = ratings or {}
        model = self.results_pane.model
        for row in rows:
            if row.get("case_index") is None or row.get("judged_call_id") is not None:
                continue
            column = model.column_of(row.get("variant_name") or "")
            if column is None:
                continue
            if row.get("sample_index", 0) == 0:
                loaded = cell_from_row(row)
                rating = ratings.get(row["id"])
                if rating is not None:
                    loaded.thumbs, loaded.score = rating.thumbs, rating.score
                    loaded.note, loaded.tags = rating.note, list(rating.tags)
                model.update_cell(row["case_index"], column,
                                  lambda cell, loaded=loaded: cell.__dict__.update(loaded.__dict__))

    def _finish_run(self, timeout_s: float = 20.0) -> None:
        """Closing during a run cancels it and lets the runner record what it had, so quitting
        loses nothing that already came back."""


        if not self.runs.running:
            return
        self.runs.cancel()
        deadline = time.monotonic() + timeout_s
        while self.runs.running and time.monotonic() < deadline:
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
