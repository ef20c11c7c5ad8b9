"""What an import made of each part of the source: converted, approximated, or not converted.

Every element of the source lands in one of three lists, each entry naming where it was in the
source (`tests[3].assert[2]`), what it was, and what it became or why it could not be converted,
with the original text. `to_markdown` is the report written beside the experiment file;
`ImportResult` pairs it with the spec.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from lab.core.experiment.file import ExperimentSpec, dumps

# Keys whose values are secrets: never copied into a report or a file.
_SECRET_KEY = re.compile(r"(?i)^(api[_-]?key|.*secret.*|password|authorization|x-api-key)$")
REDACTED = "(redacted)"


class ImportFileError(Exception):
    """The source cannot be read at all; the message names the file and the place (line)."""


@dataclass
class Entry:
    where: str  # the place in the source, e.g. "tests[3].assert[2]"
    what: str  # what it was, briefly
    became: str = ""  # converted / approximated: what it became in the experiment
    reason: str = ""  # approximated / not converted: why
    original: str = ""  # the original text


@dataclass
class ImportReport:
    source: str
    kind: str  # "promptfoo", "openai-evals registry", "OpenAI Evals platform export"
    converted: list[Entry] = field(default_factory=list)
    approximated: list[Entry] = field(default_factory=list)
    not_converted: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def convert(self, where: str, what: str, became: str) -> None:
        entry = Entry(where, what, became)
        if entry not in self.converted:  # a test run with several var values converts once
            self.converted.append(entry)

    def approximate(self, where: str, what: str, became: str, reason: str,
                    original: Any = "") -> None:
        entry = Entry(where, what, became, reason, shown(original))
        if entry not in self.approximated:
            self.approximated.append(entry)

    def skip(self, where: str, what: str, reason: str, original: Any = "") -> None:
        self.not_converted.append(Entry(where, what, reason=reason, original=shown(original)))

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    @property
    def complete(self) -> bool:
        """True when nothing was left out (approximations are converted, so they count)."""
        return not self.not_converted

    def summary(self) -> str:
        return (f"{len(self.converted)} converted, {len(self.approximated)} approximated, "
                f"{len(self.not_converted)} not converted")

    def lines(self) -> list[str]:
        """The report for a terminal: the counts, then each approximation and each element left
        out, with its reason."""
        out = [f"Imported {self.source} ({self.kind}): {self.summary()}."]
        for entry in self.approximated:
            out.append(f"  approximated  {entry.where}: {entry.what} -> {entry.became}: "
                       f"{entry.reason}")
        for entry in self.not_converted:
            out.append(f"  not converted {entry.where}: {entry.what}: {entry.reason}")
        return out

    def to_markdown(self, experiment: str = "") -> str:
        title = f"# Import report: {self.source}"
        parts = [title, "", f"Source format: {self.kind}."]
        if experiment:
            parts.append(f"Experiment written: `{experiment}`.")
        parts += ["", f"**{self.summary()}.**", ""]
        if self.notes:
            parts += ["## Notes", ""] + [f"- {n}" for n in self.notes] + [""]
        parts += _section("Not converted", self.not_converted, became=False)
        parts += _section("Approximated", self.approximated, became=True)
        parts += ["## Converted", ""]
        parts += [f"- `{e.where}` {e.what} → {e.became}" for e in self.converted] or ["(nothing)"]
        return "\n".join(parts).rstrip() + "\n"


def _section(title: str, entries: list[Entry], *, became: bool) -> list[str]:
    if not entries:
        return [f"## {title}", "", "(nothing)", ""]
    out = [f"## {title}", ""]
    for e in entries:
        head = f"- `{e.where}` {e.what}"
        head += f" → {e.became}" if became and e.became else ""
        out.append(f"{head}: {e.reason}")
        if e.original:
            fence = "````" if "```" in e.original else "```"
            out += ["", f"  {fence}"] + [f"  {line}" for line in e.original.splitlines()]
            out += [f"  {fence}", ""]
    return out + [""]


def redacted(value: Any) -> Any:
    """`value` with every secret (an API key, a password, an Authorization header) replaced."""
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEY.match(str(k)) else redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value


def shown(value: Any) -> str:
    """The original text of an element: text as it was, anything else as YAML-ish JSON."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(redacted(value), indent=2, ensure_ascii=False, default=str)


@dataclass
class ImportResult:
    spec: ExperimentSpec
    report: ImportReport

    def toml(self) -> str:
        """The experiment file's text (written with the experiment file's own writer)."""
        return dumps(self.spec)
