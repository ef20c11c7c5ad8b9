"""The output schema of a variant, edited in a dialog: the JSON Schema every output of the
variant is asked for and checked against. OK is enabled only while the schema is valid."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from lab.gui.widgets import SchemaEditor


class SchemaDialog(QDialog):
    def __init__(self, variant_name: str, schema: dict[str, Any] | None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Output schema · {variant_name}")
        self.resize(620, 480)
        intro = QLabel("The model is asked to reply with JSON matching this schema (each "
                       "provider's structured-output mode), and every output of this variant "
                       "is checked against it: the “output schema” check in the results.")
        intro.setWordWrap(True)
        self.editor = SchemaEditor()
        self.editor.set_text(json.dumps(schema if schema is not None else {
            "type": "object", "required": ["answer"],
            "properties": {"answer": {"type": "string"}}}, indent=2, ensure_ascii=False))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.buttons)
        self.editor.changed.connect(self._valid)
        self._valid()

    def _valid(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(
            self.editor.problem() is None)

    def schema(self) -> dict[str, Any]:
        return json.loads(self.editor.text())
