"""The retrieval setting of the selected variant, one row under its parameters: off, lexical
(BM25 over the project's documents), embeddings or hybrid; how many passages (k); the query, a
template over the test case; and the embedding model for embeddings and hybrid.

An edit is reported once it is finished (a choice made, a number stepped, a text confirmed),
as the `Retrieval` the variant should have (None: no retrieval), so each is one step to undo.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from lab.core.model import Retrieval

MODES = (("Off", "off"), ("Lexical (BM25)", "lexical"), ("Embeddings", "embeddings"),
         ("Hybrid", "hybrid"))
_DEFAULT = Retrieval()


def _caption(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("PaneCaption")
    return label


class RetrievalBar(QWidget):
    """Off / lexical / embeddings / hybrid, k, query template and embedding model."""

    retrieval_edited = Signal(object)  # Retrieval | None

    def __init__(self) -> None:
        super().__init__()
        self._retrieval: Retrieval | None = None
        self._loading = False
        self._has_context = True
        self.mode = QComboBox()
        for label, value in MODES:
            self.mode.addItem(label, value)
        self.mode.setToolTip("Put passages of the project's documents into {{context}} for each "
                             "test case: by words (BM25), by meaning (the provider's embeddings) "
                             "or both")
        self.k = QSpinBox()
        self.k.setRange(1, 50)
        self.k.setToolTip("How many passages each call is given")
        self.query = QLineEdit()
        self.query.setPlaceholderText("the user message")
        self.query.setToolTip("What is searched for each test case: a template such as "
                              "{{question}}; empty: the whole user message")
        self.query.setMinimumWidth(120)
        self.embedding_model = QLineEdit()
        self.embedding_model.setPlaceholderText("openai/text-embedding-3-small")
        self.embedding_model.setToolTip("The model that embeds passages and queries, as "
                                        "provider/model")
        self.embedding_model.setMinimumWidth(150)
        self.hint = _caption("")
        self.hint.setObjectName("RetrievalHint")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 0, 8, 2)
        self._k_label, self._query_label = _caption("k"), _caption("Query")
        self._model_label = _caption("Embedding model")
        for widget in (_caption("Retrieval"), self.mode, self._k_label, self.k,
                       self._query_label, self.query):
            layout.addWidget(widget)
        layout.setStretchFactor(self.query, 2)
        layout.addWidget(self._model_label)
        layout.addWidget(self.embedding_model, 2)
        layout.addWidget(self.hint, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.mode.activated.connect(lambda _i: self._edited())
        self.k.valueChanged.connect(lambda _v: self._edited())
        self.query.editingFinished.connect(self._edited)
        self.embedding_model.editingFinished.connect(self._edited)
        self.show_retrieval(None)

    def show_retrieval(self, retrieval: Retrieval | None) -> None:
        self._loading = True
        try:
            self._retrieval = retrieval
            shown = retrieval or replace(_DEFAULT, mode="off")
            self.mode.setCurrentIndex(max(self.mode.findData(shown.mode), 0))
            self.k.setValue(shown.k)
            self.query.setText(shown.query)
            self.embedding_model.setText(shown.embedding_model)
            self._show_fields(shown.mode)
            self._show_hint()
        finally:
            self._loading = False

    def show_context_hint(self, has_context: bool) -> None:
        """Whether the prompts shown have {{context}}: with retrieval on and none, the bar
        says where the passages should go."""
        self._has_context = has_context
        self._show_hint()

    def _show_hint(self) -> None:
        value = self.value()
        missing = value is not None and value.on and not self._has_context
        self.hint.setText("add {{context}} to a prompt" if missing else "")
        self.hint.setToolTip("The passages fill {{context}}: put it in the system prompt or "
                             "the user message, where they should go" if missing else "")
        self.hint.setStyleSheet("color: #c9302c;" if missing else "")

    def value(self) -> Retrieval | None:
        """The setting as shown: None when off and nothing else was ever set."""
        mode = self.mode.currentData()
        base = self._retrieval or _DEFAULT
        chosen = replace(base, mode=mode, k=self.k.value(), query=self.query.text().strip(),
                         embedding_model=self.embedding_model.text().strip())
        if mode == "off" and replace(chosen, mode=_DEFAULT.mode) == _DEFAULT:
            return None
        return chosen

    def _show_fields(self, mode: str) -> None:
        on = mode != "off"
        for widget in (self._k_label, self.k, self._query_label, self.query):
            widget.setVisible(on)
        vectors = mode in ("embeddings", "hybrid")
        self._model_label.setVisible(vectors)
        self.embedding_model.setVisible(vectors)

    def _edited(self) -> None:
        self._show_fields(self.mode.currentData())
        self._show_hint()
        if self._loading:
            return
        value = self.value()
        if value != self._retrieval:
            self._retrieval = value
            self.retrieval_edited.emit(value)
