"""The Providers dialog: add, edit and remove the model providers the lab can call.

Definitions go to the workspace (never the key); a key typed here goes straight to the system
keyring. "Test connection" lists the provider's models with the settings as typed, before saving,
and feeds the model picker. Every disk, keyring and network step runs off the GUI thread.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lab.core.providers import keys
from lab.core.providers.base import DEFAULT_BASE_URLS, ProviderConfig, Timeouts
from lab.core.runtime.async_thread import AsyncLoopThread
from lab.core.workspace.providers import (
    BUILT_IN,
    configured_providers,
    list_models,
    save_provider,
)
from lab.core.workspace.thread import StoreThread
from lab.gui.tasks import when_done

KIND_LABELS = {
    "openai": "OpenAI or compatible (vLLM, llama.cpp, LM Studio, OpenRouter, Groq…)",
    "anthropic": "Anthropic Messages",
    "gemini": "Google Gemini",
    "ollama": "Ollama (native)",
}


class ProvidersDialog(QDialog):
    """Edits one provider at a time; the list on the left picks which."""

    models_listed = Signal(str, list)  # provider name, models
    providers_changed = Signal()

    def __init__(self, store: StoreThread, runner: AsyncLoopThread, parent: QWidget | None = None,
                 select: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Providers")
        self.resize(860, 520)
        self._store = store
        self._async = runner
        self._configs: list[ProviderConfig] = []
        self._stored_names: set[str] = set()

        self.list = QListWidget()
        self.list.setMinimumWidth(200)
        self.list.setSpacing(3)
        self.add_button = QPushButton("Add")
        self.remove_button = QPushButton("Remove")
        left = QVBoxLayout()
        left.addWidget(self.list)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        left.addLayout(buttons)

        self.name = QLineEdit()
        self.kind = QComboBox()
        for kind, label in KIND_LABELS.items():
            self.kind.addItem(label, kind)
        self.base_url = QLineEdit()
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_status = QLabel()
        self.key_status.setObjectName("PaneCaption")
        self.key_env = QLineEdit()
        self.key_env.setPlaceholderText("optional, e.g. MY_SERVER_KEY")
        self.concurrency = QSpinBox()
        self.concurrency.setRange(0, 256)
        self.concurrency.setSpecialValueText("set by the run")  # 0: not pinned
        self.concurrency.setToolTip("Calls in flight at once, at most; 'set by the run' follows the "
                                    "run's Concurrency. The lab slows down by itself on 429s")
        self.params = QLineEdit()
        self.params.setPlaceholderText('{"temperature": 0.2, "max_tokens": 512}')
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("API", self.kind)
        form.addRow("Base URL", self.base_url)
        form.addRow("API key", self.key)
        form.addRow("", self.key_status)
        form.addRow("Key variable", self.key_env)
        form.addRow("Concurrency", self.concurrency)
        form.addRow("Default parameters", self.params)

        self.test_button = QPushButton("Test connection")
        self.test_status = QLabel("Lists the models this provider offers, using the settings "
                                  "above (nothing is saved).")
        self.test_status.setObjectName("PaneCaption")
        self.test_status.setWordWrap(True)
        self.models = QListWidget()
        right = QVBoxLayout()
        right.addLayout(form)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_status, 1)
        right.addLayout(test_row)
        right.addWidget(self.models, 1)
        self.message = QLabel()
        self.message.setWordWrap(True)
        right.addWidget(self.message)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addLayout(right, 3)
        outer = QVBoxLayout(self)
        outer.addLayout(body)
        outer.addWidget(self.buttons)

        self.list.currentRowChanged.connect(self._show_row)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.add_button.clicked.connect(self._add)
        self.remove_button.clicked.connect(self._remove)
        self.test_button.clicked.connect(self._test)
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        self._reload(select=select)

    # ----------------------------------------------------------------- list

    def _reload(self, select: str | None = None, message: str = "") -> None:
        """Re-read the providers; `message` is shown once the list is filled (selecting a row
        clears the form, so an earlier message would be wiped)."""
        def read(store) -> tuple[list[ProviderConfig], set[str]]:
            return configured_providers(store), {p["name"] for p in store.list_providers()}

        def show(result) -> None:
            self._fill(*result, select=select)
            self.message.setText(message)
            if select is not None and self.list.currentItem() is not None \
                    and self.list.currentItem().text() == select:
                self.key.setFocus()

        when_done(self._store.submit(read), show, self._error)

    def _fill(self, configs: list[ProviderConfig], stored: set[str], select: str | None) -> None:
        self._configs, self._stored_names = configs, stored
        self.list.clear()
        for config in configs:
            item = QListWidgetItem(config.name)
            item.setToolTip(f"{KIND_LABELS[config.kind]}\n{config.base_url}")
            self.list.addItem(item)
        names = [c.name for c in configs]
        self.list.setCurrentRow(names.index(select) if select in names else 0)

    def _show_row(self, row: int) -> None:
        if not 0 <= row < len(self._configs):
            return
        config = self._configs[row]
        self.name.setText(config.name)
        self.kind.setCurrentIndex(self.kind.findData(config.kind))
        self.base_url.setText(config.base_url)
        self.key.clear()
        self.key_env.setText(config.api_key_env or "")
        self.concurrency.setValue(config.concurrency or 0)
        self.params.setText(json.dumps(config.default_params) if config.default_params else "")
        self.models.clear()
        self.test_status.setText("Lists the models this provider offers, using the settings "
                                 "above (nothing is saved).")
        self.message.clear()
        self.remove_button.setEnabled(config.name not in BUILT_IN or config.name in self._stored_names)
        self.remove_button.setText("Reset" if config.name in BUILT_IN else "Remove")
        self._show_key_status(config)

    def _show_key_status(self, config: ProviderConfig) -> None:
        def where() -> str:
            source = keys.find_key(config)[1]
            if source == "keyring":
                return "A key is stored in the system keyring. Type a new one to replace it."
            if source == "env":
                return f"Using the key from {' / '.join(keys.env_var_names(config))}."
            if config.is_local:
                return "Runs on this machine: no key needed."
            env = " / ".join(keys.env_var_names(config))
            return "No key yet. Type it here (kept in the system keyring)" + (
                f" or set {env}." if env else ".")

        when_done(self._async.run_blocking(where), self.key_status.setText, self._error)

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        if self.base_url.text().strip() in DEFAULT_BASE_URLS.values() or not self.base_url.text():
            self.base_url.setText(DEFAULT_BASE_URLS[kind])

    def _add(self) -> None:
        existing = {c.name for c in self._configs}
        n = 1
        while f"custom{n}" in existing:
            n += 1
        config = ProviderConfig(name=f"custom{n}", kind="openai",
                                base_url="http://127.0.0.1:8000/v1")
        self._configs.append(config)
        self.list.addItem(QListWidgetItem(config.name))
        self.list.setCurrentRow(len(self._configs) - 1)
        self.name.setFocus()
        self.name.selectAll()

    def _remove(self) -> None:
        row = self.list.currentRow()
        if not 0 <= row < len(self._configs):
            return
        name = self._configs[row].name

        def remove(store) -> None:
            store.delete_provider(name)

        def forget_key() -> None:
            # A removed provider's key would be an orphan secret: delete it too.
            if name not in BUILT_IN and keys.keyring_available():
                keys.delete_key(name)

        def removed(_result: Any) -> None:
            self.providers_changed.emit()
            self._reload(message=f"Removed {name}." if name not in BUILT_IN
                         else f"{name} is back to its built-in settings.")

        def remove_key(_result: Any) -> None:
            when_done(self._async.run_blocking(forget_key), removed, self._error)

        when_done(self._store.submit(remove), remove_key, self._error)

    # ----------------------------------------------------------------- form

    def form_config(self) -> ProviderConfig:
        """The provider as typed; raises ValueError with a message naming the field."""
        name = self.name.text().strip()
        if not name or "/" in name or " " in name:
            raise ValueError("Name: use letters, digits, '-' or '_' (it is the part before '/' "
                             "in model names like local/llama3).")
        url = self.base_url.text().strip()
        if not url.startswith(("http://", "https://")):
            raise ValueError("Base URL: must start with http:// or https://")
        params_text = self.params.text().strip()
        try:
            params = json.loads(params_text) if params_text else {}
        except json.JSONDecodeError as exc:
            raise ValueError(f"Default parameters: not valid JSON ({exc.msg}, column {exc.colno}).") from None
        if not isinstance(params, dict):
            raise ValueError('Default parameters: must be a JSON object like {"temperature": 0.2}.')
        row = self.list.currentRow()
        base = self._configs[row] if 0 <= row < len(self._configs) else None
        return ProviderConfig(
            name=name, kind=self.kind.currentData(), base_url=url,
            api_key_env=self.key_env.text().strip() or None,
            concurrency=self.concurrency.value() or None, default_params=params,
            timeouts=base.timeouts if base else Timeouts(),
            max_retries=base.max_retries if base else 4,
        )

    def _save(self) -> None:
        try:
            config = self.form_config()
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        row = self.list.currentRow()
        old_name = self._configs[row].name if 0 <= row < len(self._configs) else config.name
        others = {c.name for i, c in enumerate(self._configs) if i != row}
        if config.name in others:
            self.message.setText(f"Name: another provider is already called '{config.name}'.")
            return
        key = self.key.text().strip()

        def write(store) -> None:
            if old_name != config.name and old_name not in BUILT_IN:
                store.delete_provider(old_name)
            save_provider(store, config)

        def finished(_result: Any) -> None:
            self.providers_changed.emit()
            self._reload(select=config.name, message=f"Saved {config.name}" + (
                " and its key (in the system keyring)." if key else "."))

        def saved(_result: Any) -> None:
            self.key.clear()
            if key:
                when_done(self._async.run_blocking(keys.set_key, config.name, key),
                          finished, self._error)
            else:
                finished(None)

        when_done(self._store.submit(write), saved, self._error)

    def _test(self) -> None:
        try:
            config = self.form_config()
        except ValueError as exc:
            self.test_status.setText(str(exc))
            return
        self.test_button.setEnabled(False)
        self.test_status.setText(f"Asking {config.base_url} for its models…")
        self.models.clear()
        future = self._async.submit(list_models(config, key=self.key.text().strip() or None))

        def done(models: list[str]) -> None:
            self.test_button.setEnabled(True)
            self.test_status.setText(f"Connected: {len(models)} models.")
            self.models.addItems(models)
            self.models_listed.emit(config.name, models)

        def failed(exc: BaseException) -> None:
            self.test_button.setEnabled(True)
            self.test_status.setText(str(exc))

        when_done(future, done, failed)

    def _error(self, exc: BaseException) -> None:
        self.message.setText(str(exc))
