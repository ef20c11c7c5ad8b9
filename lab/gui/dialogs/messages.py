"""Message boxes: what an import found, a yes/no before a destructive action, and the problems
that stop a run before any call.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def confirm_import(parent: QWidget, source: str, good: int, problems: list[str]) -> bool:
    """Show what an import found; True when the user wants the good rows added."""
    if not problems:
        return True
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Some rows could not be read")
    shown = problems[:8]
    more = f"\n… and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
    box.setText(f"{len(problems)} row(s) of {source} have problems:\n\n" + "\n".join(shown) + more)
    box.setDetailedText("\n".join(problems))
    if good:
        add = box.addButton(f"Import the {good} good rows", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is add
    box.addButton(QMessageBox.StandardButton.Ok)
    box.exec()
    return False


def confirm(parent: QWidget, title: str, text: str) -> bool:
    """A yes/no question for destructive actions; the safe answer is the default."""
    answer = QMessageBox.question(
        parent, title, text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


def show_problems(parent: QWidget, title: str, problems: list[str]) -> None:
    """Problems found before any call: each names the variant, field, case or file, and the fix."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    shown = problems[:10]
    more = f"\n… and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
    box.setText("Nothing was sent. Fix these first:\n\n" + "\n".join(f"• {p}" for p in shown) + more)
    box.setDetailedText("\n".join(problems))
    box.exec()
