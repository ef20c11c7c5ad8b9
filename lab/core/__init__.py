"""Pure-Python logic of the lab: no Qt here (an import-linter contract checks it)."""
