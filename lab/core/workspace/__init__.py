"""The workspace: one SQLite file holding projects, providers (never keys), runs, every logged
call, judgements and saved datasets — and the only package that knows table names.

`store` (the `Store`, composed of query mixins: `projects`, `runs`, `run_history` (prompt
versions and a project's runs), `history`, `judgements`, `documents`, `batches` (what batch runs
sent to providers)),
`rows` (model objects <-> rows), `migrations`, `errors`, `thread` (one thread that owns the store
for the GUI), `call_writer` (one batched writer for runs), `location` (where the workspace lives,
the sample project), `providers` (the providers a workspace knows), `trust` (the experiment files
the user trusts to run code: a small file in the lab's home, not in the workspace).

May import: `model`, `experiment` (to install the sample), `providers`, `runtime`.
"""
