"""The form that edits one check: its name, its type, and the fields of that type as the core
describes them (lab.core.checks.form), a page per type. A JSON schema is typed in the schema
editor, which says as you type whether it is valid. The form only reports edits; turning them
into a check (and finding what is wrong) is the core's `check_from_form`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from lab.core.checks.form import (
    FIELDS,
    TYPE_LABELS,
    Field,
    check_from_form,
    form_values,
    new_check,
)
from lab.core.model import Check
from lab.gui.widgets import SchemaEditor


class CheckForm(QWidget):
    edited = Signal()  # something was typed or switched (not when a check is shown)

    def __init__(self) -> None:
        super().__init__()
        self.name = QLineEdit()
        self.name.setPlaceholderText("What it checks, e.g. greets by name")
        self.kind = QComboBox()
        for kind, label in TYPE_LABELS.items():
            self.kind.addItem(label, kind)
        # A page per type, built the first time that type is shown (14 pages of inputs would
        # cost the window's first paint tens of milliseconds, for a pane behind a tab).
        self.pages = QStackedWidget()
        self.inputs: dict[str, dict[str, QWidget]] = _PageInputs(self._page)
        self.trust_note = QLabel()
        self.trust_note.setWordWrap(True)
        self.trust_note.setStyleSheet("color: #b8860b;")
        self.trust_note.hide()
        self.problems = QLabel()
        self.problems.setObjectName("CheckProblems")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #c9302c;")
        top = QFormLayout()
        top.addRow("Name", self.name)
        top.addRow("Type", self.kind)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addLayout(top)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.trust_note)
        layout.addWidget(self.problems)
        self._loading = False
        self.name.textEdited.connect(lambda _t: self._changed())
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._show_page(self.kind.currentData())

    def _page(self, kind: str) -> dict[str, QWidget]:
        """Build the page of a type into the stack; its inputs by field key."""
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        inputs: dict[str, QWidget] = {}
        for f in FIELDS[kind]:
            widget = self._input(f)
            inputs[f.key] = widget
            if isinstance(widget, QCheckBox):
                form.addRow("", widget)
            else:
                form.addRow(f.label, widget)
        if not FIELDS[kind]:
            form.addRow(QLabel("Nothing to set."))
        page.setProperty("check_type", kind)
        self.pages.addWidget(page)
        return inputs

    def _show_page(self, kind: str) -> None:
        self.inputs[kind]  # noqa: B018 - built on first use
        for i in range(self.pages.count()):
            if self.pages.widget(i).property("check_type") == kind:
                self.pages.setCurrentIndex(i)
                return

    def _input(self, f: Field) -> QWidget:
        if f.widget == "bool":
            box = QCheckBox(f.label)
            box.toggled.connect(lambda _on: self._changed())
            return box
        if f.widget == "choice":
            combo = QComboBox()
            combo.addItems(list(f.choices))
            combo.currentIndexChanged.connect(lambda _i: self._changed())
            return combo
        if f.widget == "schema":
            editor = SchemaEditor()
            editor.setMinimumHeight(120)
            editor.changed.connect(self._changed)
            return editor
        if f.widget in ("text", "values"):
            text = QPlainTextEdit()
            text.setPlaceholderText(f.hint)
            text.setTabChangesFocus(True)
            text.setMaximumHeight(110 if f.widget == "text" else 80)
            text.textChanged.connect(self._changed)
            return text
        line = QLineEdit()
        line.setPlaceholderText(f.hint)
        line.textEdited.connect(lambda _t: self._changed())
        return line

    # ---- showing a check

    def show_check(self, check: Check | None, untrusted: bool = False) -> None:
        """Show `check` (None: an empty, disabled form); `untrusted`: its code will not run."""
        self._loading = True
        try:
            self.setEnabled(check is not None)
            check = check or Check(type="contains", config={"value": ""})
            # The chain step it grades has no field of its own: kept as the file has it.
            self._step = check.config.get("step")
            self.name.setText(check.name)
            self.kind.setCurrentIndex(max(self.kind.findData(check.type), 0))
            self._show_page(self.kind.currentData())
            self._set_values(check.type, form_values(check))
            self.trust_note.setVisible(untrusted)
            self.trust_note.setText("⚠ This python check comes from an experiment file you have "
                                    "not trusted: it is not run (File ▸ Open Experiment asks to "
                                    "trust the file).")
            self.problems.clear()
        finally:
            self._loading = False

    def _set_values(self, kind: str, values: dict[str, Any]) -> None:
        for key, widget in self.inputs[kind].items():
            value = values.get(key, "")
            if isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QComboBox):
                widget.setCurrentIndex(max(widget.findText(str(value)), 0))
            elif isinstance(widget, SchemaEditor):
                widget.set_text(str(value))
            elif isinstance(widget, QPlainTextEdit):
                if widget.toPlainText() != str(value):
                    widget.setPlainText(str(value))
            else:
                widget.setText(str(value))

    def values(self) -> dict[str, Any]:
        """What the current type's fields hold, as typed."""
        found: dict[str, Any] = {}
        for key, widget in self.inputs[self.kind.currentData()].items():
            if isinstance(widget, QCheckBox):
                found[key] = widget.isChecked()
            elif isinstance(widget, QComboBox):
                found[key] = widget.currentText()
            elif isinstance(widget, SchemaEditor):
                found[key] = widget.text()
            elif isinstance(widget, QPlainTextEdit):
                found[key] = widget.toPlainText()
            else:
                found[key] = widget.text()
        return found

    def current(self) -> tuple[Check, list[str]]:
        """The check as the form has it, and what is wrong with it."""
        check, problems = check_from_form(self.kind.currentData(), self.name.text(),
                                          self.values())
        if getattr(self, "_step", None) is not None and check.type != "judge":
            check.config["step"] = self._step
        return check, problems

    def set_field(self, key: str, value: Any) -> None:
        """Set one field of the current type as if typed (tests, and the schema dialog)."""
        widget = self.inputs[self.kind.currentData()][key]
        self._set_values(self.kind.currentData(), {**self.values(), key: value})
        if isinstance(widget, QLineEdit):
            self._changed()  # setText is not an edit; typing is

    # ---- edits

    def _kind_changed(self) -> None:
        self._show_page(self.kind.currentData())
        if not self._loading:
            # A new type starts from that type's example values.
            start = new_check(self.kind.currentData(), [])
            self._loading = True
            self._set_values(start.type, form_values(start))
            self._loading = False
            self._changed()

    def _changed(self) -> None:
        if not self._loading:
            self.edited.emit()


class _PageInputs(dict):
    """The inputs of each type's page, by type: a type's page is built when first asked for."""

    def __init__(self, build):
        super().__init__()
        self._build = build

    def __missing__(self, kind: str) -> dict[str, QWidget]:
        self[kind] = inputs = self._build(kind)
        return inputs
