"""Does this installation work? The parts of `prompt-lab --smoke-test` that need no Qt.

The smoke test opens the real window on a throwaway lab home (`throwaway_home`: a temporary
LAB_HOME, so the user's workspace, settings and trusted files are never read or written), and
passes once every step in `STEPS` passed: the window painted, the sample project loaded with its
variants and test cases (`check_project`), and a python check ran in a worker process
(`check_worker`: the spawned interpreter is what a frozen bundle most easily gets wrong). It
fails on the first problem, or once `timeout_s` passed with steps still pending, and reports
either in one line (`SmokeTest.result_line`). The GUI layer (lab/gui/smoke.py) drives it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lab import APP_NAME, __version__

if TYPE_CHECKING:  # the command line reads DEFAULT_TIMEOUT_S without loading the core
    from lab.core.model import Project

PAINTED = "window painted"
LOADED = "sample project loaded"
WORKER = "python checks run in a worker process"
STEPS = (PAINTED, LOADED, WORKER)
DEFAULT_TIMEOUT_S = 60.0


class SmokeFailure(Exception):
    """A step failed; the message is the one line the user sees."""


@contextmanager
def throwaway_home() -> Iterator[Path]:
    """A temporary LAB_HOME for the duration, removed afterwards (the previous value restored)."""
    previous = os.environ.get("LAB_HOME")
    home = Path(tempfile.mkdtemp(prefix="prompt-lab-smoke-"))
    os.environ["LAB_HOME"] = str(home)
    try:
        yield home
    finally:
        if previous is None:
            os.environ.pop("LAB_HOME", None)
        else:
            os.environ["LAB_HOME"] = previous
        shutil.rmtree(home, ignore_errors=True)


def check_project(project: Project | None, variants_shown: int, cases_shown: int) -> str:
    """What the window loaded must be the sample: variants and test cases, all of them shown.
    Returns the detail for the report ("2 variants, 20 test cases")."""
    if project is None:
        raise SmokeFailure("no project was loaded")
    if not project.variants:
        raise SmokeFailure(f"the project '{project.name}' loaded without variants")
    if not project.cases:
        raise SmokeFailure(f"the project '{project.name}' loaded without test cases")
    if variants_shown != len(project.variants) or cases_shown != len(project.cases):
        raise SmokeFailure(
            f"the window shows {_count(variants_shown, 'variant')} and "
            f"{_count(cases_shown, 'test case')} of '{project.name}', which has "
            f"{len(project.variants)} and {len(project.cases)}")
    return f"{_count(len(project.variants), 'variant')}, {_count(len(project.cases), 'test case')}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def check_worker(timeout_s: float = 10.0) -> str:
    """Evaluate one python check in a worker process, as a run does."""
    from lab.core.checks.workers import ExpressionPool

    try:
        with ExpressionPool(size=1) as pool:
            passed, _score, reason = pool.evaluate("output == 'ok'", "ok", {}, timeout=timeout_s)
    except Exception as exc:  # noqa: BLE001 - any way of failing is the report
        raise SmokeFailure(f"python checks cannot run in a worker process: {one_line(exc)}") \
            from exc
    if not passed:
        raise SmokeFailure(f"python checks cannot run in a worker process: {reason}")
    return ""


def vector_search() -> str:
    """Whether embeddings retrieval can run here (an optional extra: reported, never a failure)."""
    from lab.core.retrieval.vectors import available

    return "vector search available" if available() is None else "vector search not installed"


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class SmokeTest:
    """The steps passed so far, the first failure, and the report."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    started: float = field(default_factory=time.monotonic)
    passed: dict[str, str] = field(default_factory=dict)  # step -> detail
    failure: str | None = None
    notes: list[str] = field(default_factory=list)

    def step_passed(self, step: str, detail: str = "") -> None:
        self.passed.setdefault(step, detail)

    def fail(self, why: str) -> None:
        """The first failure is the one reported."""
        if self.failure is None:
            self.failure = why

    @property
    def pending(self) -> list[str]:
        return [step for step in STEPS if step not in self.passed]

    @property
    def remaining_s(self) -> float:
        return max(0.0, self.timeout_s - (time.monotonic() - self.started))

    @property
    def finished(self) -> bool:
        return self.failure is not None or not self.pending

    def timed_out(self) -> None:
        self.fail(f"timed out after {self.timeout_s:g} s waiting for: {', '.join(self.pending)}")

    @property
    def exit_code(self) -> int:
        return 0 if self.failure is None and not self.pending else 1

    def result_line(self) -> str:
        if self.failure is None and self.pending:
            self.fail(f"stopped before: {', '.join(self.pending)}")
        if self.failure is not None:
            return f"prompt-lab: smoke test failed: {self.failure}"
        elapsed = time.monotonic() - self.started
        steps = [f"{step} ({detail})" if detail else step for step in STEPS
                 for detail in (self.passed[step],)]
        return (f"{APP_NAME} {__version__}: smoke test passed in {elapsed:.1f} s: "
                f"{'; '.join([*steps, *self.notes])}")
