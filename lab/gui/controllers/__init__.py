"""What the window does, one controller per purpose: `workspace` (opening workspaces), `editing`,
`running` (starting runs through `run_controller`, which drives the core's runner) and `judging`;
`session` holds what they share. Each gets its panes, threads and the window in its constructor.

May import: `lab.gui.panes`, `lab.gui.dialogs`, `lab.gui.tasks`, and the core; never the window.
"""
