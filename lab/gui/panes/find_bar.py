"""Find and replace in the prompt editors (Ctrl+F, Ctrl+H): next, previous, replace, replace all.

Replace all is one undo step, so Ctrl+Z takes it back in one go.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QToolButton,
    QWidget,
)


class FindBar(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.editor: QPlainTextEdit | None = None
        self.find_text = QLineEdit()
        self.find_text.setPlaceholderText("Find")
        self.replace_text = QLineEdit()
        self.replace_text.setPlaceholderText("Replace with")
        self.case = QCheckBox("Match case")
        self.status = QLabel()
        self.status.setObjectName("PaneCaption")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        buttons = []
        for text, tip, slot in (("↓", "Next (Enter)", self.find_next),
                                ("↑", "Previous (Shift+Enter)", lambda: self.find_next(back=True)),
                                ("Replace", "Replace this match", self.replace_one),
                                ("All", "Replace every match (one undo step)", self.replace_all),
                                ("✕", "Close (Esc)", self.hide)):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setAutoRaise(True)
            button.clicked.connect(slot)
            buttons.append(button)
        layout.addWidget(self.find_text, 2)
        layout.addWidget(buttons[0])
        layout.addWidget(buttons[1])
        layout.addWidget(self.replace_text, 2)
        layout.addWidget(buttons[2])
        layout.addWidget(buttons[3])
        layout.addWidget(self.case)
        layout.addWidget(self.status, 1)
        layout.addWidget(buttons[4])
        self.find_text.returnPressed.connect(self.find_next)
        self.replace_text.returnPressed.connect(self.replace_one)
        QShortcut(QKeySequence("Shift+Return"), self.find_text,
                  lambda: self.find_next(back=True)).setContext(Qt.ShortcutContext.WidgetShortcut)
        QShortcut(QKeySequence("Escape"), self, self.hide).setContext(
            Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.hide()

    def open_for(self, editor: QPlainTextEdit, replace: bool = False) -> None:
        self.editor = editor
        selected = editor.textCursor().selectedText()
        if selected and "\u2029" not in selected:
            self.find_text.setText(selected)
        self.show()
        (self.replace_text if replace and self.find_text.text() else self.find_text).setFocus()
        self.find_text.selectAll()

    def _flags(self, back: bool = False) -> QTextDocument.FindFlag:
        flags = QTextDocument.FindFlag(0)
        if back:
            flags |= QTextDocument.FindFlag.FindBackward
        if self.case.isChecked():
            flags |= QTextDocument.FindFlag.FindCaseSensitively
        return flags

    def find_next(self, back: bool = False) -> bool:
        editor, needle = self.editor, self.find_text.text()
        if editor is None or not needle:
            return False
        if editor.find(needle, self._flags(back)):
            self.status.setText("")
            return True
        # Wrap around once, like every editor.
        cursor = editor.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End if back else QTextCursor.MoveOperation.Start)
        editor.setTextCursor(cursor)
        found = editor.find(needle, self._flags(back))
        self.status.setText("" if found else "Not found")
        return found

    def _selection_matches(self) -> bool:
        selected = self.editor.textCursor().selectedText() if self.editor else ""
        needle = self.find_text.text()
        return bool(needle) and (selected == needle if self.case.isChecked()
                                 else selected.lower() == needle.lower())

    def replace_one(self) -> None:
        if self.editor is None:
            return
        if self._selection_matches():
            self.editor.textCursor().insertText(self.replace_text.text())
        self.find_next()

    def replace_all(self) -> int:
        editor, needle = self.editor, self.find_text.text()
        if editor is None or not needle:
            return 0
        cursor = editor.textCursor()
        cursor.beginEditBlock()
        count = 0
        search = QTextCursor(editor.document())
        while True:
            search = editor.document().find(needle, search, self._flags())
            if search.isNull():
                break
            search.insertText(self.replace_text.text())
            count += 1
        cursor.endEditBlock()
        self.status.setText(f"Replaced {count}")
        return count
