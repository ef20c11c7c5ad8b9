"""Asking to trust an experiment file whose python checks are code: what the checks are, word
for word, then trust the file (its checks run), open it with them off (flagged, never run), or
cancel. The lab never runs code from a file the user has not trusted."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lab.core.checks.config import check_names, runs_code
from lab.core.model import Check


class TrustDialog(QDialog):
    """`choice` is "trust", "off" or None (cancelled) once it closes."""

    def __init__(self, path: str, checks: list[Check], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Trust this experiment file?")
        self.resize(640, 420)
        code = [(name, check) for check, name in zip(checks, check_names(checks))
                if runs_code(check)]
        intro = QLabel(
            f"<b>{path}</b> has {len(code)} python check{'s' if len(code) != 1 else ''}. A "
            "python check is code: it runs on this machine with your permissions, once per "
            "output. Trust the file only if you know where it comes from. Trust is kept for "
            "this exact content: if the file changes, you are asked again.")
        intro.setWordWrap(True)
        self.listing = QPlainTextEdit()
        self.listing.setReadOnly(True)
        self.listing.setPlainText("\n\n".join(
            f"{name}:\n    {check.config.get('expression', '')}" for name, check in code))
        self.buttons = QDialogButtonBox()
        self.trust_button = QPushButton("Trust and open")
        self.off_button = QPushButton("Open with these checks off")
        self.off_button.setToolTip("They are shown, flagged, and never run")
        self.buttons.addButton(self.trust_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.off_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.choice: str | None = None
        self.trust_button.clicked.connect(lambda: self._close_with("trust"))
        self.off_button.clicked.connect(lambda: self._close_with("off"))
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.listing, 1)
        layout.addWidget(self.buttons)
        self.off_button.setDefault(True)

    def _close_with(self, choice: str) -> None:
        self.choice = choice
        self.accept()
