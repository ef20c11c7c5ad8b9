"""The window's layout, remembered between sessions: its geometry, where the docks are, and how
the centre is split between the editors and the results grid. View ▸ Reset Layout puts it back.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter

SETTINGS_GEOMETRY = "window/geometry"
SETTINGS_STATE = "window/state"
SETTINGS_SPLITTER = "window/centre-splitter"
LAYOUT_VERSION = 3  # bump when docks change, so an old saved layout is not applied


class WindowLayout:
    def __init__(self, window: QMainWindow, settings: QSettings, centre: QSplitter,
                 variants_dock: QDockWidget, cases_dock: QDockWidget, *others: QDockWidget):
        self._window, self._settings, self._centre = window, settings, centre
        self._variants_dock, self._cases_dock = variants_dock, cases_dock
        self._docks = (variants_dock, cases_dock, *others)
        self._default_state = QByteArray()

    def restore(self) -> None:
        window, settings = self._window, self._settings
        window.resizeDocks([self._variants_dock], [270], Qt.Orientation.Horizontal)
        window.resizeDocks([self._cases_dock], [250], Qt.Orientation.Vertical)
        self._default_state = window.saveState(LAYOUT_VERSION)
        geometry = settings.value(SETTINGS_GEOMETRY)
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            window.restoreGeometry(geometry)
        else:
            window.resize(1360, 860)
        state = settings.value(SETTINGS_STATE)
        if isinstance(state, QByteArray) and not state.isEmpty():
            window.restoreState(state, LAYOUT_VERSION)
        splitter = settings.value(SETTINGS_SPLITTER)
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            self._centre.restoreState(splitter)
        else:
            # The results grid is where A and B are compared side by side: give it the room.
            self._centre.setSizes([540, 620])

    def reset(self) -> None:
        self._window.restoreState(self._default_state, LAYOUT_VERSION)
        for dock in self._docks:
            dock.show()
        self._cases_dock.raise_()

    def save(self) -> None:
        self._settings.setValue(SETTINGS_GEOMETRY, self._window.saveGeometry())
        self._settings.setValue(SETTINGS_STATE, self._window.saveState(LAYOUT_VERSION))
        self._settings.setValue(SETTINGS_SPLITTER, self._centre.saveState())
        self._settings.sync()
