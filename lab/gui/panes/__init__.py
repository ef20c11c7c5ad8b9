"""The panes around the window: one module per pane (`prompt`, `variants`, `examples`, `cases`,
`results`, `history`), each with its own item model; `results_grid` and `find_bar` belong to one
pane each, `pane` holds what they share. A pane shows and reports edits; it never saves.

May import: `lab.gui.widgets`, `lab.gui.tasks`, `lab.gui.theme`, and the core.
"""
