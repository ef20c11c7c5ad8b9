"""The first-start bar under the toolbar: a model server found on this machine, offered for the
sample's variants, or else a hosted provider's key to add. Shown once per workspace.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QSizePolicy, QToolBar, QToolButton

from lab.core.providers.discovery import FoundServer


class WelcomeBar(QToolBar):
    use_server = Signal(object)  # the FoundServer to point the variants at
    add_key = Signal()
    dismissed = Signal()

    def __init__(self) -> None:
        super().__init__("Getting started")
        self.setObjectName("WelcomeBar")
        self.setMovable(False)
        self.message = QLabel()
        self.message.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.message.setContentsMargins(8, 0, 8, 0)
        self.use_button = QToolButton()
        self.use_button.clicked.connect(lambda: self._found and self.use_server.emit(self._found))
        self.key_button = QToolButton()
        self.key_button.setText("Add a hosted provider's key…")
        self.key_button.clicked.connect(self.add_key.emit)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Not now")
        self.close_button.clicked.connect(self.dismiss)
        self.addWidget(self.message)
        self._use_action = self.addWidget(self.use_button)
        self.addWidget(self.key_button)
        self.addWidget(self.close_button)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self._found: FoundServer | None = None
        self.hide()

    def offer(self, found: list[FoundServer]) -> None:
        """What was found on this machine (maybe nothing): say so, with what to do next."""
        self._found = found[0] if found else None
        if self._found is not None:
            names = ", ".join(f"{f.server.label} ({len(f.models)} models)" for f in found)
            self.message.setText(f"Found on this machine: {names}. Run the sample on it (free, "
                                 "nothing leaves this machine), or add a hosted provider's key.")
            self.use_button.setText(f"Use {self._found.first_model}")
            self.use_button.setToolTip("Point every variant of this project at it")
        else:
            self.message.setText("No model server found on this machine (Ollama, llama.cpp, "
                                 "LM Studio, vLLM). To run the sample, add a hosted provider's "
                                 "key, or start one.")
        self._use_action.setVisible(self._found is not None)
        self.show()

    def dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()
