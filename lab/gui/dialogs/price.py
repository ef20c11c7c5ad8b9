"""Add price…: what a model costs, written to the user's own price file, so the estimate (and a
budget) can count it. The shipped table stays as it is; the user's file overrides it model by
model (lab.core.providers.pricing.save_user_price).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True)
class PriceEntry:
    model: str  # "provider/model"
    kind: str  # the provider's API family: the price file's first key
    input: float  # USD per 1M input tokens
    output: float  # USD per 1M output tokens

    @property
    def model_name(self) -> str:
        return self.model.partition("/")[2] or self.model


class AddPriceDialog(QDialog):
    """Pick one of the unpriced models and give its input and output price."""

    def __init__(self, unpriced: dict[str, str], price_file: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Add price")
        self._kinds = unpriced  # "provider/model" -> kind
        self.model = QComboBox()
        self.model.addItems(sorted(unpriced))
        self.input = self._money()
        self.output = self._money()
        form = QFormLayout()
        form.addRow("Model", self.model)
        form.addRow("Input", self.input)
        form.addRow("Output", self.output)
        note = QLabel(f"USD per 1 million tokens, as the provider's price page says. Saved in "
                      f"{price_file}; the shipped price table is left as it is.")
        note.setObjectName("PaneCaption")
        note.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.buttons)
        self.resize(460, self.sizeHint().height())

    @staticmethod
    def _money() -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(0.0, 10_000.0)
        box.setDecimals(4)
        box.setPrefix("$")
        box.setSuffix(" / 1M tokens")
        return box

    def entry(self) -> PriceEntry:
        model = self.model.currentText()
        return PriceEntry(model, self._kinds.get(model, ""), self.input.value(),
                          self.output.value())
