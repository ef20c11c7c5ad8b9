"""The validation report: every problem an export has, where it is, and what to do about it.

Problems come from each target's published rules (see the target modules) and from rules that
hold for every export (minimum counts, token limits, outputs that were left out). An *error*
means the service or trainer would reject the file or the export would be wrong; a *warning*
means it would work but probably not as the user wants.

One rule can fail on thousands of lines of a big export. The report counts every occurrence
but keeps the locations of only the first few of each, so it stays small and readable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]
KEPT_PER_RULE = 10


@dataclass(frozen=True)
class Problem:
    """One broken rule, on one line of one file when it concerns a single example."""

    severity: Severity
    rule: str  # a stable short name, e.g. "bedrock.alternation"
    message: str  # what is wrong, in a sentence
    fix: str = ""  # what to do about it
    file: str | None = None
    line: int | None = None  # 1-based line of the file (a row number for CSV)
    call_id: int | None = None  # the logged output it came from

    def where(self) -> str:
        if self.file is None:
            return ""
        unit = "row" if self.file.endswith(".csv") else "line"
        place = self.file if self.line is None else f"{self.file} {unit} {self.line}"
        return f"{place} (output #{self.call_id})" if self.call_id is not None else place

    def text(self) -> str:
        where = self.where()
        head = f"{self.severity}: {where + ': ' if where else ''}{self.message}"
        return f"{head} {self.fix}".strip()


def error(rule: str, message: str, fix: str = "") -> Problem:
    return Problem("error", rule, message, fix)


def warning(rule: str, message: str, fix: str = "") -> Problem:
    return Problem("warning", rule, message, fix)


@dataclass
class RuleTally:
    """Every occurrence of one rule: how many, and the first few of them."""

    severity: Severity
    rule: str
    count: int = 0
    examples: list[Problem] = field(default_factory=list)


class Report:
    """Problems grouped by rule, errors before warnings."""

    def __init__(self) -> None:
        self._rules: dict[tuple[str, str], RuleTally] = {}

    def add(self, problem: Problem) -> None:
        key = (problem.severity, problem.rule)
        tally = self._rules.get(key)
        if tally is None:
            tally = self._rules[key] = RuleTally(problem.severity, problem.rule)
        tally.count += 1
        if len(tally.examples) < KEPT_PER_RULE:
            tally.examples.append(problem)

    def extend(self, problems: list[Problem]) -> None:
        for p in problems:
            self.add(p)

    def tallies(self) -> list[RuleTally]:
        return sorted(self._rules.values(), key=lambda t: (t.severity != "error", t.rule))

    def count(self, severity: Severity) -> int:
        return sum(t.count for t in self._rules.values() if t.severity == severity)

    @property
    def errors(self) -> int:
        return self.count("error")

    @property
    def warnings(self) -> int:
        return self.count("warning")

    @property
    def has_errors(self) -> bool:
        return self.errors > 0

    def problems(self) -> list[Problem]:
        """The kept problems, errors first (at most KEPT_PER_RULE per rule)."""
        return [p for t in self.tallies() for p in t.examples]

    def rules(self) -> set[str]:
        return {t.rule for t in self._rules.values()}

    def text(self) -> str:
        """The report as a person reads it in a terminal or a dialog."""
        if not self._rules:
            return "No problems found."
        lines = [f"{self.errors} error(s), {self.warnings} warning(s)."]
        for tally in self.tallies():
            first = tally.examples[0]
            if tally.count == 1:
                lines.append(first.text())
                continue
            places = ", ".join(p.where() for p in tally.examples if p.where())
            more = tally.count - len(tally.examples)
            if places and more > 0:
                places += f" and {more} more"
            lines.append(f"{tally.severity}: {first.message} ({tally.count} times"
                         f"{': ' + places if places else ''}) {first.fix}".rstrip())
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "errors": self.errors,
            "warnings": self.warnings,
            "rules": [
                {"severity": t.severity, "rule": t.rule, "count": t.count,
                 "examples": [{"message": p.message, "fix": p.fix, "file": p.file,
                               "line": p.line, "call_id": p.call_id} for p in t.examples]}
                for t in self.tallies()
            ],
        }
