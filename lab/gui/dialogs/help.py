"""The Help menu's dialogs: About, and the list of keyboard shortcuts."""

from __future__ import annotations

import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMainWindow,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lab import APP_NAME, __version__


def show_about(parent: QWidget) -> None:
    QMessageBox.about(
        parent,
        f"About {APP_NAME}",
        f"<h3>{APP_NAME} {__version__}</h3>"
        "<p>A workbench for prompt engineers: edit system prompts and few-shot examples, "
        "A/B test variants against your models, keep every call in a local SQLite log, "
        "and export the best outputs as fine-tuning data.</p>"
        "<p>Local-first: no account, no server. Nothing leaves this machine except the calls "
        "to the providers you configure.</p>"
        f"<p style='color:gray'>Python {platform.python_version()} · Qt {qVersion()} · "
        f"PySide6 {pyside_version}</p>",
    )


def shortcut_rows(window: QMainWindow) -> list[tuple[str, str]]:
    """Every action of the window that has a shortcut, as (what it does, keys)."""
    rows = []
    for action in window.findChildren(QAction):
        keys = action.shortcut()
        if keys.isEmpty():
            continue
        rows.append((action.text().replace("&", "").rstrip("…"),
                     keys.toString(QKeySequence.SequenceFormat.NativeText)))
    return sorted(set(rows))


def show_shortcuts(window: QMainWindow) -> QDialog:
    rows = shortcut_rows(window)
    dialog = QDialog(window)
    dialog.setWindowTitle("Keyboard shortcuts")
    # A fixed, small reference list: a QTableWidget is right here (it never grows with data).
    table = QTableWidget(len(rows), 2)
    table.setHorizontalHeaderLabels(["Command", "Keys"])
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
    for r, (name, keys) in enumerate(rows):
        table.setItem(r, 0, QTableWidgetItem(name))
        item = QTableWidgetItem(keys)
        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        table.setItem(r, 1, item)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(table)
    layout.addWidget(buttons)
    dialog.resize(420, 360)
    dialog.show()
    return dialog
