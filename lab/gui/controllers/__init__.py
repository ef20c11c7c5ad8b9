"""What the window does, one controller per purpose: `workspace` (opening workspaces and their
projects), `projects` (experiment files, the project switcher), `editing`, `checks` (the checks
editor and its try-it box), `running` (starting runs through `run_controller`, which drives the
core's runner), `readiness` (what stands in the way of a run, prices, the first start),
`judging`, `history` (prompt versions, runs, a logged call) and `undo` (one stack for the
project's edits); `session` holds what they share. Each gets its panes, threads and the window
in its constructor.

May import: `lab.gui.panes`, `lab.gui.dialogs`, `lab.gui.widgets`, `lab.gui.actions`,
`lab.gui.tasks`, and the core; never the window.
"""
