"""Judging outputs: ratings, notes and tags on the selected output, promoting it to a few-shot
example, the word diff of two outputs, blind pairwise judging of the last run, and the export
dialog that turns judged outputs into fine-tuning data.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QMainWindow, QMessageBox

from lab.core.experiment.template import render
from lab.core.model import Example, Rating
from lab.core.runtime.async_thread import AsyncLoopThread
from lab.gui.controllers.session import Session
from lab.gui.controllers.undo import ProjectUndo
from lab.gui.panes.examples import ExamplesPane
from lab.gui.panes.results import ResultsPane
from lab.gui.panes.results_grid import CellResult
from lab.gui.panes.variants import VariantsPane
from lab.gui.tasks import when_done

if TYPE_CHECKING:  # annotations only: loaded where used, not before the first paint
    from lab.core.workspace.store import Store
    from lab.gui.dialogs.compare import OutputDiffDialog
    from lab.gui.dialogs.export import ExportDialog
    from lab.gui.dialogs.pairwise import PairwiseDialog
    from lab.gui.dialogs.samples import SamplesDialog


class JudgingController:
    """Acts on the results grid's selection; the dialogs it opens stay reachable as attributes."""

    def __init__(self, session: Session, results_pane: ResultsPane, variants_pane: VariantsPane,
                 examples_pane: ExamplesPane, undo: ProjectUndo, network: AsyncLoopThread,
                 window: QMainWindow):
        self._session = session
        self._undo = undo  # a promoted example can be taken back
        self._results_pane = results_pane
        self._variants_pane = variants_pane  # a promoted example shows in the variant's count
        self._examples_pane = examples_pane
        self._network = network  # the export is written on its thread
        self._window = window  # the parent of dialogs
        self._status = window.statusBar()
        self.export_dialog: ExportDialog | None = None
        self.output_diff: OutputDiffDialog | None = None
        self.pairwise_dialog: PairwiseDialog | None = None
        self.samples_dialog: SamplesDialog | None = None
        results_pane.samples_requested.connect(self.show_samples)

    def _current_cell(self) -> tuple[int, int, CellResult | None]:
        current = self._results_pane.current_source()
        if current is None:
            return -1, -1, None
        row, column = current
        return row, column, self._results_pane.model.cell(row, column)

    def rate(self, thumbs: int | None = None, score: int | None = None,
             note: str | None = None, tags: list[str] | None = None) -> None:
        row, column, cell = self._current_cell()
        if cell is None or cell.status != "ok" or cell.logged_id is None:
            self._status.showMessage("Select a finished output to judge it.", 3000)
            return

        def change(c: CellResult) -> None:
            if thumbs is not None:
                c.thumbs = None if c.thumbs == thumbs else thumbs  # pressing again clears it
            if score is not None:
                c.score = None if c.score == score else score
            if note is not None:
                c.note = note
            if tags is not None:
                c.tags = tags

        self._results_pane.model.update_cell(row, column, change)
        rating = Rating(call_id=cell.logged_id, thumbs=cell.thumbs, score=cell.score,
                        note=cell.note, tags=list(cell.tags))
        when_done(self._session.store.submit(lambda store: store.set_rating(rating)),
                  lambda _r: self._status.showMessage("Judgement saved", 1500),
                  lambda exc: QMessageBox.warning(self._window, "Not saved", str(exc)))

    def ask_note(self) -> None:
        _row, _column, cell = self._current_cell()
        if cell is None:
            return
        text, ok = QInputDialog.getMultiLineText(self._window, "Note",
                                                 "Why is this output good or bad?", cell.note)
        if ok:
            self.rate(note=text)

    def ask_tags(self) -> None:
        _row, _column, cell = self._current_cell()
        if cell is None:
            return
        text, ok = QInputDialog.getText(self._window, "Tags",
                                        "Failure modes or labels, comma-separated:",
                                        text=", ".join(cell.tags))
        if ok:
            self.rate(tags=[t.strip() for t in text.split(",") if t.strip()])

    def show_export(self):
        # imported when opened, not before the window's first paint
        from lab.gui.dialogs.export import ExportDialog

        self.export_dialog = ExportDialog(self._session.store, self._network,
                                          Path.home() / "prompt-lab-exports", self._window)
        self.export_dialog.show()
        return self.export_dialog

    def show_samples(self, row: int | None = None, column: int | None = None):
        """The selected cell's samples side by side (a run with several samples per cell)."""
        # imported when opened, not before the window's first paint
        from lab.gui.dialogs.samples import SamplesDialog

        if row is None or column is None:
            row, column, cell = self._current_cell()
        else:
            cell = self._results_pane.model.cell(row, column)
        if cell is None or len(cell.samples) < 2:
            self._status.showMessage("This cell has one sample: set Samples per cell above 1 "
                                     "and run to see how consistent the answers are.", 5000)
            return None
        model = self._results_pane.model
        title = (f"{model.headerData(column, Qt.Orientation.Horizontal).splitlines()[0]}"
                 f" · {model.headerData(row, Qt.Orientation.Vertical)}")
        self.samples_dialog = SamplesDialog(title, f"{title} — {cell.samples_marker()}",
                                            cell.ordered_samples(), self._window)
        self.samples_dialog.show()
        return self.samples_dialog

    def compare_outputs(self):
        # imported when opened, not before the window's first paint
        from lab.gui.dialogs.compare import OutputDiffDialog

        model = self._results_pane.model
        cells = self._results_pane.selected_sources()
        if len(cells) != 2:
            self._status.showMessage("Select exactly two outputs (Ctrl+click) to compare.", 4000)
            return None
        titles, texts = [], []
        for row, column in cells:
            cell = model.cell(row, column)
            titles.append(f"{model.headerData(column, Qt.Orientation.Horizontal).splitlines()[0]}"
                          f" · {model.headerData(row, Qt.Orientation.Vertical)}")
            texts.append(cell.text if cell else "")
        self.output_diff = OutputDiffDialog(titles[0], texts[0], titles[1], texts[1],
                                            self._window)
        self.output_diff.show()
        return self.output_diff

    def promote_to_example(self) -> None:
        """The selected output becomes a few-shot example of its variant (input = the case)."""
        row, column, cell = self._current_cell()
        project = self._session.project
        if cell is None or cell.status != "ok" or project is None:
            self._status.showMessage("Select a finished output to promote it.", 3000)
            return
        # The grid may show an earlier run as it was: its variant by name, its case as it was.
        shown = self._results_pane.model.variant_at(column)
        variant = next((v for v in project.variants if shown and v.name == shown.name), None)
        case = self._results_pane.model.case_at(row)
        if variant is None or case is None:
            self._status.showMessage(f"This project has no variant named "
                                     f"'{shown.name if shown else ''}' now.", 4000)
            return
        try:
            user = render(project.user_template, case.vars)
        except Exception as exc:  # noqa: BLE001 - shown to the user, who can fix the template
            QMessageBox.warning(self._window, "Cannot promote", str(exc))
            return
        variant.examples.append(Example(input=user, output=cell.text,
                                        note=f"promoted from {case.label or f'case {row + 1}'}"))
        self._undo.edited(variant, "examples", f"to {variant.name}")
        if variant is self._session.current_variant:
            self._examples_pane.set_examples(variant.examples, variant.name)
        self._variants_pane.model.refresh()
        self._session.save()
        self._status.showMessage(f"Added as example {len(variant.examples)} of {variant.name}",
                                 4000)

    def judge_pairs(self) -> None:
        run_id, project = self._session.last_run_id, self._session.project
        if run_id is None or project is None:
            self._status.showMessage("Run at least two variants first.", 3000)
            return
        labels = {i: c.label or f"Case {i + 1}" for i, c in enumerate(project.cases)}

        def load(store: Store):
            rows = store.calls_for_run(run_id)
            judged = store.list_pairwise()
            return rows, judged

        def open_dialog(result) -> None:
            # imported when opened, not before the window's first paint
            from lab.core.analysis.pairwise import pairs_to_judge, tally
            from lab.gui.dialogs.pairwise import PairwiseDialog

            rows, judged = result
            variant_of = {r["id"]: r["variant_name"] for r in rows}
            ids = set(variant_of)
            judged = [j for j in judged if j.left_call_id in ids and j.right_call_id in ids]
            pairs = pairs_to_judge(rows, judged, labels, seed=run_id * 1000 + len(judged))

            def record(judgement) -> None:
                judged.append(judgement)
                when_done(self._session.store.submit(
                              lambda store: store.record_pairwise(judgement)),
                          lambda _r: None,
                          lambda exc: QMessageBox.warning(self._window, "Not saved", str(exc)))

            def verdict() -> str:
                lines = [f"{m.first} vs {m.second}: {m.second} won {m.summary.wins}, "
                         f"{m.first} won {m.summary.losses}, {m.summary.ties} ties. "
                         f"{m.summary.verdict}" for m in tally(judged, variant_of)]
                return "\n".join(lines) or "No judgements yet."

            self.pairwise_dialog = PairwiseDialog(pairs, record, verdict, self._window)
            self.pairwise_dialog.show()

        when_done(self._session.store.submit(load), open_dialog,
                  lambda exc: QMessageBox.warning(self._window, "Cannot judge", str(exc)))
