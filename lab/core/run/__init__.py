"""Running an experiment: the matrix of calls, the pre-flight before anything is sent, the runner
that schedules calls, and the report after.

`plan` (cells, cache keys, what a run will send), `template_problems` and `preflight` (what would
stop a run, the estimate), `setup` (a new run or a resume), `runner` (scheduling, limits, cancel,
budget), `calls` (one call's lifecycle: send, cache, grade, log), `events` (what a run reports),
`report` (the summary), `trust` (may an experiment's code checks run: untrusted_code_checks),
`smoke` (does this installation work: the steps of `prompt-lab --smoke-test` that need no Qt).
`readiness` (a key for every provider that needs one, local servers that answer),
`output_format` (a variant's text / JSON / schema output, and the schema as an implicit check),
`try_check` (one check on one output, now: the editor's try-it box), `experiment_files`
(opening, writing back and watching a project's experiment file).
`batch` (batch runs through the providers' batch APIs: `with_batches`, `BatchRunner`).

The top of the core: may import every other package.
"""
