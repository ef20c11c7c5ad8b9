"""The dialogs the window opens: `help` (About, keyboard shortcuts), `messages` (confirmations and
problems), `compare` (word diffs of variants and outputs), `pairwise` (blind judging),
`providers`, `export`, `price` (Add price…), `schema` (a variant's output schema), `trust`
(trusting an experiment file's python checks), `versions` (prompt history), `runs` and
`run_compare` (the project's runs, two side by side) and `samples` (a cell's samples side by
side). A dialog gets what it works on from its caller.

May import: `lab.gui.widgets`, `lab.gui.theme`, `lab.gui.tasks`, and the core; never the panes or
the window.
"""
