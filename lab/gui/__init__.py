"""The PySide6 layer: a thin shell over lab.core. No logic lives here.

`app` starts it; `main_window` lays out the `panes` and wires the `controllers`, which open the
`dialogs`; `widgets`, `layout`, `actions` (every menu item and shortcut), `theme` and `tasks`
(results from other threads) serve them.
Each imports only those named after it (`pyproject.toml` checks it).
"""
