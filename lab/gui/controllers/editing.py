"""Editing the project: variants (new, duplicate, rename, delete, compare), the selected variant's
prompt, model, parameters and examples, the user-message template, and test cases (edit,
import, paste); the providers dialog and the model list.

Every edit changes the project in memory at once and is saved by the session (autosave). When
an edit changes the results grid's shape, `matrix_changed` says so.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMessageBox

from lab.core.experiment import cases as cases_file
from lab.core.model import Project, Retrieval, Step, Variant
from lab.core.run.output_format import output_format, output_schema, with_output_format
from lab.core.runtime.async_thread import AsyncLoopThread
from lab.core.workspace.providers import configured_providers, list_all_models
from lab.gui.controllers.session import Session
from lab.gui.controllers.undo import ProjectUndo
from lab.gui.dialogs import messages
from lab.gui.panes.cases import CasesPane
from lab.gui.panes.examples import ExamplesPane
from lab.gui.panes.prompt import PromptPane
from lab.gui.panes.variants import VariantsPane
from lab.gui.tasks import when_done

if TYPE_CHECKING:  # annotations only: loaded where used, not before the first paint
    from lab.gui.dialogs.compare import VariantDiffDialog
    from lab.gui.dialogs.providers import ProvidersDialog
    from lab.gui.dialogs.schema import SchemaDialog


class EditingController(QObject):
    matrix_changed = Signal()  # variants, their models or the test cases changed

    def __init__(self, session: Session, variants_pane: VariantsPane, prompt_pane: PromptPane,
                 examples_pane: ExamplesPane, cases_pane: CasesPane, undo: ProjectUndo,
                 network: AsyncLoopThread, window: QMainWindow):
        super().__init__(window)
        self._session = session
        self._undo = undo  # structural edits (add, delete, move, rename) can be undone
        self._variants_pane = variants_pane
        self._prompt_pane = prompt_pane
        self._examples_pane = examples_pane
        self._cases_pane = cases_pane
        self._network = network  # file reads and model lists happen on its thread
        self._window = window  # the parent of dialogs
        self._status = window.statusBar()
        self._models: dict[str, list[str]] = {}  # provider name -> model names, as last listed
        self.providers_dialog: ProvidersDialog | None = None
        self.schema_dialog: SchemaDialog | None = None

        variants_pane.variant_selected.connect(self._select_variant)
        prompt_pane.system_edited.connect(self._save_system)
        prompt_pane.template_edited.connect(self._save_template)
        prompt_pane.model_chosen.connect(self._save_model)
        prompt_pane.params_edited.connect(self._save_params)
        prompt_pane.output_format_chosen.connect(self._output_format_chosen)
        prompt_pane.schema_requested.connect(self.edit_output_schema)
        prompt_pane.retrieval_edited.connect(self._save_retrieval)
        examples_pane.model.edited.connect(self._save_examples)
        cases_pane.model.edited.connect(self._cases_edited)
        variants_pane.add_requested.connect(self.new_variant)
        variants_pane.duplicate_requested.connect(self.duplicate_variant)
        variants_pane.delete_requested.connect(self.delete_variant)
        variants_pane.compare_requested.connect(self.compare_variants)
        variants_pane.model.renamed.connect(self._variant_renamed)
        undo.restored.connect(self.show_restored)
        cases_pane.import_requested.connect(self.import_cases)
        cases_pane.paste_requested.connect(self.paste_cases)

    def show_project(self, project: Project) -> None:
        """A project was opened: its variants and cases, the first variant selected."""
        self._variants_pane.model.set_variants(project.variants)
        self._cases_pane.set_cases(project.cases)
        self.matrix_changed.emit()
        if project.variants:
            self._variants_pane.select(0)
        else:
            self._select_variant(-1)

    def _select_variant(self, row: int) -> None:
        self._prompt_pane.flush()
        project = self._session.project
        variant = project.variants[row] if project and 0 <= row < len(project.variants) else None
        self._session.current_variant = variant
        self._prompt_pane.show_variant(variant, project.user_template if project else "",
                                       self.model_names())
        self._examples_pane.set_examples(variant.examples if variant else [],
                                         variant.name if variant else "",
                                         bool(variant and variant.steps))

    def _save_system(self, text: str) -> None:
        variant, project = self._session.current_variant, self._session.project
        if variant is None or project is None or variant.system == text:
            return
        variant.system = text
        self._session.save()

    def _save_examples(self) -> None:
        variant, project = self._session.current_variant, self._session.project
        if variant is None or project is None:
            return
        self._undo.edited(variant, "examples", f"of {variant.name}")
        self._variants_pane.model.refresh()
        self._session.save()

    def _save_params(self, values: dict) -> None:
        variant = self._session.current_variant
        if variant is None:
            return
        for name, value in values.items():
            if value is None:
                variant.params.pop(name, None)
            else:
                variant.params[name] = value
        self._variants_pane.model.refresh()
        self._session.save()

    def _save_retrieval(self, retrieval: Retrieval | None) -> None:
        """The variant's retrieval setting (off, lexical, embeddings, hybrid; k, query,
        embedding model): one step to undo."""
        variant = self._session.current_variant
        if variant is None or variant.retrieval == retrieval:
            return
        before = variant.retrieval
        variant.retrieval = retrieval
        self._undo.fields_changed(variant, {"retrieval": before}, {"retrieval": retrieval},
                                  f"Change the retrieval of {variant.name}")
        self._variants_pane.model.refresh()
        self.matrix_changed.emit()
        self._session.save()

    def _output_format_chosen(self, fmt: str) -> None:
        variant = self._session.current_variant
        if variant is None:
            return
        if fmt == "schema":
            self.edit_output_schema()
        else:
            self._set_params(variant, with_output_format(variant.params, fmt))

    def edit_output_schema(self) -> SchemaDialog | None:
        """The selected variant's output schema, in a dialog that checks it as it is typed."""
        # imported when opened, not before the window's first paint
        from lab.gui.dialogs.schema import SchemaDialog

        variant = self._session.current_variant
        if variant is None:
            return None
        dialog = SchemaDialog(variant.name, output_schema(variant.params), self._window)
        self.schema_dialog = dialog
        dialog.accepted.connect(lambda: self._set_params(
            variant, with_output_format(variant.params, "schema", dialog.schema())))
        dialog.finished.connect(lambda _r: self._prompt_pane.parameters.show_output_format(
            output_format(variant.params)) if variant is self._session.current_variant else None)
        dialog.open()
        return dialog

    def _set_params(self, variant: Variant, params: dict) -> None:
        variant.params = params
        self._variants_pane.model.refresh()
        self.matrix_changed.emit()
        self._session.save()

    def _unique_name(self, base: str) -> str:
        project = self._session.project
        names = {v.name for v in project.variants} if project else set()
        if base not in names:
            return base
        n = 2
        while f"{base} ({n})" in names:
            n += 1
        return f"{base} ({n})"

    def _insert_variant(self, variant: Variant, row: int) -> None:
        project = self._session.project
        if project is None:
            return
        project.variants.insert(row, variant)
        self._undo.edited(project, "variants", f"'{variant.name}'")
        self._variants_pane.model.set_variants(project.variants)
        self._variants_pane.select(row)
        self.matrix_changed.emit()
        self._session.save()

    def new_variant(self) -> None:
        project, current = self._session.project, self._session.current_variant
        if project is None:
            return
        letter = chr(ord("A") + len(project.variants) % 26)
        model = current.model if current else "openai/gpt-4o-mini"
        self._insert_variant(Variant(name=self._unique_name(letter), model=model),
                             len(project.variants))
        self._prompt_pane.system.setFocus()

    def duplicate_variant(self) -> None:
        variant, project = self._session.current_variant, self._session.project
        if project is None or variant is None:
            return
        self._prompt_pane.flush()
        copy_ = copy.deepcopy(variant)
        copy_.id = None
        for example in copy_.examples:
            example.id = None
        copy_.name = self._unique_name(f"{variant.name} copy")
        self._insert_variant(copy_, project.variants.index(variant) + 1)

    def delete_variant(self) -> None:
        variant, project = self._session.current_variant, self._session.project
        if project is None or variant is None:
            return
        if not messages.confirm(self._window, "Delete variant",
                                f"Delete the variant “{variant.name}” with its prompt and "
                                f"{len(variant.examples)} examples? Logged calls are kept."):
            return
        row = next(i for i, v in enumerate(project.variants) if v is variant)
        del project.variants[row]
        self._undo.edited(project, "variants", f"'{variant.name}'")
        self._session.current_variant = None
        self._variants_pane.model.set_variants(project.variants)
        if project.variants:
            self._variants_pane.select(min(row, len(project.variants) - 1))
        else:
            self._select_variant(-1)
        self.matrix_changed.emit()
        self._session.save()

    def compare_variants(self) -> VariantDiffDialog | None:
        # imported when opened, not before the window's first paint
        from lab.gui.dialogs.compare import VariantDiffDialog

        project = self._session.project
        if project is None or not project.variants:
            return None
        self._prompt_pane.flush()
        current = max(self._variants_pane.current_row(), 0)
        other = 1 if current == 0 else 0
        dialog = VariantDiffDialog(project.variants, left=other if current else 0,
                                   right=current if current else other, parent=self._window)
        dialog.show()
        return dialog

    def _variant_renamed(self, row: int, old: str) -> None:
        project = self._session.project
        if project is None:
            return
        variant = project.variants[row]
        self._undo.fields_changed(variant, {"name": old}, {"name": variant.name},
                                  f"Rename variant '{old}' to '{variant.name}'")
        self._show_names(variant)
        self.matrix_changed.emit()
        self._session.save()

    def _show_names(self, variant: Variant) -> None:
        if variant is self._session.current_variant:
            self._prompt_pane.header.title.setText(f"System prompt · {variant.name}")
            self._examples_pane.header.title.setText(f"Few-shot examples · {variant.name}")

    def _cases_edited(self) -> None:
        project = self._session.project
        if project is not None:
            self._undo.edited(project, "cases")
        self.matrix_changed.emit()
        self._session.save()

    def show_restored(self, owner, what: str) -> None:
        """An undo or redo changed a list of the project, or fields of a variant: show it, with
        the variant it concerns selected, and save."""
        project = self._session.project
        if project is None:
            return
        variants = project.variants
        if what == "variants":
            current = self._session.current_variant
            row = next((i for i, v in enumerate(variants) if v is current),
                       min(max(self._variants_pane.current_row(), 0), len(variants) - 1))
            self._variants_pane.model.set_variants(variants)
            if variants:
                self._variants_pane.select(row)
            self._select_variant(row if variants else -1)
            self.matrix_changed.emit()
        elif isinstance(owner, Step) and any(s is owner for v in variants for s in v.steps):
            row, index = next((r, i) for r, v in enumerate(variants)
                              for i, s in enumerate(v.steps) if s is owner)
            self._variants_pane.select(row)
            self._prompt_pane.flush()
            self._session.current_variant = variants[row]
            self._prompt_pane.show_variant(variants[row], project.user_template,
                                           self.model_names(), index)
            self._variants_pane.model.refresh()
            self.matrix_changed.emit()
        elif what in ("examples", "fields", "steps") and any(v is owner for v in variants):
            row = next(i for i, v in enumerate(variants) if v is owner)
            self._variants_pane.select(row)
            self._select_variant(row)  # its prompt and examples, as they are now
            self._variants_pane.model.refresh()
            self.matrix_changed.emit()
        elif what == "cases":
            self._cases_pane.set_cases(project.cases)
            self.matrix_changed.emit()
        else:
            return
        self._session.save()

    def import_cases(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self._window, "Import test cases", str(Path.home()),
                "Test cases (*.csv *.tsv *.jsonl *.ndjson);;All files (*)")
        if not path:
            return
        # Reading and parsing a file is disk work: off the GUI thread.
        when_done(self._network.run_blocking(cases_file.load, path), self._add_imported,
                  lambda exc: QMessageBox.warning(self._window, "Cannot import", str(exc)))

    def paste_cases(self) -> None:
        text = QApplication.clipboard().text()
        self._add_imported(cases_file.parse_paste(text, self._cases_pane.model.variable_names))

    def _add_imported(self, imported: cases_file.CasesImport) -> None:
        if imported.problems and not messages.confirm_import(
                self._window, imported.source, len(imported.cases), imported.messages()):
            return
        self._cases_pane.model.add_cases(imported.cases)
        self._cases_pane.set_cases(self._cases_pane.model._cases)
        self._status.showMessage(f"Added {len(imported.cases)} test cases", 4000)

    def model_names(self) -> list[str]:
        return sorted(f"{provider}/{m}" for provider, names in self._models.items() for m in names)

    def _save_model(self, model: str) -> None:
        variant, project = self._session.current_variant, self._session.project
        if variant is None or project is None or variant.model == model:
            return
        if "/" not in model:
            self._status.showMessage(
                f"'{model}' needs a provider in front, like openai/{model}; not changed.", 6000)
            self._prompt_pane.model_picker.set_models(self.model_names(), variant.model)
            return
        variant.model = model
        self._variants_pane.model.refresh()
        self.matrix_changed.emit()
        self._session.save()

    def _models_listed(self, provider: str, models: list[str]) -> None:
        self._models[provider] = models
        self._prompt_pane.set_model_names(self.model_names())

    def show_providers(self, select: str | None = None) -> ProvidersDialog:
        # imported when opened, not before the window's first paint
        from lab.gui.dialogs.providers import ProvidersDialog

        dialog = ProvidersDialog(self._session.store, self._network, self._window, select=select)
        self.providers_dialog = dialog
        dialog.models_listed.connect(self._models_listed)
        dialog.show()
        return dialog

    def refresh_models(self) -> None:
        self._status.showMessage("Asking providers for their models…")
        configs = self._session.store.submit(configured_providers)

        def ask(configs_list) -> None:
            when_done(self._network.submit(list_all_models(configs_list)), listed, failed)

        def listed(result: dict) -> None:
            problems = []
            for provider, models in result.items():
                if isinstance(models, list):
                    self._models_listed(provider, models)
                else:
                    problems.append(f"{provider}: {models}")
            found = sum(len(v) for v in result.values() if isinstance(v, list))
            self._status.showMessage(
                f"{found} models listed" + (f" · {'; '.join(problems)}" if problems else "")
                if result else "No provider has a key yet: add one in Edit ▸ Providers.", 10000)

        def failed(exc: BaseException) -> None:
            self._status.showMessage(f"Could not list models: {exc}", 10000)

        when_done(configs, ask, failed)

    def _save_template(self, text: str) -> None:
        project = self._session.project
        if project is None or project.user_template == text:
            return
        project.user_template = text
        self._session.save()
