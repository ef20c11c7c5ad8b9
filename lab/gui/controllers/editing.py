"""The main window's editing: variants, examples, test cases, model and parameters, autosave.

Every edit changes the project in memory at once and is saved as a snapshot on the store
thread, one save at a time (see `_save_project`).
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from lab.core.experiment import cases as cases_file
from lab.core.model import Variant
from lab.core.workspace.providers import configured_providers, list_all_models
from lab.core.workspace.store import Store
from lab.gui.dialogs import messages as dialogs
from lab.gui.dialogs.compare import VariantDiffDialog
from lab.gui.dialogs.providers import ProvidersDialog
from lab.gui.tasks import when_done


class EditingMixin:
    """Part of MainWindow (see main_window.py); uses the panes and threads it creates."""

    def _select_variant(self, row: int) -> None:
        self.prompt_pane.flush()
        project = self.project
        variant = project.variants[row] if project and 0 <= row < len(project.variants) else None
        self.current_variant = variant
        self.prompt_pane.show_variant(variant, project.user_template if project else "",
                                      self.model_names())
        self.examples_pane.set_examples(variant.examples if variant else [],
                                        variant.name if variant else "")

    def _save_system(self, text: str) -> None:
        variant, project = self.current_variant, self.project
        if variant is None or project is None or variant.system == text:
            return
        variant.system = text
        self._save_variant(variant)

    def _save_examples(self) -> None:
        variant, project = self.current_variant, self.project
        if variant is None or project is None:
            return
        self.variants_pane.model.refresh()
        self._save_variant(variant)

    def _save_params(self, values: dict) -> None:
        variant = self.current_variant
        if variant is None:
            return
        for name, value in values.items():
            if value is None:
                variant.params.pop(name, None)
            else:
                variant.params[name] = value
        self.variants_pane.model.refresh()
        self._save_variant(variant)

    def _save_variant(self, _variant: Variant) -> None:
        self._save_project()

    def _unique_name(self, base: str) -> str:
        names = {v.name for v in self.project.variants} if self.project else set()
        if base not in names:
            return base
        n = 2
        while f"{base} ({n})" in names:
            n += 1
        return f"{base} ({n})"

    def _insert_variant(self, variant: Variant, row: int) -> None:
        project = self.project
        if project is None:
            return
        project.variants.insert(row, variant)
        self.variants_pane.model.set_variants(project.variants)
        self.variants_pane.select(row)
        self._refresh_matrix()
        self._save_project()

    def new_variant(self) -> None:
        if self.project is None:
            return
        letter = chr(ord("A") + len(self.project.variants) % 26)
        model = self.current_variant.model if self.current_variant else "openai/gpt-4o-mini"
        self._insert_variant(Variant(name=self._unique_name(letter), model=model),
                             len(self.project.variants))
        self.prompt_pane.system.setFocus()

    def duplicate_variant(self) -> None:
        variant = self.current_variant
        if self.project is None or variant is None:
            return
        self.prompt_pane.flush()
        copy_ = copy.deepcopy(variant)
        copy_.id = None
        for example in copy_.examples:
            example.id = None
        copy_.name = self._unique_name(f"{variant.name} copy")
        self._insert_variant(copy_, self.project.variants.index(variant) + 1)

    def delete_variant(self) -> None:
        variant, project = self.current_variant, self.project
        if project is None or variant is None:
            return
        if not dialogs.confirm(self, "Delete variant",
                               f"Delete the variant “{variant.name}” with its prompt and "
                               f"{len(variant.examples)} examples? Logged calls are kept."):
            return
        row = project.variants.index(variant)
        project.variants.remove(variant)
        self.current_variant = None
        self.variants_pane.model.set_variants(project.variants)
        if project.variants:
            self.variants_pane.select(min(row, len(project.variants) - 1))
        else:
            self._select_variant(-1)
        self._refresh_matrix()
        self._save_project()

    def compare_variants(self) -> VariantDiffDialog | None:
        project = self.project
        if project is None or not project.variants:
            return None
        self.prompt_pane.flush()
        current = max(self.variants_pane.current_row(), 0)
        other = 1 if current == 0 else 0
        dialog = VariantDiffDialog(project.variants, left=other if current else 0,
                                   right=current if current else other, parent=self)
        dialog.show()
        return dialog

    def _variant_renamed(self, row: int) -> None:
        if self.project is None:
            return
        variant = self.project.variants[row]
        if variant is self.current_variant:
            self.prompt_pane.header.title.setText(f"System prompt · {variant.name}")
            self.examples_pane.header.title.setText(f"Few-shot examples · {variant.name}")
        self._refresh_matrix()
        self._save_variant(variant)

    def _cases_edited(self) -> None:
        self._refresh_matrix()
        self._save_project()

    def _finish_saves(self, timeout_s: float = 10.0) -> None:
        """On close, let the save in flight (and the one it queues) land: an edit made a moment
        before quitting must not be lost. Events keep flowing, so the window stays responsive."""


        deadline = time.monotonic() + timeout_s
        while (self._saving or self._save_again) and time.monotonic() < deadline:
            if not self._saving:
                self._save_project()
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)

    def _save_project(self) -> None:
        """Save the whole project on the store thread, one save at a time.

        The store assigns ids to new variants, examples and cases; they are copied back onto
        the objects before the next save, or a second save would insert them again. So while a
        save is in flight, further edits only mark the project dirty, and one more save follows.
        """
        if self.project is None:
            return
        if self._saving:
            self._save_again = True
            return
        self._saving, self._save_again = True, False
        project = self.project
        originals = [project, *project.variants, *project.cases, *project.checks,
                     *(e for v in project.variants for e in v.examples)]
        snapshot = copy.deepcopy(project)

        def save(store: Store) -> list[int | None]:
            store.save_project(snapshot)
            copies = [snapshot, *snapshot.variants, *snapshot.cases, *snapshot.checks,
                      *(e for v in snapshot.variants for e in v.examples)]
            return [c.id for c in copies]

        def saved(ids: list[int | None]) -> None:
            for obj, new_id in zip(originals, ids):
                obj.id = new_id
            self._saving = False
            if self._save_again and project is self.project:
                self._save_project()
            else:
                self.statusBar().showMessage("Saved", 1500)

        def failed(exc: BaseException) -> None:
            self._saving = False
            QMessageBox.warning(self, "Not saved", str(exc))

        when_done(self.store.submit(save), saved, failed)

    def import_cases(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Import test cases", str(Path.home()),
                "Test cases (*.csv *.tsv *.jsonl *.ndjson);;All files (*)")
        if not path:
            return
        # Reading and parsing a file is disk work: off the GUI thread.
        when_done(self.network.run_blocking(cases_file.load, path), self._add_imported,
                  lambda exc: QMessageBox.warning(self, "Cannot import", str(exc)))

    def paste_cases(self) -> None:
        text = QApplication.clipboard().text()
        self._add_imported(cases_file.parse_paste(text, self.cases_pane.model.variable_names))

    def _add_imported(self, imported: cases_file.CasesImport) -> None:
        if imported.problems and not dialogs.confirm_import(
                self, imported.source, len(imported.cases), imported.messages()):
            return
        self.cases_pane.model.add_cases(imported.cases)
        self.cases_pane.set_cases(self.cases_pane.model._cases)
        self.statusBar().showMessage(f"Added {len(imported.cases)} test cases", 4000)

    def model_names(self) -> list[str]:
        return sorted(f"{provider}/{m}" for provider, names in self.models.items() for m in names)

    def _save_model(self, model: str) -> None:
        variant, project = self.current_variant, self.project
        if variant is None or project is None or variant.model == model:
            return
        if "/" not in model:
            self.statusBar().showMessage(
                f"'{model}' needs a provider in front, like openai/{model}; not changed.", 6000)
            self.prompt_pane.model_picker.set_models(self.model_names(), variant.model)
            return
        variant.model = model
        self.variants_pane.model.refresh()
        self._refresh_matrix()
        self._save_variant(variant)

    def _models_listed(self, provider: str, models: list[str]) -> None:
        self.models[provider] = models
        if self.current_variant is not None:
            self.prompt_pane.model_picker.set_models(self.model_names(), self.current_variant.model)

    def show_providers(self) -> ProvidersDialog:
        dialog = ProvidersDialog(self.store, self.network, self)
        dialog.models_listed.connect(self._models_listed)
        dialog.show()
        return dialog

    def refresh_models(self) -> None:
        self.statusBar().showMessage("Asking providers for their models…")
        configs = self.store.submit(configured_providers)

        def ask(configs_list) -> None:
            when_done(self.network.submit(list_all_models(configs_list)), listed, failed)

        def listed(result: dict) -> None:
            problems = []
            for provider, models in result.items():
                if isinstance(models, list):
                    self._models_listed(provider, models)
                else:
                    problems.append(f"{provider}: {models}")
            found = sum(len(v) for v in result.values() if isinstance(v, list))
            self.statusBar().showMessage(
                f"{found} models listed" + (f" · {'; '.join(problems)}" if problems else "")
                if result else "No provider has a key yet: add one in Edit ▸ Providers.", 10000)

        def failed(exc: BaseException) -> None:
            self.statusBar().showMessage(f"Could not list models: {exc}", 10000)

        when_done(configs, ask, failed)

    def _save_template(self, text: str) -> None:
        project = self.project
        if project is None or project.user_template == text:
            return
        project.user_template = text
        self._save_project()

    def _refresh_matrix(self) -> None:
        if self.project is None:
            return
        samples = self.samples.value()
        self.results_pane.set_matrix(self.project.cases, self.project.variants, samples)
        calls = len(self.project.cases) * len(self.project.variants) * samples
        self.estimate_label.setText(f" {calls} calls planned ")
        self._estimate_timer.start()
