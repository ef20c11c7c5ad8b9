"""The Qt binding itself must be sound: a refcount bug in it crashes a long session.

PySide6 6.12.0 returned True from `SignalInstance.emit()` without taking a reference, so every
emit from Python lowered True's refcount by one until the interpreter aborted ("bool_dealloc:
deallocating True or False"). pyproject.toml excludes that version; this test keeps any future
version with the same fault out.
"""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    changed = Signal(object)


def test_emitting_signals_does_not_leak_references_to_true(qapp):
    emitter = _Emitter()
    received = []
    emitter.changed.connect(received.append)
    gc.collect()
    before = sys.getrefcount(True)
    for i in range(500):
        emitter.changed.emit(i)
    gc.collect()
    after = sys.getrefcount(True)
    assert len(received) == 500
    assert before - after < 50, f"True lost {before - after} references over 500 emits"
