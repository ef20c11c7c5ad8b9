"""The prompt pane: the selected variant's system prompt and the project's user-message template,
its model, parameters and retrieval setting; for a chain, its steps, each edited here like a
single prompt (its own system prompt, user message, model and parameters).

Edits are reported through signals after a short pause in typing; the editing and steps
controllers save them (autosave). While a step is shown, what is typed or chosen is reported as
`step_edited` instead of the variant's own signals. The token estimate is the core's offline
heuristic, cheap enough to run on every keystroke.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from lab.core.experiment.template import estimate_tokens, variables
from lab.core.model import Step, Variant
from lab.core.run.output_format import output_format
from lab.gui.panes.find_bar import FindBar
from lab.gui.panes.retrieval_bar import RetrievalBar
from lab.gui.panes.steps import StepsBar
from lab.gui.widgets import PaneHeader, VariableHighlighter

AUTOSAVE_DELAY_MS = 600


class PromptEditor(QPlainTextEdit):
    """A plain-text editor for prompts: monospace, {{variables}} highlighted, undo/redo built in."""

    def __init__(self, object_name: str, placeholder: str):
        super().__init__()
        self.setObjectName(object_name)
        self.setPlaceholderText(placeholder)
        self.setTabChangesFocus(False)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.highlighter = VariableHighlighter(self.document())


class ModelPicker(QComboBox):
    """The variant's model as "provider/model": pick from listed models or type any name."""

    model_chosen = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setMinimumContentsLength(18)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setToolTip("The model this variant calls, as provider/model. Models appear here "
                        "once a provider's connection has been tested (Edit ▸ Providers).")
        self.lineEdit().editingFinished.connect(self._chosen)
        self.activated.connect(lambda _i: self._chosen())
        self._current = ""

    def set_models(self, models: list[str], current: str) -> None:
        self.blockSignals(True)
        self.clear()
        names = sorted(set(models) | ({current} if current else set()))
        self.addItems(names)
        self.setCurrentText(current)
        self._current = current
        self.blockSignals(False)

    def _chosen(self) -> None:
        text = self.currentText().strip()
        if text and text != self._current:
            self._current = text
            self.model_chosen.emit(text)


class ParametersBar(QWidget):
    """Temperature and max tokens of the variant; the lowest value of each means "the
    provider's default", so a variant never sends a parameter the user did not set. Then the
    output format: text, the provider's JSON mode, or a JSON schema (edited in a dialog)."""

    params_edited = Signal(dict)
    output_format_chosen = Signal(str)  # text, json or schema
    schema_requested = Signal()

    def __init__(self, model_picker: QWidget) -> None:
        super().__init__()
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(-0.1, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setDecimals(2)
        self.temperature.setSpecialValueText("default")
        self.temperature.setToolTip("Sampling temperature: 0 is the most repeatable")
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(0, 1_000_000)
        self.max_tokens.setSingleStep(64)
        self.max_tokens.setSpecialValueText("default")
        self.max_tokens.setToolTip("The longest reply the model may write, in tokens")
        self.output = QComboBox()
        for label, value in (("Text", "text"), ("JSON mode", "json"), ("JSON schema", "schema")):
            self.output.addItem(label, value)
        self.output.setToolTip("What the model is asked to reply with. With a JSON schema, every "
                               "output is also checked against it (the “output schema” check)")
        self.schema_button = QToolButton()
        self.schema_button.setText("Schema…")
        self.schema_button.setToolTip("Edit the JSON schema of this variant's outputs")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 2, 8, 2)
        for label, widget in (("Model", model_picker), ("Temperature", self.temperature),
                              ("Max tokens", self.max_tokens), ("Output", self.output)):
            caption = QLabel(label)
            caption.setObjectName("PaneCaption")
            layout.addWidget(caption)
            layout.addWidget(widget)
        layout.addWidget(self.schema_button)
        layout.addStretch(1)
        self._loading = False
        self.temperature.valueChanged.connect(self._changed)
        self.max_tokens.valueChanged.connect(self._changed)
        self.output.activated.connect(
            lambda _i: self.output_format_chosen.emit(self.output.currentData()))
        self.schema_button.clicked.connect(self.schema_requested.emit)

    def show_params(self, params: dict) -> None:
        self._loading = True
        temperature = params.get("temperature")
        self.temperature.setValue(float(temperature) if temperature is not None else -0.1)
        self.max_tokens.setValue(int(params.get("max_tokens") or 0))
        self.show_output_format(output_format(params))
        self._loading = False

    def show_output_format(self, fmt: str) -> None:
        self.output.setCurrentIndex(max(self.output.findData(fmt), 0))
        self.schema_button.setVisible(fmt == "schema")

    def values(self) -> dict:
        """The parameters as set: {name: value}, with None for "use the provider's default"."""
        temperature = self.temperature.value()
        return {
            "temperature": None if temperature < 0 else round(temperature, 2),
            "max_tokens": self.max_tokens.value() or None,
        }

    def _changed(self) -> None:
        if not self._loading:
            self.params_edited.emit(self.values())


class PromptPane(QWidget):
    system_edited = Signal(str)
    template_edited = Signal(str)
    model_chosen = Signal(str)
    params_edited = Signal(dict)
    output_format_chosen = Signal(str)
    schema_requested = Signal()
    retrieval_edited = Signal(object)  # the variant's Retrieval, or None
    make_chain_requested = Signal()
    # A chain's step: (row, what, value); what is system, user, model, params, output or schema.
    step_edited = Signal(int, str, object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._loading = False
        self._variant: Variant | None = None
        self._models: list[str] = []  # the model names listed by providers, as provider/model
        self.step_index: int | None = None  # the step shown, or None: a single prompt
        self.header = PaneHeader("System prompt")
        self.model_picker = ModelPicker()
        self.make_chain_button = QToolButton()
        self.make_chain_button.setText("Make it a chain")
        self.make_chain_button.setToolTip(
            "Split this variant into steps, each a call of its own whose output the next "
            "step uses as {{steps.NAME}}; this prompt becomes the first step")
        self.make_chain_button.setAutoRaise(True)
        self.header.add_widget(self.make_chain_button)

        self.system = PromptEditor(
            "PromptEditor",
            "Write the instructions every call starts with. Use {{variable}} for values that "
            "change per test case.",
        )
        self.template = PromptEditor(
            "TemplateEditor", "The user message sent for each test case, e.g. {{question}}"
        )
        self.template_header = PaneHeader("User message", "filled from each test case")

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.setSpacing(0)
        top_layout.addWidget(self.header)
        self.parameters = ParametersBar(self.model_picker)
        self.retrieval = RetrievalBar()
        self.steps = StepsBar()
        self.steps.hide()
        top_layout.addWidget(self.parameters)
        top_layout.addWidget(self.retrieval)
        top_layout.addWidget(self.steps)
        top_layout.addWidget(self.system)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.setSpacing(0)
        bottom_layout.addWidget(self.template_header)
        bottom_layout.addWidget(self.template)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        self.find_bar = FindBar(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(splitter)
        layout.addWidget(self.find_bar)

        self._system_timer = self._debounce(lambda: self._route("system", self.system_text()))
        self._template_timer = self._debounce(
            lambda: self._route("user", self.template.toPlainText())
        )
        self.system.textChanged.connect(self._on_system_changed)
        self.template.textChanged.connect(self._on_template_changed)
        self.model_picker.model_chosen.connect(lambda model: self._route("model", model))
        self.parameters.params_edited.connect(lambda values: self._route("params", values))
        self.parameters.output_format_chosen.connect(lambda fmt: self._route("output", fmt))
        self.parameters.schema_requested.connect(lambda: self._route("schema", None))
        self.retrieval.retrieval_edited.connect(self.retrieval_edited.emit)
        self.make_chain_button.clicked.connect(self.make_chain_requested.emit)
        self.steps.step_selected.connect(self.show_step)
        self.setEnabled(False)

    def _route(self, what: str, value) -> None:
        """An edit goes to the step shown, or else to the variant (and the project's template)."""
        if self.step_index is not None:
            self.step_edited.emit(self.step_index, what, value)
            return
        {"system": self.system_edited, "user": self.template_edited,
         "model": self.model_chosen, "params": self.params_edited,
         "output": self.output_format_chosen}.get(what, self.schema_requested).emit(
            *(() if what == "schema" else (value,)))

    def _debounce(self, fn) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(AUTOSAVE_DELAY_MS)
        timer.timeout.connect(fn)
        return timer

    def focused_editor(self) -> PromptEditor:
        """The prompt editor the user is working in (the system prompt if neither has focus)."""
        return self.template if self.template.hasFocus() else self.system

    def insert_snippet(self, text: str) -> None:
        editor = self.focused_editor()
        cursor = editor.textCursor()
        # A snippet starts on its own line, so it never glues onto a sentence.
        if cursor.positionInBlock() > 0:
            text = "\n" + text
        cursor.insertText(text)
        editor.setTextCursor(cursor)
        editor.setFocus()

    def system_text(self) -> str:
        return self.system.toPlainText()

    def show_variant(self, variant: Variant | None, user_template: str,
                     models: list[str] | None = None, step: int | None = None) -> None:
        """The variant's prompt; for a chain, step `step` (by default the one shown before, if
        this variant was shown, else the first)."""
        self._loading = True
        try:
            if variant is not None and variant.steps:
                keep = self.step_index if variant is self._variant else None
                index = step if step is not None else (keep or 0)
                self.step_index = min(max(index, 0), len(variant.steps) - 1)
            else:
                self.step_index = None
            self._variant = variant
            self._models = models or []
            self.setEnabled(variant is not None)
            self.make_chain_button.setVisible(variant is not None and not variant.steps)
            self.steps.setVisible(self.step_index is not None)
            self.retrieval.show_retrieval(variant.retrieval if variant else None)
            if variant is not None and self.step_index is not None:
                self.steps.show_steps(variant.steps, self.step_index)
                self._show_step_fields(variant, variant.steps[self.step_index])
            else:
                self.header.title.setText(f"System prompt · {variant.name}" if variant
                                          else "System prompt")
                self.template_header.title.setText("User message")
                self.template_header.caption.setText("filled from each test case")
                self.model_picker.set_models(self._models, variant.model if variant else "")
                self.parameters.show_params(variant.params if variant else {})
                self.system.setPlainText(variant.system if variant else "")
                if self.template.toPlainText() != user_template:
                    self.template.setPlainText(user_template)
            self._update_caption()
        finally:
            self._loading = False

    def set_model_names(self, models: list[str]) -> None:
        """The providers listed their models: offered in the picker, the current one kept."""
        self._models = models
        variant = self._variant
        if variant is not None:
            step = variant.steps[self.step_index] if self.step_index is not None else None
            self.model_picker.set_models(models, (step.model if step else "") or variant.model)

    def show_step(self, row: int) -> None:
        """Another step of the chain shown: what was typed in the one before is delivered first."""
        variant = self._variant
        if variant is None or not 0 <= row < len(variant.steps) or row == self.step_index:
            return
        self.flush()
        self._loading = True
        try:
            self.step_index = row
            self._show_step_fields(variant, variant.steps[row])
            self._update_caption()
        finally:
            self._loading = False

    def _show_step_fields(self, variant: Variant, step: Step) -> None:
        self.header.title.setText(f"System prompt · {variant.name} › {step.name}")
        self.template_header.title.setText(f"User message · step {step.name}")
        self.template_header.caption.setText("{{steps.NAME}}: an earlier step's output")
        self.model_picker.set_models(self._models, step.model or variant.model)
        self.parameters.show_params(step.params)
        self.system.setPlainText(step.system)
        if self.template.toPlainText() != step.user:
            self.template.setPlainText(step.user)

    def flush(self) -> None:
        """Deliver pending edits now (before switching variant or closing)."""
        for timer in (self._system_timer, self._template_timer):
            if timer.isActive():
                timer.stop()
                timer.timeout.emit()

    def _on_system_changed(self) -> None:
        self._update_caption()
        if not self._loading:
            self._system_timer.start()

    def _on_template_changed(self) -> None:
        self._update_caption()
        if not self._loading:
            self._template_timer.start()

    def _update_caption(self) -> None:
        texts = [self.system.toPlainText(), self.template.toPlainText()]
        if self._variant is not None and self.step_index is not None:  # any step may use it
            texts += [t for i, s in enumerate(self._variant.steps) if i != self.step_index
                      for t in (s.system, s.user)]
        self.retrieval.show_context_hint(any("context" in variables(t) for t in texts))
        text = self.system.toPlainText()
        names = variables(text)
        tokens = estimate_tokens(text)
        parts = [f"≈ {tokens:,} tokens"]
        if names:
            parts.append(f"{len(names)} variable{'s' if len(names) != 1 else ''}")
        self.header.caption.setText(" · ".join(parts))
        self.header.caption.setToolTip(
            "Variables: " + ", ".join("{{" + n + "}}" for n in names) if names
            else "No {{variables}}: every test case gets the same system prompt"
        )
