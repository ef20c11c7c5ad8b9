"""The Providers dialog end to end: add a provider, test its connection against the fake server
over loopback, save it with its key in the real keyring, pick one of its models for a variant."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import Qt

from tests.gui.sample_runs import SUPPORT
from tests.helpers.fake_provider import API_KEY, FakeProviderServer
from tests.helpers.keyring_session import secret_service_keyring  # noqa: F401  (fixture)


@pytest.fixture
def fake_server():
    server = FakeProviderServer().start()
    yield server
    server.stop()


def test_add_test_save_and_pick_a_model(make_window, qtbot, fake_server, lab_home,
                                        secret_service_keyring):  # noqa: F811
    window = make_window()
    dialog = window.editing.show_providers()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.list.count() == 4, timeout=5000)
    assert [dialog.list.item(i).text() for i in range(4)] == ["openai", "anthropic", "gemini", "ollama"]
    assert not dialog.remove_button.isEnabled()  # built-ins can only be reset once changed

    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    dialog.name.setText("local")
    dialog.kind.setCurrentIndex(dialog.kind.findData("openai"))
    dialog.base_url.setText(fake_server.base_url("openai"))
    dialog.key.setText("wrong-key-123456")
    dialog.concurrency.setValue(8)
    dialog.params.setText('{"temperature": 0.2}')

    # A wrong key is one clear message, and never shows the key.
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled()
                    and not dialog.test_status.text().startswith(("Asking", "Lists")), timeout=10000)
    assert "key" in dialog.test_status.text().lower()
    assert "wrong-key-123456" not in dialog.test_status.text()
    assert ".." not in dialog.test_status.text()

    dialog.key.setText(API_KEY)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_status.text().startswith("Connected"), timeout=10000)
    assert dialog.test_status.text() == "Connected: 3 models."
    assert [dialog.models.item(i).text() for i in range(3)] == ["gpt-4o", "gpt-4o-mini", "o4-mini"]

    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Saved local"), timeout=10000)
    assert dialog.message.text() == "Saved local and its key (in the system keyring)."
    assert secret_service_keyring.get_password("prompt-lab", "local") == API_KEY
    assert dialog.list.count() == 5 and dialog.list.currentItem().text() == "local"

    conn = sqlite3.connect(lab_home / "workspace.db")
    (kind, config) = conn.execute("SELECT kind, config_json FROM providers WHERE name='local'").fetchone()
    conn.close()
    assert kind == "openai" and fake_server.base_url("openai") in config
    assert '"concurrency": 8' in config and '"temperature": 0.2' in config
    # The key is nowhere in the workspace file or the settings file.
    for path in lab_home.iterdir():
        if path.is_file():
            assert API_KEY.encode() not in path.read_bytes(), path

    # The model picker now offers the listed models; choosing one saves it on the variant.
    picker = window.prompt_pane.model_picker
    items = [picker.itemText(i) for i in range(picker.count())]
    assert "local/gpt-4o-mini" in items and "openai/gpt-4o-mini" in items
    picker.setCurrentIndex(picker.findText("local/o4-mini"))
    picker.activated.emit(picker.currentIndex())

    def saved_model() -> str:
        conn = sqlite3.connect(lab_home / "workspace.db")
        try:
            return conn.execute(f"SELECT model FROM variants WHERE project_id = {SUPPORT}"
                                " ORDER BY position").fetchone()[0]
        finally:
            conn.close()

    qtbot.waitUntil(lambda: saved_model() == "local/o4-mini", timeout=5000)
    assert window.results_pane.model.headerData(0, Qt.Orientation.Horizontal).endswith("local/o4-mini")

    # Removing the provider removes its key too.
    dialog.list.setCurrentRow(4)
    assert dialog.remove_button.isEnabled() and dialog.remove_button.text() == "Remove"
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.message.text() == "Removed local.", timeout=5000)
    assert secret_service_keyring.get_password("prompt-lab", "local") is None
    assert dialog.list.count() == 4


def test_bad_fields_are_named(make_window, qtbot):
    window = make_window()
    dialog = window.editing.show_providers()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.list.count() == 4, timeout=5000)
    dialog.base_url.setText("api.example.com/v1")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert dialog.message.text() == "Base URL: must start with http:// or https://"
    dialog.base_url.setText("https://api.openai.com/v1")
    dialog.params.setText("{temperature: 1}")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert dialog.message.text().startswith("Default parameters: not valid JSON")
    dialog.params.setText("")
    dialog.name.setText("my provider")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert dialog.message.text().startswith("Name: use letters, digits")
