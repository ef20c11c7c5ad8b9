"""The dialogs the window opens: `help` (About, keyboard shortcuts), `messages` (confirmations and
problems), `compare` (word diffs of variants and outputs), `pairwise` (blind judging), `providers`
and `export`. A dialog gets what it works on from its caller.

May import: `lab.gui.theme`, `lab.gui.tasks`, and the core; never the panes or the window.
"""
