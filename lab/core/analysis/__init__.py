"""What the measurements mean: statistics, A/B verdicts, consistency, the judge against people,
failure modes and the decision, for a run or every run of an experiment or project.

Entry point: `analyse.analyse(store, Scope(...), AnalysisOptions(...)) -> Analysis` (what
`lab report` and the window's Analysis view show; `Analysis.to_dict()` is `lab report --json`).
Also `run_compare` (two runs, case by case).

Modules, one purpose each:

* statistics: `distributions` (the probability functions), `intervals` (Wilson, t, percentiles),
  `clustered` (the test case as the unit: rates with a Kish effective n, case means),
  `significance` (sign test, McNemar, pairwise verdicts), `paired` (A/B paired by case),
  `kappa` (Cohen's kappa with its interval);
* per-call summaries: `summary` (what `lab run` prints), `consistency` (samples of one input),
  `pairwise` (blind judging), `diff` (word diffs);
* the analysis of a scope, read through the store's SQL (`workspace.analysis_rows`): `scope`,
  `figures`, `comparisons`, `sample_agreement`, `judge_agreement`, `failure_modes`;
* the decision: `techniques`, `training_data`, `tuning_prices`, `economics`, `decision`;
* output: `links` (what a figure points at), `analyse`, `charts` and `html_report` (matplotlib,
  imported only to draw).

Standard library only for the statistics. May import: `model`, `export`, `checks`, `workspace`,
`experiment`, `providers`, `runtime`; never `run`.
"""
