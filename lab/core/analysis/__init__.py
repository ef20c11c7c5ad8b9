"""What the measurements mean: intervals, significance, consistency, the per-variant summary,
blind pairwise judging, and word diffs of outputs and prompts.

`intervals`, `significance`, `consistency`, `summary`, `pairwise`, `distributions` (the
probability functions underneath), `diff`, `run_compare` (two runs, case by case). Standard library only for the statistics.

May import: `model`, `export`, `checks`, `workspace`, `experiment`, `runtime`; never `run`.
"""
