"""Retrieval-augmented context: the project's documents read (`reading`), cut into chunks
(`chunking`), stored and indexed (`indexing`), searched — BM25 over SQLite FTS5 by default — and
shown to the model with citation ids (`context`).

May import: `model`, `workspace` (documents and chunks live in the workspace), `experiment`,
`providers`, `runtime`. The run (`lab.core.run.augment`) puts the passages into each call.
"""
