"""The panes around the window: one module per pane (`prompt`, `variants`, `examples`, `cases`,
`checks`, `results`, `history`), each with its own item model; `results_grid`, `result_cells`,
`check_form` and `find_bar` belong to one pane each, `pane` holds what they share. The bars: the
run bar (`run_bar`, the toolbar), the status bar (`run_status`) and the first-start bar
(`welcome_bar`). A pane shows and reports edits; it never saves.

May import: `lab.gui.widgets`, `lab.gui.actions`, `lab.gui.tasks`, `lab.gui.theme`, and the core.
"""
