"""Pure-Python logic of the lab: no Qt here (an import-linter contract checks it).

Feature packages, highest first (each may import those below it; `pyproject.toml` checks it):
`run` · `analysis` · `export` · `checks`, `workspace` · `experiment`, `providers` · `runtime`.
`model` holds the vocabulary every package shares: Project, Variant, TestCase, Call, Rating, ...
"""
