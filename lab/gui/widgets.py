"""Small widgets the panes and dialogs share: a pane header, an empty-state panel, the
{{variable}} highlighter, item delegates, and the JSON Schema editor."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QPainter,
    QPalette,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from lab.core.checks.form import schema_problem
from lab.core.experiment.template import variable_spans
from lab.gui.theme import is_dark


class ElidedLabel(QLabel):
    """A one-line label that ends in "…" when it is narrower than its text, instead of clipping."""

    def __init__(self, text: str = ""):
        super().__init__()
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt naming
        self._full = text
        self._elide()

    def text(self) -> str:
        return self._full

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight,
                                              max(self.width(), 1))
        super().setText(shown)


class PaneHeader(QFrame):
    """A title, a caption on the right, and room for a few tool buttons."""

    def __init__(self, title: str, caption: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("PaneHeader")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 8, 4)
        layout.setSpacing(8)
        self.title = QLabel(title)
        self.title.setObjectName("PaneTitle")
        # A long caption must not decide how narrow the pane may get; it is elided instead.
        self.caption = ElidedLabel(caption)
        self.caption.setObjectName("PaneCaption")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.title)
        layout.addWidget(self.caption, 1)
        self._tools = layout

    def add_widget(self, widget: QWidget) -> None:
        self._tools.addWidget(widget)


class EmptyState(QWidget):
    """What a pane shows when it has nothing yet: what it is for and how to fill it."""

    def __init__(self, title: str, body: str, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        self.title = QLabel(title)
        self.title.setObjectName("EmptyTitle")
        self.body = QLabel(body)
        self.body.setObjectName("EmptyBody")
        self.body.setWordWrap(True)
        for label in (self.title, self.body):
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            layout.addWidget(label)
        layout.addStretch(2)
        layout.setContentsMargins(40, 20, 40, 20)


class VariableHighlighter(QSyntaxHighlighter):
    """Colours {{variables}} so they stand out from the prompt text."""

    def __init__(self, document: QTextDocument):
        super().__init__(document)
        self._format = QTextCharFormat()
        self.refresh_colours()

    def refresh_colours(self) -> None:
        self._format.setForeground(QColor("#9ecbff" if is_dark() else "#0b57d0"))
        self._format.setBackground(QColor("#23344f" if is_dark() else "#e8f0fe"))
        self._format.setFontWeight(QFont.Weight.DemiBold)
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        # The core decides what a variable is, so the editor highlights exactly what renders.
        for start, end, _name in variable_spans(text):
            self.setFormat(start, end - start, self._format)


class TwoLineDelegate(QStyledItemDelegate):
    """Draws "title\ncaption" items as a bold title over a muted caption, with breathing room."""

    PADDING = 8

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        line = option.fontMetrics.height()
        # Width 0: the item takes the view's width and elides, never forcing a horizontal scroll.
        return QSize(0, line * 2 + self.PADDING * 2 + 2)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        title, _, caption = text.partition("\n")
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        main = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        muted = QColor(main)
        muted.setAlphaF(0.75 if selected else 0.6)
        rect = option.rect.adjusted(self.PADDING + 2, self.PADDING, -self.PADDING, -self.PADDING)
        line = option.fontMetrics.height()
        painter.save()
        bold = QFont(option.font)
        bold.setWeight(QFont.Weight.DemiBold)
        painter.setFont(bold)
        painter.setPen(main)
        painter.drawText(QRect(rect.left(), rect.top(), rect.width(), line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(title, Qt.TextElideMode.ElideRight, rect.width()))
        painter.setFont(option.font)
        painter.setPen(muted)
        painter.drawText(QRect(rect.left(), rect.top() + line + 2, rect.width(), line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(caption, Qt.TextElideMode.ElideRight, rect.width()))
        painter.restore()


class MultilineDelegate(QStyledItemDelegate):
    """Edits a cell in a multi-line text box (prompts and replies have line breaks).

    Enter inserts a new line; Ctrl+Enter or leaving the cell commits; Escape cancels.
    """

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex | QPersistentModelIndex) -> QWidget:
        editor = QPlainTextEdit(parent)
        editor.setTabChangesFocus(True)
        editor.setMinimumHeight(90)
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        editor.setPlainText(index.data(Qt.ItemDataRole.EditRole) or "")

    def setModelData(self, editor: QWidget, model, index: QModelIndex | QPersistentModelIndex) -> None:
        model.setData(index, editor.toPlainText(), Qt.ItemDataRole.EditRole)

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem,
                             index: QModelIndex | QPersistentModelIndex) -> None:
        rect = option.rect
        rect.setHeight(max(rect.height(), 110))
        editor.setGeometry(rect)

    def eventFilter(self, editor, event) -> bool:  # noqa: N802 - Qt naming
        is_return = event.type() in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) and \
            event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if is_return and event.type() == QEvent.Type.ShortcutOverride:
            # Inside a cell editor Ctrl+Enter commits the cell; it must not start a run.
            event.accept()
            return True
        if is_return:
            if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.commitData.emit(editor)
                self.closeEditor.emit(editor)
                return True
            return False  # a plain Enter is a new line in the text
        return super().eventFilter(editor, event)


class SchemaEditor(QWidget):
    """A JSON Schema typed as text, checked as it is typed: under the text, what is wrong and
    where (the core's `schema_problem`), or that it is a valid schema."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.text_edit = QPlainTextEdit()
        self.text_edit.setObjectName("SchemaText")
        self.text_edit.setPlaceholderText('{"type": "object", "required": ["answer"], '
                                          '"properties": {"answer": {"type": "string"}}}')
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.text_edit.setFont(font)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setObjectName("SchemaStatus")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text_edit, 1)
        layout.addWidget(self.status)
        self.text_edit.textChanged.connect(self._check)
        self._problem: str | None = None
        self._check()

    def text(self) -> str:
        return self.text_edit.toPlainText()

    def set_text(self, text: str) -> None:
        if text != self.text():
            self.text_edit.setPlainText(text)

    def problem(self) -> str | None:
        return self._problem

    def _check(self) -> None:
        self._problem = schema_problem(self.text())
        if self._problem:
            self.status.setText(f"✗ {self._problem}")
            self.status.setStyleSheet("color: #c9302c;")
        else:
            self.status.setText("✓ A valid JSON Schema")
            self.status.setStyleSheet("color: #2e8b57;")
        self.changed.emit()
