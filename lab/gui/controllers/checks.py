"""Editing the project's checks in the window, and trying one on an output at once.

The checks pane edits `project.checks`: add, remove, reorder, and the selected check's form.
A form that describes a valid check replaces the check in the list (keeping its id) and the
project is saved; one that does not shows what is wrong and saves nothing. "Try it" grades the
try-it text with the form's check through the core (lab.core.run.try_check), off the GUI thread:
a python check runs in a worker process with its time limit, and only when the project's code may
run; an LLM judge is asked on the network loop (one call, logged).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMainWindow

from lab.core.checks.config import runs_code
from lab.core.checks.form import new_check
from lab.core.model import Check, TestCase
from lab.core.providers.base import ProviderConfig
from lab.core.runtime.async_thread import AsyncLoopThread
from lab.core.workspace.providers import configured_providers
from lab.gui.controllers.session import Session
from lab.gui.controllers.undo import ProjectUndo
from lab.gui.panes.checks import ChecksPane
from lab.gui.panes.results import ResultsPane
from lab.gui.tasks import when_done

if TYPE_CHECKING:  # annotations only: loaded where used, not before the first paint
    from lab.core.checks.workers import ExpressionPool


class ChecksController(QObject):
    changed = Signal()  # the checks changed: plan and estimate again

    def __init__(self, session: Session, pane: ChecksPane, results_pane: ResultsPane,
                 undo: ProjectUndo, network: AsyncLoopThread, window: QMainWindow):
        super().__init__(window)
        self._session = session
        self._pane = pane
        self._results = results_pane  # "Use selected result"
        self._undo = undo
        self._network = network
        self._window = window
        self._row = -1
        self._try_case: TestCase | None = None  # the test case behind the try-it text
        self._try_model = ""  # the variant's model behind it (a judge without a model uses it)
        self._try_generation = 0
        self._pool: ExpressionPool | None = None  # python checks tried here, one worker
        pane.check_selected.connect(self._selected)
        pane.check_edited.connect(self._edited)
        pane.add_requested.connect(self.add)
        pane.remove_requested.connect(self.remove)
        pane.move_requested.connect(self.move)
        pane.try_requested.connect(self.try_it)
        pane.judge_requested.connect(self.ask_judge)
        pane.use_result_requested.connect(self.use_selected_result)
        pane.try_text_typed.connect(self._forget_case)

    @property
    def _checks(self) -> list[Check]:
        project = self._session.project
        return project.checks if project is not None else []

    def show_project(self, select: int = 0) -> None:
        """Show the open project's checks (again), the `select`th selected."""
        self._row = -1
        self._pane.show_checks(self._checks, not self._session.trusted, select)

    def _selected(self, row: int) -> None:
        self._pane.flush()
        self._row = row
        checks = self._checks
        check = checks[row] if 0 <= row < len(checks) else None
        self._pane.form.show_check(check, untrusted=bool(
            check and runs_code(check) and not self._session.trusted))
        self._pane.show_judge_mode(check is not None and check.type == "judge")
        self.try_it()

    # ---- edits

    def _edited(self) -> None:
        checks, row = self._checks, self._row
        if not 0 <= row < len(checks):
            return
        check, problems = self._pane.form.current()
        self._pane.form.problems.setText("\n".join(problems))
        self._pane.show_judge_mode(check.type == "judge")
        if problems:
            return
        old = checks[row]
        if check == Check(old.type, old.config, old.name):
            return
        check.id = old.id
        checks[row] = check
        self._pane.model.refresh()
        self._record(f"'{check.title}'")

    def add(self, kind: str) -> None:
        if self._session.project is None:
            return
        self._pane.flush()
        checks = self._checks
        row = self._row + 1 if 0 <= self._row < len(checks) else len(checks)
        check = new_check(kind, checks)
        checks.insert(row, check)
        self._record(f"'{check.title}'", select=row)
        self._pane.form.name.setFocus()
        self._pane.form.name.selectAll()

    def remove(self) -> None:
        checks, row = self._checks, self._row
        if not 0 <= row < len(checks):
            return
        self._pane.flush()
        gone = checks.pop(row)
        self._record(f"'{gone.title}'", select=min(row, len(checks) - 1))

    def move(self, step: int) -> None:
        checks, row = self._checks, self._row
        target = row + step
        if not (0 <= row < len(checks) and 0 <= target < len(checks)):
            return
        self._pane.flush()
        checks.insert(target, checks.pop(row))
        self._record("", select=target)

    def _record(self, noun: str, select: int | None = None) -> None:
        """The list changed: undo can take it back; show it (if rows moved) and save."""
        project = self._session.project
        self._undo.edited(project, "checks", noun)
        if select is not None:
            self.show_project(select)
        self._session.save()
        self.changed.emit()

    # ---- trying

    def use_selected_result(self) -> None:
        current = self._results.current_source()
        project = self._session.project
        cell = self._results.model.cell(*current) if current else None
        if cell is None or project is None or not cell.text:
            self._pane.show_try_result(None, "Select a result cell with an output first.")
            return
        row, column = current
        variant = self._results.model.variant_at(column)
        case = self._results.model.case_at(row)
        label = (case.label if case else "") or f"Case {row + 1}"
        self._try_case, self._try_model = case, variant.model
        self._pane.set_try_text(cell.text, f"Output of {variant.name} · {label}")

    def _forget_case(self) -> None:
        self._try_case = None

    def _model_for_judge(self) -> str:
        if self._try_model:
            return self._try_model
        variant = self._session.current_variant
        return variant.model if variant else ""

    def try_it(self) -> None:
        """Grade the try-it text with the form's check now (a judge waits for its button)."""
        self._try_generation += 1
        generation = self._try_generation
        if self._row < 0:
            self._pane.show_try_result(None, "Add or select a check to try it.")
            return
        check, problems = self._pane.form.current()
        if problems:
            self._pane.show_try_result(None, "Fix the check first: " + problems[0])
            return
        if check.type == "judge":
            self._pane.show_try_result(None, "An LLM judge needs a model call: press "
                                             "“Ask the judge”.")
            return
        output = self._pane.try_text.toPlainText()
        may_run = self._session.trusted
        self._pane.show_grading()

        def shown(result) -> None:
            if generation == self._try_generation:
                self._pane.show_try_result(result.passed, result.reason)

        # The trying machinery (provider client, call records) is loaded on the first try, not
        # before the window's first paint.
        from lab.core.run.try_check import CannotTry, try_check

        def failed(exc: BaseException) -> None:
            if generation == self._try_generation:
                self._pane.show_try_result(None, str(exc) if isinstance(exc, CannotTry)
                                           else f"Could not grade: {exc}")

        if runs_code(check) and may_run and self._pool is None:
            from lab.core.checks.workers import ExpressionPool  # on the first try

            self._pool = ExpressionPool(size=1)  # its worker starts on the first try
        pool, case = self._pool, self._try_case
        when_done(self._network.run_blocking(lambda: try_check(
            check, output, case, may_run_code=may_run, pool=pool)), shown, failed)

    def close(self) -> None:
        """The window closes: stop the worker that tried python checks."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def ask_judge(self) -> None:
        check, problems = self._pane.form.current()
        if problems or check.type != "judge":
            return
        self._pane.stop_pending_try()
        self._try_generation += 1
        generation = self._try_generation
        output, case, model = self._pane.try_text.toPlainText(), self._try_case, self._model_for_judge()
        inline = dict(self._session.file_providers)
        self._pane.show_try_result(None, "Asking the judge…")
        self._pane.judge_button.setEnabled(False)

        def providers(store) -> list[ProviderConfig]:
            found = [ProviderConfig.from_dict({"name": n, **t}) for n, t in inline.items()]
            return configured_providers(store, found)

        def ask(configs: list[ProviderConfig]) -> None:
            from lab.core.run.try_check import try_judge

            when_done(self._network.submit(try_judge(check, output, case, model, configs)),
                      judged, failed)

        def judged(outcome) -> None:
            result, call = outcome
            self._pane.judge_button.setEnabled(True)
            when_done(self._session.store.submit(lambda store: store.insert_calls([call])),
                      lambda _ids: self._session.history.refresh(), lambda _exc: None)
            if generation != self._try_generation:
                return
            if result is None:
                self._pane.show_try_result(None, f"The judge call failed: {call.error_message}")
            else:
                self._pane.show_try_result(result.passed, result.reason)

        def failed(exc: BaseException) -> None:
            self._pane.judge_button.setEnabled(True)
            if generation == self._try_generation:
                self._pane.show_try_result(None, str(exc))

        when_done(self._session.store.submit(providers), ask, failed)
