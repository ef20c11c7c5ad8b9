"""Checks on retrieval: are an output's citations real, and did retrieval find the right passage.

A passage is shown to the model under its citation id, `[policy.md#3]` (document name, chunk
number). `citations` passes when every id the output cites names a passage that call was given
(with `require_one = true`, also when at least one is cited). `retrieval-hit` passes when the
passage a test case names in a column (default `expected_source`: a document name such as
"policy.md", or one chunk, "policy.md#3") was among those retrieved; its score is the reciprocal
rank (1 for the top passage, 1/2 for the second, ...), so its mean over cases is the MRR, and
its pass rate is the hit rate: retrieval quality, measured apart from answer quality.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lab.core.checks.config import prefix
from lab.core.checks.result import CheckConfigError
from lab.core.model import Check, RetrievedChunk, TestCase

CITATION = re.compile(r"\[([^\[\]\n]+?#\d+)\]")
DEFAULT_COLUMN = "expected_source"


def citation_of(document: str, position: int) -> str:
    return f"{document}#{position}"


def cited(text: str) -> list[str]:
    """Citation ids an output names, in order, without repeats: "[faq.md#2]" -> "faq.md#2"."""
    found: list[str] = []
    for match in CITATION.finditer(text):
        if match.group(1) not in found:
            found.append(match.group(1))
    return found


def grade_citations(check: Check, output: str,
                    given: Sequence[RetrievedChunk]) -> tuple[bool, float | None, str]:
    names = cited(output)
    known = {c.citation for c in given}
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(f"[{n}]" for n in unknown)
        offered = ", ".join(f"[{c}]" for c in sorted(known)) or "none"
        return False, None, f"cites {listed}, which it was not given (given: {offered})"
    if not names:
        if check.config.get("require_one"):
            return False, None, "cites no passage; at least one citation is required"
        return True, None, "cites nothing it was not given (no citations)"
    return True, None, f"every citation names a passage it was given ({', '.join(names)})"


def grade_retrieval_hit(check: Check, case: TestCase | None,
                        given: Sequence[RetrievedChunk]) -> tuple[bool, float | None, str]:
    column = check.config.get("column", DEFAULT_COLUMN)
    wanted = str((case.vars if case else {}).get(column) or "").strip()
    if not wanted:
        raise CheckConfigError(f"{prefix(check)}: this test case has no '{column}' value naming "
                               "the passage retrieval should find; fill it in or drop the check.")
    for chunk in given:
        document = chunk.citation.rsplit("#", 1)[0]
        if wanted in (chunk.citation, document):
            return True, 1.0 / chunk.rank, f"found {wanted} at rank {chunk.rank} of {len(given)}"
    got = ", ".join(c.citation for c in given) or "nothing"
    return False, 0.0, f"{wanted} was not retrieved (got {got})"
