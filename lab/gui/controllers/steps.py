"""Editing a chain: making a variant a chain, its steps added, removed, moved and renamed (each
one step to undo), and the selected step's prompt, user message, model and parameters as they
are typed or chosen in the prompt pane.

A variant made a chain keeps its own prompt: its first step starts as a copy of it (system
prompt and the project's user message), and removing the last step makes it a single prompt
again, as it was. Steps do not send the variant's few-shot examples (each step is a call of its
own); the status bar says so when a variant with examples becomes a chain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMainWindow

from lab.core.experiment.chains import new_step_name, step_name_problem
from lab.core.model import Step, Variant
from lab.core.run.output_format import output_format, output_schema, with_output_format
from lab.gui.controllers.session import Session
from lab.gui.controllers.undo import ProjectUndo
from lab.gui.panes.examples import ExamplesPane
from lab.gui.panes.prompt import PromptPane
from lab.gui.panes.variants import VariantsPane

if TYPE_CHECKING:  # annotations only: loaded where used, not before the first paint
    from lab.gui.dialogs.schema import SchemaDialog


class StepsController(QObject):
    changed = Signal()  # a chain's steps changed: what a run would send changed

    def __init__(self, session: Session, prompt_pane: PromptPane, variants_pane: VariantsPane,
                 examples_pane: ExamplesPane, undo: ProjectUndo,
                 model_names: Callable[[], list[str]], window: QMainWindow):
        super().__init__(window)
        self._session = session
        self._pane = prompt_pane
        self._variants_pane = variants_pane
        self._examples_pane = examples_pane  # says a chain does not send them
        self._undo = undo
        self._model_names = model_names
        self._window = window
        self._status = window.statusBar()
        self.schema_dialog: SchemaDialog | None = None
        bar = prompt_pane.steps
        prompt_pane.make_chain_requested.connect(self.make_chain)
        prompt_pane.step_edited.connect(self._step_edited)
        bar.add_requested.connect(self.add_step)
        bar.remove_requested.connect(self.remove_step)
        bar.move_requested.connect(self.move_step)
        bar.rename_requested.connect(self.rename_step)

    # ---- the chain's shape (undoable)

    def make_chain(self) -> None:
        """The selected single-prompt variant becomes a chain of one step holding its prompt."""
        variant, project = self._session.current_variant, self._session.project
        if variant is None or project is None or variant.steps:
            return
        self._pane.flush()
        first = Step(name="answer", user=project.user_template, system=variant.system)
        self._undo.fields_changed(variant, {"steps": []}, {"steps": [first]},
                                  f"Make {variant.name} a chain", done=False)
        note = (f" Its {len(variant.enabled_examples())} few-shot examples are kept but not "
                "sent: each step is a call of its own." if variant.enabled_examples() else "")
        self._status.showMessage(f"{variant.name} is a chain of one step; add the steps that "
                                 f"come before or after it.{note}", 10000)

    def add_step(self) -> None:
        """A new step after the selected one, its user message the output of the one before."""
        variant = self._chain()
        if variant is None:
            return
        self._pane.flush()
        row = self._pane.steps.current_row()
        at = row + 1 if row >= 0 else len(variant.steps)
        before = variant.steps[at - 1].name if at > 0 else None
        step = Step(name=new_step_name(s.name for s in variant.steps),
                    user=f"{{{{steps.{before}}}}}" if before else "")
        variant.steps.insert(at, step)
        self._undo.edited(variant, "steps", f"to {variant.name}")
        self._show(variant, at)

    def remove_step(self) -> None:
        variant = self._chain()
        row = self._pane.steps.current_row()
        if variant is None or not 0 <= row < len(variant.steps):
            return
        self._pane.flush()
        del variant.steps[row]
        self._undo.edited(variant, "steps", f"of {variant.name}")
        self._show(variant, min(row, len(variant.steps) - 1))
        if not variant.steps:
            self._status.showMessage(f"{variant.name} is a single prompt again.", 6000)

    def move_step(self, delta: int) -> None:
        variant = self._chain()
        row = self._pane.steps.current_row()
        if variant is None or not 0 <= row < len(variant.steps):
            return
        to = row + delta
        if not 0 <= to < len(variant.steps):
            return
        self._pane.flush()
        steps = variant.steps
        steps[row], steps[to] = steps[to], steps[row]
        self._undo.edited(variant, "steps", f"of {variant.name}")
        self._show(variant, to)

    def rename_step(self, row: int, name: str) -> None:
        variant = self._chain()
        if variant is None or not 0 <= row < len(variant.steps):
            return
        step = variant.steps[row]
        if name == step.name:
            return
        problem = step_name_problem(name, (s.name for s in variant.steps if s is not step))
        if problem:
            self._status.showMessage(f"Not renamed: {problem}.", 8000)
            self._show(variant, row, save=False)
            return
        old, step.name = step.name, name
        self._undo.fields_changed(step, {"name": old}, {"name": name},
                                  f"Rename step '{old}' of {variant.name} to '{name}'")
        later = [s.name for s in variant.steps[row + 1:]
                 if f"steps.{old}" in s.user or f"steps.{old}" in s.system]
        if later:
            self._status.showMessage(
                f"Renamed. {', '.join(later)} still refer to {{{{steps.{old}}}}}: change it "
                f"to {{{{steps.{name}}}}} there.", 10000)
        self._show(variant, row)

    # ---- what the selected step says (saved; text keeps its own undo)

    def _step_edited(self, row: int, what: str, value: Any) -> None:
        variant = self._chain()
        if variant is None or not 0 <= row < len(variant.steps):
            return
        step = variant.steps[row]
        if what in ("system", "user"):
            if getattr(step, what) == value:
                return
            setattr(step, what, value)
        elif what == "model":
            if "/" not in value:
                self._status.showMessage(f"'{value}' needs a provider in front, like "
                                         f"openai/{value}; not changed.", 6000)
                self._pane.set_model_names(self._model_names())
                return
            step.model = "" if value == variant.model else value
        elif what == "params":
            for name, setting in value.items():
                if setting is None:
                    step.params.pop(name, None)
                else:
                    step.params[name] = setting
        elif what == "output" and value != "schema":
            step.params = with_output_format(step.params, value)
        elif what in ("output", "schema"):
            self._edit_schema(variant, step)
            return
        self._variants_pane.model.refresh()
        self.changed.emit()
        self._session.save()

    def _edit_schema(self, variant: Variant, step: Step) -> SchemaDialog:
        # imported when opened, not before the window's first paint
        from lab.gui.dialogs.schema import SchemaDialog

        dialog = SchemaDialog(f"{variant.name} › {step.name}", output_schema(step.params),
                              self._window)
        self.schema_dialog = dialog

        def accepted() -> None:
            step.params = with_output_format(step.params, "schema", dialog.schema())
            self.changed.emit()
            self._session.save()

        def finished(_result: int) -> None:
            if self._pane.step_index is not None and variant is self._session.current_variant:
                self._pane.parameters.show_output_format(output_format(step.params))

        dialog.accepted.connect(accepted)
        dialog.finished.connect(finished)
        dialog.open()
        return dialog

    # ---- helpers

    def _chain(self) -> Variant | None:
        variant = self._session.current_variant
        return variant if variant is not None and variant.steps else None

    def _show(self, variant: Variant, step: int, save: bool = True) -> None:
        project = self._session.project
        if project is None:
            return
        self._pane.show_variant(variant, project.user_template, self._model_names(),
                                step if variant.steps else None)
        self._examples_pane.show_chain(bool(variant.steps))
        self._variants_pane.model.refresh()
        if save:
            self.changed.emit()
            self._session.save()
