"""Undo and redo for the project's edits, in one QUndoStack: deleting, adding and reordering
examples, test cases, variants, checks and a chain's steps; editing a check; renaming a variant
or a step; a variant's retrieval setting; making a variant a chain; restoring a prompt version. Text typed in a prompt box is not here: text boxes keep their own undo while
they have the focus (Edit ▸ Undo asks them first).

Edits happen as before (the panes change the project's lists in place); the controllers then
tell `ProjectUndo` what changed. It compares the list with what it last saw and, if items were
added, removed, moved or replaced (lab.core.experiment.edits says which), records both states. The items themselves are shared, not
copied, so undoing a delete does not undo later typing in another item. After an undo or redo
`restored` says which list (or object) changed, and the window shows it again and saves; the
stack lives as long as the project is open, whatever variant is selected.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from lab.core.experiment.edits import list_change, replaced_positions
from lab.core.model import Project

_MERGE_ID = 1


class ListEdit(QUndoCommand):
    """One of the project's lists, before and after an edit."""

    def __init__(self, undo: ProjectUndo, owner: Any, attr: str, before: list[Any],
                 after: list[Any], kind: str, text: str):
        super().__init__(text)
        self._undo, self.owner, self.attr = undo, owner, attr
        self.before, self.after, self.kind = before, after, kind
        self._done = True  # pushed after the edit happened: the first redo has nothing to do

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self._undo.put(self.owner, self.attr, self.after)

    def undo(self) -> None:
        self._undo.put(self.owner, self.attr, self.before)

    def id(self) -> int:  # noqa: A003 - Qt's name
        return _MERGE_ID if self.kind == "replace" else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt naming
        """Editing one check keystroke by keystroke is one step to undo, not one per pause."""
        if not (isinstance(other, ListEdit) and other.kind == "replace"
                and other.owner is self.owner and other.attr == self.attr
                and len(other.before) == len(self.after)):
            return False
        if replaced_positions(self.before, self.after) != replaced_positions(other.before,
                                                                              other.after):
            return False
        self.after = other.after
        return True


class FieldsEdit(QUndoCommand):
    """Some fields of one object (a variant's name; its prompt and examples), before and after."""

    def __init__(self, undo: ProjectUndo, obj: Any, before: dict[str, Any],
                 after: dict[str, Any], text: str, done: bool = True):
        super().__init__(text)
        self._undo, self.obj, self.before, self.after = undo, obj, before, after
        self._done = done

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self._undo.set_fields(self.obj, self.after)

    def undo(self) -> None:
        self._undo.set_fields(self.obj, self.before)


class ProjectUndo(QObject):
    restored = Signal(object, str)  # owner and list name ("variants", "examples", ...), or the
    #                                 object and "fields" for a FieldsEdit

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.stack = QUndoStack(self)
        self._seen: dict[tuple[int, str], tuple[Any, list[Any]]] = {}

    def reset(self, project: Project | None) -> None:
        """Another project is open: nothing to undo, and its lists as they are now."""
        self.stack.clear()
        self._seen = {}
        if project is not None:
            for attr in ("variants", "cases", "checks"):
                self._remember(project, attr)
            for variant in project.variants:
                self._remember(variant, "examples")
                self._remember(variant, "steps")

    def _remember(self, owner: Any, attr: str) -> None:
        self._seen[(id(owner), attr)] = (owner, list(getattr(owner, attr)))

    def edited(self, owner: Any, attr: str, noun: str = "") -> None:
        """`owner.attr` (a list) may have changed: record it if items were added, removed,
        moved or replaced. `noun` names the item in the menu ("Delete check 'tone'")."""
        seen = self._seen.get((id(owner), attr))
        current = list(getattr(owner, attr))
        if attr == "variants":
            for variant in current:  # a new variant's examples and steps start as they are
                for items in ("examples", "steps"):
                    if (id(variant), items) not in self._seen:
                        self._remember(variant, items)
        if seen is None:
            self._remember(owner, attr)
            return
        change = list_change(attr, seen[1], current)
        self._remember(owner, attr)
        if change is None:
            return
        kind, text = change
        self.stack.push(ListEdit(self, owner, attr, seen[1], current, kind,
                                 f"{text} {noun}".strip()))

    def fields_changed(self, obj: Any, before: dict[str, Any], after: dict[str, Any],
                       text: str, done: bool = True) -> None:
        """Fields of `obj` changed from `before` to `after` (already applied if `done`)."""
        if before != after:
            self.stack.push(FieldsEdit(self, obj, before, after, text, done))

    # ---- applying an undo or redo

    def put(self, owner: Any, attr: str, items: list[Any]) -> None:
        getattr(owner, attr)[:] = items
        self._remember(owner, attr)
        self.restored.emit(owner, attr)

    def set_fields(self, obj: Any, values: dict[str, Any]) -> None:
        for name, value in values.items():
            setattr(obj, name, list(value) if isinstance(value, list) else value)
            if name in ("examples", "steps"):
                self._remember(obj, name)
        self.restored.emit(obj, "fields")
