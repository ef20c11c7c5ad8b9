"""What grading an output yields, and the two ways it can fail to: the vocabulary every check shares.

The graders, the LLM judge and the runner all speak in these terms, so they live apart from all
of them (the judge and the graders would otherwise import each other).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one output. A failure always carries a reason a user reads."""

    check_name: str
    passed: bool
    score: float | None  # on the check's own scale (judge: 1-5 or 0-1; python: what it returned)
    reason: str


class CheckConfigError(ValueError):
    """The check itself is wrong (bad regex, missing value, ...), not the output it grades.

    Raised rather than returned as a failed result, so a misconfigured check is never counted
    against a variant's pass rate. ``validate_check`` finds all of these before a run.
    """


class NeedsModelCall(RuntimeError):
    """A judge check was run without the judge's reply: the runner has to make that call."""
