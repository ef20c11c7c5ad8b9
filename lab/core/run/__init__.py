"""Running an experiment: the matrix of calls, the pre-flight before anything is sent, the runner
that schedules calls, and the report after.

`plan` (cells, cache keys, what a run will send), `template_problems` and `preflight` (what would
stop a run, the estimate), `setup` (a new run or a resume), `runner` (scheduling, limits, cancel,
budget), `calls` (one call's lifecycle: send, cache, grade, log), `events` (what a run reports),
`report` (the summary), `trust` (may an experiment's code checks run: untrusted_code_checks),
`batch` (batch runs through the providers' batch APIs: `with_batches`, `BatchRunner`).

The top of the core: may import every other package.
"""
