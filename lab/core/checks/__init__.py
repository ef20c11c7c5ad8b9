"""Automatic checks: what "good" means for an output, and grading it with a readable reason.

`result` (the outcome vocabulary), `config` (check types, their options, validation), `graders`
(running checks on an output), `judge` (the LLM judge's request and reply), `expression`
(restricted Python expressions), `workers` (evaluating them in worker processes, with time and
memory limits), `json_output` (reading JSON out of an output), `fuzzy` (normalised comparison
with a reference), `measured` (cost and latency, graded from the call), `citations` (citations
and retrieval hits), `form` (the check editor's fields for every type, and a JSON schema
checked as it is typed).

May import: `model`, `experiment` (to render `{{variables}}` in a check), `runtime`.
"""
